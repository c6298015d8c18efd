import path from 'node:path';
import { z } from 'zod';

// The only module that reads process.env: everything else receives a typed Config.

const bool = z
  .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1');

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: 'expected a whole number' })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `expected a whole number from ${min} to ${max}` })
    .max(max, { message: `expected a whole number from ${min} to ${max}` });

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/.+/, { message: 'expected a postgresql://user@host:port/database URL' });

const stateMachineArn = z.string().regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/, {
  message: 'expected a Step Functions state machine ARN',
});
const priceTable = z.record(z.string(), z.number().min(0).max(100));

/**
 * US dollars per detector call. AWS list prices (us-east-1, first tier); services priced per
 * inference hour are turned into a per-image figure at one image per second of a running unit
 * ($4/h ÷ 3600). The built-in models record what the AWS call they stand in for would cost.
 */
export const DEFAULT_PRICES_USD: Record<string, number> = {
  'rekognition-labels': 0.001,
  'rekognition-custom-labels': 4 / 3600,
  'lookout-for-vision': 4 / 3600,
  sagemaker: 0.23 / 3600,
  'builtin-screen': 0.001,
  'builtin-inspect': 4 / 3600,
};

const baseSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { message: 'expected development, production or test' }).default('production'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(4000),
  DATA_DIR: z.string().min(1).default('./.vigil'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: int(1, 200).default(10),
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/, { message: 'expected a redis://host:port URL' }).optional(),
  VIGIL_ADMIN_API_KEY: z
    .string()
    .min(24, { message: 'expected a secret of at least 24 characters' })
    .max(200, { message: 'expected a secret of at most 200 characters' })
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'expected one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
  DEFAULT_PAGE_SIZE: int(1, 500).default(50),
  BODY_LIMIT_BYTES: int(1024, 50 * 1024 * 1024).default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  API_KEY_CACHE_MS: int(0, 600_000).default(5_000),
  GRAPHIQL: bool.default(true),
  OBJECT_STORE: z.enum(['local', 's3'], { message: 'expected local or s3' }).default('local'),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'expected an S3 bucket name' }).optional(),
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
  WORKFLOW_MAX_RUNS: int(1, 64).default(2),
  WORKFLOW_MAP_CONCURRENCY: int(1, 40).default(4),
  SFN_DETECT_INSPECTION_ARN: stateMachineArn.optional(),
  SFN_DETECT_SURVEY_ARN: stateMachineArn.optional(),
  SFN_POLL_INTERVAL_MS: int(0, 3_600_000).default(10_000),
  AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'expected an AWS region such as us-east-1' }).default('us-east-1'),
  VIGIL_MODELS_DIR: z.string().min(1).optional(),
  BACKBONE: z.enum(['mobilenet', 'onnx'], { message: 'expected mobilenet or onnx' }).default('mobilenet'),
  BACKBONE_THREADS: int(1, 64).default(1),
  BACKBONE_ONNX_FILE: z.string().min(1).optional(),
  BACKBONE_ONNX_TAPS: z
    .string()
    .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.string()).min(1, { message: 'expected comma-separated tensor names' }).max(8, { message: 'expected at most 8 tensor names' }))
    .optional(),
  BACKBONE_ONNX_STRIDES: z
    .string()
    .transform((s, ctx) => {
      const values = s.split(',').map((t) => Number(t.trim()));
      if (!values.every((v) => Number.isInteger(v) && v >= 1 && v <= 64)) ctx.addIssue({ code: 'custom', message: 'expected comma-separated whole numbers from 1 to 64' });
      return values;
    })
    .optional(),
  BACKBONE_ONNX_INPUT_SIZE: z
    .string()
    .regex(/^(dynamic|[1-9][0-9]{1,3}x[1-9][0-9]{1,3})$/, { message: 'expected dynamic or WIDTHxHEIGHT, e.g. 224x224' })
    .default('dynamic'),
  BACKBONE_ONNX_MEAN: z
    .string()
    .default('0.485,0.456,0.406')
    .transform((s, ctx) => {
      const values = s.split(',').map((t) => Number(t.trim()));
      if (values.length !== 3 || !values.every(Number.isFinite)) ctx.addIssue({ code: 'custom', message: 'expected three numbers (R,G,B)' });
      return values as [number, number, number];
    }),
  BACKBONE_ONNX_STD: z
    .string()
    .default('0.229,0.224,0.225')
    .transform((s, ctx) => {
      const values = s.split(',').map((t) => Number(t.trim()));
      if (values.length !== 3 || !values.every((v) => Number.isFinite(v) && v > 0)) ctx.addIssue({ code: 'custom', message: 'expected three positive numbers (R,G,B)' });
      return values as [number, number, number];
    }),
  SCREEN_DETECTOR: z.enum(['builtin', 'rekognition-labels', 'rekognition-custom-labels'], { message: 'expected builtin, rekognition-labels or rekognition-custom-labels' }).default('builtin'),
  REKOGNITION_LABELS: z.string().min(1).default('Crack,Rust,Corrosion,Damage,Broken,Fire,Smoke,Burnt'),
  REKOGNITION_MIN_CONFIDENCE: z.coerce.number({ message: 'expected a number from 0 to 100' }).min(0).max(100).default(60),
  REKOGNITION_PROJECT_VERSION_ARN: z.string().regex(/^arn:aws[a-z-]*:rekognition:/, { message: 'expected a Rekognition project version ARN' }).optional(),
  INSPECT_DETECTOR: z.enum(['builtin', 'lookout-for-vision', 'sagemaker'], { message: 'expected builtin, lookout-for-vision or sagemaker' }).default('builtin'),
  LOOKOUT_PROJECT_NAME: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/, { message: 'expected a Lookout for Vision project name' }).optional(),
  LOOKOUT_MODEL_VERSION: z.string().regex(/^[1-9][0-9]*$/, { message: 'expected a model version number' }).optional(),
  SAGEMAKER_ENDPOINT_NAME: z.string().regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, { message: 'expected a SageMaker endpoint name' }).optional(),
  INSPECT_REVIEW_BELOW: z.coerce.number({ message: 'expected a number from 0 to 1' }).min(0).max(1).default(0.75),
  HUMAN_REVIEW: z.enum(['builtin', 'a2i'], { message: 'expected builtin or a2i' }).default('builtin'),
  A2I_FLOW_DEFINITION_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:flow-definition\/[a-z0-9](-*[a-z0-9]){0,62}$/, { message: 'expected a SageMaker A2I flow definition ARN' })
    .optional(),
  A2I_MAX_LOOPS: int(1, 5).default(2),
  REVIEW_CONSENSUS: int(1, 3).default(1),
  REVIEW_LEASE_SECONDS: int(1, 86_400).default(600),
  REVIEW_QA_SHARE: z.coerce.number({ message: 'expected a number from 0 to 1' }).min(0, { message: 'expected a number from 0 to 1' }).max(1, { message: 'expected a number from 0 to 1' }).default(0.05),
  REVIEW_LEARNING_PER_RUN: int(0, 1000).default(10),
  REVIEW_LEARNING_PER_DAY: int(0, 1_000_000).default(200),
  ANOMALY_TYPES: z
    .string()
    .default('crack,chip,corrosion,contamination,burn,broken,missing-part,other')
    .transform((s) => [...new Set(s.split(',').map((t) => t.trim()).filter(Boolean))])
    .pipe(
      z
        .array(z.string().regex(/^[a-z0-9][a-z0-9 _-]{0,49}$/, { message: 'expected lowercase names (letters, digits, space, - or _), at most 50 characters' }))
        .min(1, { message: 'expected at least one anomaly type' })
        .max(30, { message: 'expected at most 30 anomaly types' }),
    ),
  DATASET_TEST_SHARE: z.coerce.number({ message: 'expected a number from 0 to 0.9' }).min(0, { message: 'expected a number from 0 to 0.9' }).max(0.9, { message: 'expected a number from 0 to 0.9' }).default(0.2),
  LOOKOUT_DATASET_PROJECT: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/, { message: 'expected a Lookout for Vision project name' }).optional(),
  MODEL_RETRAIN_AFTER_LABELS: int(0, 1_000_000).default(50),
  MODEL_RETRAIN_INTERVAL_HOURS: int(0, 24 * 365).default(0),
  MODEL_AUTO_DEPLOY: bool.default(true),
  MODEL_GATE_RECALL_MARGIN: z.coerce.number({ message: 'expected a number from 0 to 1' }).min(0, { message: 'expected a number from 0 to 1' }).max(1, { message: 'expected a number from 0 to 1' }).default(0.02),
  MODEL_GATE_F1_MARGIN: z.coerce.number({ message: 'expected a number from 0 to 1' }).min(0, { message: 'expected a number from 0 to 1' }).max(1, { message: 'expected a number from 0 to 1' }).default(0.02),
  MODEL_GATE_AUROC_MARGIN: z.coerce.number({ message: 'expected a number from 0 to 1' }).min(0, { message: 'expected a number from 0 to 1' }).max(1, { message: 'expected a number from 0 to 1' }).default(0.01),
  MODEL_GATE_PRECISION_MARGIN: z.coerce.number({ message: 'expected a number from 0 to 1' }).min(0, { message: 'expected a number from 0 to 1' }).max(1, { message: 'expected a number from 0 to 1' }).default(0.02),
  MODEL_HEALTH_WINDOW: int(10, 100_000).default(200),
  MODEL_HEALTH_MIN_SAMPLES: int(1, 100_000).default(20),
  MODEL_HEALTH_FLOOR: z.coerce.number({ message: 'expected a number from 0 to 1' }).min(0, { message: 'expected a number from 0 to 1' }).max(1, { message: 'expected a number from 0 to 1' }).default(0.8),
  MODEL_TRAINING_POLL_SECONDS: int(1, 3600).default(60),
  SFN_TRAIN_MODEL_ARN: stateMachineArn.optional(),
  LOOKOUT_MIN_INFERENCE_UNITS: int(1, 100).default(1),
  LOOKOUT_MAX_INFERENCE_UNITS: int(1, 100).optional(),
  LOOKOUT_OUTPUT_S3_URI: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, { message: 'expected s3://bucket/prefix' }).optional(),
  SAGEMAKER_TRAINING_IMAGE: z.string().regex(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/.+$/, { message: 'expected an ECR image URI (123456789012.dkr.ecr.<region>.amazonaws.com/name:tag)' }).optional(),
  SAGEMAKER_INFERENCE_IMAGE: z.string().regex(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/.+$/, { message: 'expected an ECR image URI (123456789012.dkr.ecr.<region>.amazonaws.com/name:tag)' }).optional(),
  SAGEMAKER_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { message: 'expected an IAM role ARN' }).optional(),
  SAGEMAKER_OUTPUT_S3_URI: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, { message: 'expected s3://bucket/prefix' }).optional(),
  SAGEMAKER_TRAINING_INSTANCE_TYPE: z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, { message: 'expected a SageMaker instance type like ml.g4dn.xlarge' }).default('ml.g4dn.xlarge'),
  SAGEMAKER_ENDPOINT_INSTANCE_TYPE: z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, { message: 'expected a SageMaker instance type like ml.m5.xlarge' }).default('ml.m5.xlarge'),
  SAGEMAKER_MAX_TRAINING_SECONDS: int(60, 28 * 86_400).default(86_400),
  DETECTOR_PRICES_USD: z
    .string()
    .transform((s, ctx) => {
      try {
        return priceTable.parse(JSON.parse(s));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON object of detector name → US dollars per call, e.g. {"rekognition-labels":0.001}' });
        return z.NEVER;
      }
    })
    .optional(),
});

/** Every setting vigil reads, with its default. README's configuration table lists the same names. */
export const envSchema = baseSchema.superRefine((env, ctx) => {
  if (env.OBJECT_STORE === 's3' && !env.S3_BUCKET) {
    ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'required when OBJECT_STORE=s3' });
  }
  const requires = (when: boolean, name: keyof typeof env, why: string) => {
    if (when && !env[name]) ctx.addIssue({ code: 'custom', path: [name], message: `required when ${why}` });
  };
  requires(env.WORKFLOW_ENGINE === 'stepfunctions', 'SFN_DETECT_INSPECTION_ARN', 'WORKFLOW_ENGINE=stepfunctions');
  requires(env.SCREEN_DETECTOR === 'rekognition-custom-labels', 'REKOGNITION_PROJECT_VERSION_ARN', 'SCREEN_DETECTOR=rekognition-custom-labels');
  requires(env.INSPECT_DETECTOR === 'lookout-for-vision', 'LOOKOUT_PROJECT_NAME', 'INSPECT_DETECTOR=lookout-for-vision');
  requires(env.INSPECT_DETECTOR === 'lookout-for-vision', 'LOOKOUT_MODEL_VERSION', 'INSPECT_DETECTOR=lookout-for-vision');
  requires(env.INSPECT_DETECTOR === 'sagemaker', 'SAGEMAKER_ENDPOINT_NAME', 'INSPECT_DETECTOR=sagemaker');
  requires(env.HUMAN_REVIEW === 'a2i', 'A2I_FLOW_DEFINITION_ARN', 'HUMAN_REVIEW=a2i');
  requires(env.BACKBONE === 'onnx', 'BACKBONE_ONNX_FILE', 'BACKBONE=onnx');
  requires(env.BACKBONE === 'onnx', 'BACKBONE_ONNX_TAPS', 'BACKBONE=onnx');
  requires(env.BACKBONE === 'onnx', 'BACKBONE_ONNX_STRIDES', 'BACKBONE=onnx');
  if (env.BACKBONE_ONNX_TAPS && env.BACKBONE_ONNX_STRIDES && env.BACKBONE_ONNX_TAPS.length !== env.BACKBONE_ONNX_STRIDES.length) {
    ctx.addIssue({ code: 'custom', path: ['BACKBONE_ONNX_STRIDES'], message: `expected one stride per tap (${env.BACKBONE_ONNX_TAPS.length})` });
  }
  if (env.HUMAN_REVIEW === 'a2i' && env.OBJECT_STORE !== 's3') {
    ctx.addIssue({ code: 'custom', path: ['HUMAN_REVIEW'], message: 'a2i needs OBJECT_STORE=s3: A2I workers load images from S3' });
  }
  if (env.HUMAN_REVIEW === 'a2i' && env.ANOMALY_TYPES.length > 10) {
    ctx.addIssue({ code: 'custom', path: ['ANOMALY_TYPES'], message: "at most 10 types with HUMAN_REVIEW=a2i: A2I's bounding-box tool takes at most 10 labels" });
  }
  if (env.LOOKOUT_DATASET_PROJECT && env.OBJECT_STORE !== 's3') {
    ctx.addIssue({ code: 'custom', path: ['LOOKOUT_DATASET_PROJECT'], message: 'needs OBJECT_STORE=s3: Lookout for Vision reads dataset images from S3' });
  }
  if (env.LOOKOUT_MAX_INFERENCE_UNITS !== undefined && env.LOOKOUT_MAX_INFERENCE_UNITS < env.LOOKOUT_MIN_INFERENCE_UNITS) {
    ctx.addIssue({ code: 'custom', path: ['LOOKOUT_MAX_INFERENCE_UNITS'], message: `must be at least LOOKOUT_MIN_INFERENCE_UNITS (${env.LOOKOUT_MIN_INFERENCE_UNITS})` });
  }
  if (env.TILE_OVERLAP >= env.TILE_SIZE) {
    ctx.addIssue({ code: 'custom', path: ['TILE_OVERLAP'], message: `must be smaller than TILE_SIZE (${env.TILE_SIZE})` });
  }
});

/** The variable names, for checks that compare deployment files with this module. */
export const ENV_NAMES = Object.keys(baseSchema.shape);

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  http: { host: string; port: number; bodyLimitBytes: number; shutdownTimeoutMs: number; graphiql: boolean };
  database:
    | { kind: 'pglite'; dataDir: string }
    | { kind: 'postgres'; url: string; poolSize: number };
  dataDir: string;
  redisUrl?: string;
  adminApiKey?: string;
  logLevel: Env['LOG_LEVEL'];
  pagination: { defaultPageSize: number; maxPageSize: number };
  auth: { apiKeyCacheMs: number };
  objectStore:
    | { kind: 'local'; root: string }
    | { kind: 's3'; bucket: string; region: string; endpoint?: string; forcePathStyle: boolean };
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
    /** Local engine: executions running at once (more wait their turn). */
    maxRuns: number;
    /** Map states: images judged at once within one execution. */
    mapConcurrency: number;
    stepFunctions: { detectInspectionArn: string | null; detectSurveyArn: string | null; trainModelArn: string | null; pollIntervalMs: number };
  };
  detectors: {
    region: string;
    /** Built-in models: <modelsDir>/<deviceType>/screen and …/inspect, files written by `vigil model train`. */
    modelsDir: string;
    screen:
      | { kind: 'builtin' }
      | { kind: 'rekognition-labels'; labels: string[]; minConfidence: number }
      | { kind: 'rekognition-custom-labels'; projectVersionArn: string; minConfidence: number };
    inspect:
      | { kind: 'builtin' }
      | { kind: 'lookout-for-vision'; projectName: string; modelVersion: string; reviewBelow: number }
      | { kind: 'sagemaker'; endpointName: string; reviewBelow: number };
    /** US dollars per call, by detector name. */
    prices: Record<string, number>;
    /** The pretrained network whose features the built-in model learns on. */
    backbone: BackboneConfig;
  };
  reviews: {
    humanReview: { kind: 'builtin' } | { kind: 'a2i'; flowDefinitionArn: string; maxLoops: number };
    /** Answers a task needs (1–3); disagreement escalates to an ADMIN. */
    consensus: number;
    leaseSeconds: number;
    /** Share of confident verdicts also sent to review, to measure the model without bias. */
    qaShare: number;
    /** Confident verdicts also sent to review for active learning, most uncertain first: at most perRun per run, perDay per device type and UTC day (0: none). */
    learning: { perRun: number; perDay: number };
    anomalyTypes: string[];
  };
  datasets: {
    testShare: number;
    /** Lookout for Vision project that receives reviewed entries by UpdateDatasetEntries; null: none. */
    lookoutProject: string | null;
  };
  models: {
    /** Train again once this many reviewed entries arrived since the dataset's last training; 0: never on count. */
    retrainAfterLabels: number;
    /** Train again when the last training is this old and new labels exist; 0: no schedule. */
    retrainIntervalHours: number;
    /** An automatic training deploys its model when it passes the gate. */
    autoDeploy: boolean;
    /** How much worse (absolute) than the active version a candidate may be and still deploy. */
    gate: { recallMargin: number; f1Margin: number; aurocMargin: number; precisionMargin: number };
    /** Agreement monitor: the last `window` SAMPLED_QA verdicts; an estimate under `floor` from at least `minSamples` is drift. */
    health: { window: number; minSamples: number; floor: number };
    /** Seconds between status checks of a training running in AWS. */
    pollSeconds: number;
    lookout: { minInferenceUnits: number; maxInferenceUnits: number | null; outputS3Uri: string | null };
    /** SageMaker training; null until SAGEMAKER_TRAINING_IMAGE, SAGEMAKER_ROLE_ARN and SAGEMAKER_OUTPUT_S3_URI are set. */
    sagemaker: {
      trainingImage: string;
      inferenceImage: string;
      roleArn: string;
      outputS3Uri: string;
      trainingInstanceType: string;
      endpointInstanceType: string;
      maxTrainingSeconds: number;
    } | null;
  };
}

/** The image-features port (src/adapters/backbone): nsfwjs's MobileNetV2 by default, or an operator's ONNX export. */
export type BackboneConfig =
  | { kind: 'mobilenet'; threads: number }
  | {
      kind: 'onnx';
      threads: number;
      file: string;
      /** Tensor names to tap, and the stride of each (input pixels per feature cell). */
      taps: string[];
      strides: number[];
      /** null: the network takes any size (sides a multiple of the largest stride). */
      inputSize: { width: number; height: number } | null;
      mean: [number, number, number];
      std: [number, number, number];
    };

export const MAX_PAGE_SIZE = 500;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws ConfigError naming each bad variable and what it expects. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in docker-compose files with `VAR: ${VAR:-}`.
  const cleaned = Object.fromEntries(
    ENV_NAMES.map((k) => [k, source[k] === '' ? undefined : source[k]]),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${String(i.path[0])}=${JSON.stringify(cleaned[String(i.path[0])] ?? '')}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT, bodyLimitBytes: e.BODY_LIMIT_BYTES, shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS, graphiql: e.GRAPHIQL },
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE }
      : { kind: 'pglite', dataDir: path.join(dataDir, 'db') },
    dataDir,
    redisUrl: e.REDIS_URL,
    adminApiKey: e.VIGIL_ADMIN_API_KEY,
    logLevel: e.LOG_LEVEL,
    pagination: { defaultPageSize: e.DEFAULT_PAGE_SIZE, maxPageSize: MAX_PAGE_SIZE },
    auth: { apiKeyCacheMs: e.API_KEY_CACHE_MS },
    objectStore:
      e.OBJECT_STORE === 's3'
        ? { kind: 's3', bucket: e.S3_BUCKET!, region: e.S3_REGION, endpoint: e.S3_ENDPOINT, forcePathStyle: e.S3_FORCE_PATH_STYLE ?? !!e.S3_ENDPOINT }
        : { kind: 'local', root: path.join(dataDir, 'objects') },
    uploads: {
      publicUrl: e.PUBLIC_URL?.replace(/\/+$/, '') ?? null,
      signingSecret: e.UPLOAD_SIGNING_SECRET ?? null,
      urlTtlSeconds: e.UPLOAD_URL_TTL_SECONDS,
      limits: { maxBytes: e.UPLOAD_MAX_BYTES, maxPixels: e.UPLOAD_MAX_PIXELS, minSide: e.UPLOAD_MIN_SIDE },
      derivatives: { normalizedMaxSide: e.NORMALIZED_MAX_SIDE, thumbnailSide: e.THUMBNAIL_SIDE, tileSize: e.TILE_SIZE, tileOverlap: e.TILE_OVERLAP },
    },
    gpsMatch: { radiusM: e.GPS_MATCH_RADIUS_M, ambiguityM: e.GPS_MATCH_AMBIGUITY_M },
    workflows: {
      engine: e.WORKFLOW_ENGINE,
      autoStart: e.WORKFLOW_AUTO_START,
      maxRuns: e.WORKFLOW_MAX_RUNS,
      mapConcurrency: e.WORKFLOW_MAP_CONCURRENCY,
      stepFunctions: {
        detectInspectionArn: e.SFN_DETECT_INSPECTION_ARN ?? null,
        detectSurveyArn: e.SFN_DETECT_SURVEY_ARN ?? null,
        trainModelArn: e.SFN_TRAIN_MODEL_ARN ?? null,
        pollIntervalMs: e.SFN_POLL_INTERVAL_MS,
      },
    },
    detectors: {
      region: e.AWS_REGION,
      modelsDir: path.resolve(e.VIGIL_MODELS_DIR ?? path.join(dataDir, 'models')),
      screen:
        e.SCREEN_DETECTOR === 'rekognition-labels'
          ? { kind: 'rekognition-labels', labels: e.REKOGNITION_LABELS.split(',').map((l) => l.trim()).filter(Boolean), minConfidence: e.REKOGNITION_MIN_CONFIDENCE }
          : e.SCREEN_DETECTOR === 'rekognition-custom-labels'
            ? { kind: 'rekognition-custom-labels', projectVersionArn: e.REKOGNITION_PROJECT_VERSION_ARN!, minConfidence: e.REKOGNITION_MIN_CONFIDENCE }
            : { kind: 'builtin' },
      inspect:
        e.INSPECT_DETECTOR === 'lookout-for-vision'
          ? { kind: 'lookout-for-vision', projectName: e.LOOKOUT_PROJECT_NAME!, modelVersion: e.LOOKOUT_MODEL_VERSION!, reviewBelow: e.INSPECT_REVIEW_BELOW }
          : e.INSPECT_DETECTOR === 'sagemaker'
            ? { kind: 'sagemaker', endpointName: e.SAGEMAKER_ENDPOINT_NAME!, reviewBelow: e.INSPECT_REVIEW_BELOW }
            : { kind: 'builtin' },
      prices: { ...DEFAULT_PRICES_USD, ...(e.DETECTOR_PRICES_USD ?? {}) },
      backbone:
        e.BACKBONE === 'onnx'
          ? {
              kind: 'onnx',
              threads: e.BACKBONE_THREADS,
              file: path.resolve(e.BACKBONE_ONNX_FILE!),
              taps: e.BACKBONE_ONNX_TAPS!,
              strides: e.BACKBONE_ONNX_STRIDES!,
              inputSize: e.BACKBONE_ONNX_INPUT_SIZE === 'dynamic' ? null : { width: Number(e.BACKBONE_ONNX_INPUT_SIZE.split('x')[0]), height: Number(e.BACKBONE_ONNX_INPUT_SIZE.split('x')[1]) },
              mean: e.BACKBONE_ONNX_MEAN,
              std: e.BACKBONE_ONNX_STD,
            }
          : { kind: 'mobilenet', threads: e.BACKBONE_THREADS },
    },
    reviews: {
      humanReview: e.HUMAN_REVIEW === 'a2i' ? { kind: 'a2i', flowDefinitionArn: e.A2I_FLOW_DEFINITION_ARN!, maxLoops: e.A2I_MAX_LOOPS } : { kind: 'builtin' },
      consensus: e.REVIEW_CONSENSUS,
      leaseSeconds: e.REVIEW_LEASE_SECONDS,
      qaShare: e.REVIEW_QA_SHARE,
      learning: { perRun: e.REVIEW_LEARNING_PER_RUN, perDay: e.REVIEW_LEARNING_PER_DAY },
      anomalyTypes: e.ANOMALY_TYPES,
    },
    datasets: { testShare: e.DATASET_TEST_SHARE, lookoutProject: e.LOOKOUT_DATASET_PROJECT ?? null },
    models: {
      retrainAfterLabels: e.MODEL_RETRAIN_AFTER_LABELS,
      retrainIntervalHours: e.MODEL_RETRAIN_INTERVAL_HOURS,
      autoDeploy: e.MODEL_AUTO_DEPLOY,
      gate: { recallMargin: e.MODEL_GATE_RECALL_MARGIN, f1Margin: e.MODEL_GATE_F1_MARGIN, aurocMargin: e.MODEL_GATE_AUROC_MARGIN, precisionMargin: e.MODEL_GATE_PRECISION_MARGIN },
      health: { window: e.MODEL_HEALTH_WINDOW, minSamples: e.MODEL_HEALTH_MIN_SAMPLES, floor: e.MODEL_HEALTH_FLOOR },
      pollSeconds: e.MODEL_TRAINING_POLL_SECONDS,
      lookout: { minInferenceUnits: e.LOOKOUT_MIN_INFERENCE_UNITS, maxInferenceUnits: e.LOOKOUT_MAX_INFERENCE_UNITS ?? null, outputS3Uri: e.LOOKOUT_OUTPUT_S3_URI ?? null },
      sagemaker:
        e.SAGEMAKER_TRAINING_IMAGE && e.SAGEMAKER_ROLE_ARN && e.SAGEMAKER_OUTPUT_S3_URI
          ? {
              trainingImage: e.SAGEMAKER_TRAINING_IMAGE,
              inferenceImage: e.SAGEMAKER_INFERENCE_IMAGE ?? e.SAGEMAKER_TRAINING_IMAGE,
              roleArn: e.SAGEMAKER_ROLE_ARN,
              outputS3Uri: e.SAGEMAKER_OUTPUT_S3_URI,
              trainingInstanceType: e.SAGEMAKER_TRAINING_INSTANCE_TYPE,
              endpointInstanceType: e.SAGEMAKER_ENDPOINT_INSTANCE_TYPE,
              maxTrainingSeconds: e.SAGEMAKER_MAX_TRAINING_SECONDS,
            }
          : null,
    },
  };
}
