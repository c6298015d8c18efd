import path from 'node:path';
import { z } from 'zod';
import { bool, int, memorySize, postgresUrl, stateMachineArn } from './env-fields';

export const MAX_PAGE_SIZE = 500;

/**
 * PGlite's buffer cache lives in this process's memory, and PostgreSQL's default (128MB) fills as the fleet is
 * read: bench:api on the embedded database peaked at 466 MB with it and 374 MB with 32MB, at the same req/s
 * (pages beyond the cache come from the operating system's file cache).
 */
export const DEFAULT_PGLITE_SHARED_BUFFERS = '32MB';
/** How many statement texts PostgreSQL keeps prepared (src/db/prepared-statements.ts). */
export const DEFAULT_PREPARED_STATEMENTS = 64;

/** The process, HTTP, database, object store, uploads, GPS matching and workflow settings. */
export const serverEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { message: 'expected development, production or test' }).default('production'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(4000),
  DATA_DIR: z.string().min(1).default('./.vigil'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: int(1, 200).default(10),
  DATABASE_PREPARED_STATEMENTS: int(0, 10_000).default(DEFAULT_PREPARED_STATEMENTS),
  PGLITE_SHARED_BUFFERS: memorySize('1MB', '1GB').default(DEFAULT_PGLITE_SHARED_BUFFERS),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, { message: 'expected a redis://host:port URL' })
    .optional(),
  VIGIL_ADMIN_API_KEY: z
    .string()
    .min(24, { message: 'expected a secret of at least 24 characters' })
    .max(200, { message: 'expected a secret of at most 200 characters' })
    .optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      message: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  DEFAULT_PAGE_SIZE: int(1, 500).default(50),
  BODY_LIMIT_BYTES: int(1024, 50 * 1024 * 1024).default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  API_KEY_CACHE_MS: int(0, 600_000).default(5_000),
  GRAPHIQL: bool.default(true),
  GRAPHQL_EXECUTOR: z.enum(['jit', 'graphql-js'], { message: 'expected jit or graphql-js' }).default('jit'),
  HEAP_GROWTH_PERCENT: int(0, 1000).default(100),
  OBJECT_STORE: z.enum(['local', 's3'], { message: 'expected local or s3' }).default('local'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'expected an S3 bucket name' })
    .optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ENDPOINT: z.url({ message: 'expected an http(s):// URL of an S3-compatible store' }).optional(),
  S3_FORCE_PATH_STYLE: bool.optional(),
  PUBLIC_URL: z.url({ message: 'expected the http(s):// URL clients reach vigil at' }).optional(),
  UPLOAD_SIGNING_SECRET: z.string().min(32, { message: 'expected a secret of at least 32 characters' }).optional(),
  UPLOAD_URL_TTL_SECONDS: int(60, 7 * 24 * 3600).default(900),
  UPLOAD_MAX_BYTES: int(1024, 2 * 1024 * 1024 * 1024).default(25 * 1024 * 1024),
  UPLOAD_MAX_PIXELS: int(10_000, 1_000_000_000).default(50_000_000),
  UPLOAD_MIN_SIDE: int(1, 10_000).default(80),
  NORMALIZED_MAX_SIDE: int(256, 16_384).default(2048),
  THUMBNAIL_SIDE: int(32, 1024).default(256),
  TILE_SIZE: int(64, 4096).default(512),
  TILE_OVERLAP: int(0, 2048).default(64),
  GPS_MATCH_RADIUS_M: int(1, 10_000).default(50),
  GPS_MATCH_AMBIGUITY_M: int(0, 1000).default(5),
  WORKFLOW_ENGINE: z.enum(['local', 'stepfunctions'], { message: 'expected local or stepfunctions' }).default('local'),
  WORKFLOW_AUTO_START: bool.default(true),
  WORKFLOW_SCREEN_AHEAD: bool.default(true),
  WORKFLOW_MAX_RUNS: int(1, 64).default(2),
  WORKFLOW_MAP_CONCURRENCY: int(1, 40).default(4),
  SFN_DETECT_INSPECTION_ARN: stateMachineArn.optional(),
  SFN_DETECT_SURVEY_ARN: stateMachineArn.optional(),
  SFN_DETECT_INSPECTION_BATCH_ARN: stateMachineArn.optional(),
  SFN_POLL_INTERVAL_MS: int(0, 3_600_000).default(10_000),
});

export type ServerEnv = z.infer<typeof serverEnv>;

export interface ServerConfig {
  env: ServerEnv['NODE_ENV'];
  http: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    shutdownTimeoutMs: number;
    graphiql: boolean;
    /** jit: queries compiled by graphql-jit (mutations and failed queries on graphql-js); graphql-js: the interpreter for all. */
    executor: 'jit' | 'graphql-js';
  };
  /** sharedBuffers: the embedded database's buffer cache, inside this process (PGLITE_SHARED_BUFFERS); preparedStatements: DATABASE_PREPARED_STATEMENTS. */
  database:
    | { kind: 'pglite'; dataDir: string; sharedBuffers?: string; preparedStatements?: number }
    | { kind: 'postgres'; url: string; poolSize: number; preparedStatements?: number };
  dataDir: string;
  redisUrl?: string;
  adminApiKey?: string;
  logLevel: ServerEnv['LOG_LEVEL'];
  /** How far V8's old generation may grow past what its last full collection kept, in percent; 0: V8's own rule. */
  heapGrowthPercent: number;
  pagination: { defaultPageSize: number; maxPageSize: number };
  auth: { apiKeyCacheMs: number };
  objectStore: { kind: 'local'; root: string } | { kind: 's3'; bucket: string; region: string; endpoint?: string; forcePathStyle: boolean };
  uploads: {
    /** Base of the URLs vigil hands out for its own upload and download endpoints; null: the listening address. */
    publicUrl: string | null;
    /** Signs local upload/download tokens; null: a secret kept in DATA_DIR/signing.key. */
    signingSecret: string | null;
    urlTtlSeconds: number;
    limits: { maxBytes: number; maxPixels: number; minSide: number };
    derivatives: { normalizedMaxSide: number; thumbnailSide: number; tileSize: number; tileOverlap: number };
  };
  /** Survey images find their device by GPS: the nearest active one within radiusM, unless the runner-up is within ambiguityM of it. */
  gpsMatch: { radiusM: number; ambiguityM: number };
  workflows: {
    engine: 'local' | 'stepfunctions';
    /** Start the detection workflow when completeImageUploads leaves no image of the inspection pending. */
    autoStart: boolean;
    /**
     * Built-in screen on the local engine with autoStart: screen each image as it becomes READY, before its run
     * reaches it (the run takes the verdict). Otherwise ignored.
     */
    screenAhead: boolean;
    /** Local engine: executions running at once (more wait their turn). */
    maxRuns: number;
    /** Map states: images judged at once within one execution. */
    mapConcurrency: number;
    stepFunctions: {
      detectInspectionArn: string | null;
      detectSurveyArn: string | null;
      detectInspectionBatchArn: string | null;
      trainModelArn: string | null;
      pollIntervalMs: number;
    };
  };
}

/** Everything but the detectors, reviews, datasets and models; SFN_TRAIN_MODEL_ARN (a models setting) names the training workflow. */
export function serverConfig(e: ServerEnv & { SFN_TRAIN_MODEL_ARN?: string }, dataDir: string): ServerConfig {
  return {
    env: e.NODE_ENV,
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      graphiql: e.GRAPHIQL,
      executor: e.GRAPHQL_EXECUTOR,
    },
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, preparedStatements: e.DATABASE_PREPARED_STATEMENTS }
      : {
          kind: 'pglite',
          dataDir: path.join(dataDir, 'db'),
          sharedBuffers: e.PGLITE_SHARED_BUFFERS,
          preparedStatements: e.DATABASE_PREPARED_STATEMENTS,
        },
    dataDir,
    redisUrl: e.REDIS_URL,
    adminApiKey: e.VIGIL_ADMIN_API_KEY,
    logLevel: e.LOG_LEVEL,
    heapGrowthPercent: e.HEAP_GROWTH_PERCENT,
    pagination: { defaultPageSize: e.DEFAULT_PAGE_SIZE, maxPageSize: MAX_PAGE_SIZE },
    auth: { apiKeyCacheMs: e.API_KEY_CACHE_MS },
    objectStore:
      e.OBJECT_STORE === 's3'
        ? {
            kind: 's3',
            bucket: e.S3_BUCKET!,
            region: e.S3_REGION,
            endpoint: e.S3_ENDPOINT,
            forcePathStyle: e.S3_FORCE_PATH_STYLE ?? !!e.S3_ENDPOINT,
          }
        : { kind: 'local', root: path.join(dataDir, 'objects') },
    uploads: {
      publicUrl: e.PUBLIC_URL?.replace(/\/+$/, '') ?? null,
      signingSecret: e.UPLOAD_SIGNING_SECRET ?? null,
      urlTtlSeconds: e.UPLOAD_URL_TTL_SECONDS,
      limits: { maxBytes: e.UPLOAD_MAX_BYTES, maxPixels: e.UPLOAD_MAX_PIXELS, minSide: e.UPLOAD_MIN_SIDE },
      derivatives: {
        normalizedMaxSide: e.NORMALIZED_MAX_SIDE,
        thumbnailSide: e.THUMBNAIL_SIDE,
        tileSize: e.TILE_SIZE,
        tileOverlap: e.TILE_OVERLAP,
      },
    },
    gpsMatch: { radiusM: e.GPS_MATCH_RADIUS_M, ambiguityM: e.GPS_MATCH_AMBIGUITY_M },
    workflows: {
      engine: e.WORKFLOW_ENGINE,
      autoStart: e.WORKFLOW_AUTO_START,
      screenAhead: e.WORKFLOW_SCREEN_AHEAD,
      maxRuns: e.WORKFLOW_MAX_RUNS,
      mapConcurrency: e.WORKFLOW_MAP_CONCURRENCY,
      stepFunctions: {
        detectInspectionArn: e.SFN_DETECT_INSPECTION_ARN ?? null,
        detectSurveyArn: e.SFN_DETECT_SURVEY_ARN ?? null,
        detectInspectionBatchArn: e.SFN_DETECT_INSPECTION_BATCH_ARN ?? null,
        trainModelArn: e.SFN_TRAIN_MODEL_ARN ?? null,
        pollIntervalMs: e.SFN_POLL_INTERVAL_MS,
      },
    },
  };
}
