import { type S3Client } from '@aws-sdk/client-s3';
import { type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { type FastifyInstance } from 'fastify';
import { createObjectStore, type ObjectStoreHandle } from '../adapters/object-store/object-store.factory';
import { Redis } from 'ioredis';
import { type Config } from '../config/config';
import { type Database, type DatabaseConfig, openDatabase } from '../db/database';
import { assertMigrated, migrate } from '../db/migrator';
import { findTemplate } from '../db/pglite-template';
import { buildVigilSchema, resolverContainer } from './schema';
import { createHttpServer } from '../http/server';
import { createLogger, type Logger } from '../logging/logger';
import { resolveSigningSecret } from '../uploads/signing-secret';
import { createServices, type Services, type WorkflowDeps } from './services';
import { type WorkflowEngine } from '../adapters/workflow-engine/workflow-engine.port';
import { startWorkflowEngine } from './workflows';
import { type SFNClient } from '@aws-sdk/client-sfn';
import { type AwsDetectorClients } from '../adapters/detectors/aws-detectors';
import { createDetectors } from '../adapters/detectors/detectors.factory';
import { StoredModels } from '../models/model-artifacts';
import { backboneProvider, type BackboneProvider, openBackbone } from '../adapters/backbone/backbone.factory';
import { openThreadedBackbone } from '../adapters/backbone/threaded.driver';
import { type AwsTrainerClients, createExternalDeployer, createExternalTrainer } from '../adapters/model-trainer/model-trainer.factory';
import { createEventBus } from '../adapters/event-bus/event-bus.factory';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { ConfigError } from '../config/config';
import { createHumanReview, createLookoutDatasets, type ReviewClients } from '../adapters/human-review/human-review.factory';
import { createWebhookTransport } from '../adapters/webhook-transport/webhook-transport.factory';

export interface App {
  config: Config;
  log: Logger;
  db: Database;
  services: Services;
  objectStore: ObjectStoreHandle;
  http: FastifyInstance;
  /** Live events: publish here and subscriptions hear it (through Redis, on every instance, when REDIS_URL is set). */
  events: EventBus;
  /** Where the server listens, e.g. http://127.0.0.1:4000. */
  url: string;
  /** The workflow engine the runs go to (local, or Step Functions). */
  workflows: WorkflowEngine;
  stop(): Promise<void>;
}

export interface AppOptions {
  log?: Logger;
  /** Overrides config.database, e.g. an in-memory PGlite for tests. */
  database?: DatabaseConfig;
  /** An S3 client for the s3 object store (tests pass a mocked one). */
  s3Client?: S3Client;
  /** SDK clients for AWS detectors (tests pass mocked ones). */
  awsClients?: AwsDetectorClients;
  /** An SFN client for WORKFLOW_ENGINE=stepfunctions (tests pass a mocked one). */
  sfnClient?: SFNClient;
  /** An event bus to use instead of the configured one. */
  events?: EventBus;
  /** Redis channel prefix, so parallel test runs on one Redis do not hear each other. */
  eventChannelPrefix?: string;
  /** Local engine: milliseconds between Retry attempts instead of the definitions' own (tests). */
  retryIntervalMs?: number;
  /** Local engine: the SageMaker client of Batch Transform states, and how often it polls (tests). */
  sageMakerClient?: SageMakerClient;
  transformPollMs?: number;
  /** SDK clients for A2I and Lookout dataset updates (tests pass mocked ones). */
  reviewClients?: ReviewClients;
  /** SDK clients for Lookout for Vision / SageMaker training and deployment (tests pass mocked ones). */
  trainerClients?: AwsTrainerClients;
}

/** Cloud training and deployment when the inspect detector is a cloud model; null for the built-in one. */
function externalModels(config: Config, clients?: AwsTrainerClients): WorkflowDeps['externalModels'] {
  try {
    const trainer = createExternalTrainer(config, clients);
    const deployer = createExternalDeployer(config, clients);
    return trainer && deployer ? { trainer, deployer } : null;
  } catch (err) {
    // Inference works without the training settings; trainModel and deployModel say what is missing.
    if (err instanceof ConfigError) return { unavailable: err.problems.join('; ') };
    throw err;
  }
}

export interface OpenOptions extends AppOptions {
  /** 'apply' (the server, `vigil migrate`): bring the schema up to date; 'verify' (Lambdas, workers): fail if it is not. */
  migrations?: 'apply' | 'verify';
  /** 'configured': REDIS_URL's bus when set; 'in-process': nothing to connect to (the CLI hears no subscribers). */
  eventBus?: 'configured' | 'in-process';
}

/** What openServices opened, with the one close() that releases exactly that. */
export interface OpenedServices {
  log: Logger;
  db: Database;
  objectStore: ObjectStoreHandle;
  services: Services;
  events: EventBus;
  backbone: BackboneProvider;
  /** Links point here until the server listens (and when PUBLIC_URL is not set). */
  publicUrl: { current: string };
  close(): Promise<void>;
}

async function openDatabaseFor(config: Config, options: OpenOptions, log: Logger): Promise<Database> {
  const dbConfig = options.database ?? config.database;
  const db = await openDatabase(dbConfig, {
    // A new embedded folder starts as a copy of the build's migrated template, when it was made from these migrations;
    // only where this process would migrate it anyway (a process that only verifies must find an unmigrated folder so).
    template:
      dbConfig.kind === 'pglite' && !dbConfig.dataDir.startsWith('memory://') && options.migrations !== 'verify' ? findTemplate() : null,
    // Another process may now write to the embedded database: say so, then stop (the error is thrown on).
    onLockLost: (err) => {
      log.fatal({ err }, err.message);
      throw err;
    },
  });
  try {
    if (options.migrations === 'verify') {
      await assertMigrated(db);
    } else {
      const report = await migrate(db, { log: (msg, extra) => log.info(extra, msg) });
      log.info(
        { database: db.kind, createdFrom: db.createdFrom, applied: report.applied.length, alreadyApplied: report.alreadyApplied },
        'database ready',
      );
    }
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}

/**
 * Opens the configured backbone, saying so: it loads on the first image a built-in model judges (or at start with
 * BACKBONE_WARM_AT_START=true), and its ~100 MB of weights and wasm heap stay out of a process that judges none.
 * It runs on a worker thread of its own unless BACKBONE_THREAD=false.
 */
async function loadBackbone(config: Config, log: Logger) {
  const started = performance.now();
  log.info({ backbone: config.detectors.backbone.kind }, 'loading the backbone');
  try {
    const onThread = config.detectors.backboneThread;
    const backbone = await (onThread ? openThreadedBackbone : openBackbone)(config.detectors.backbone);
    const { name, version } = backbone.identity;
    log.info({ backbone: name, version, thread: onThread, ms: Math.round(performance.now() - started) }, 'backbone ready');
    return backbone;
  } catch (err) {
    log.error({ err }, 'the backbone could not be loaded: built-in models cannot judge images');
    throw err;
  }
}

/** The database (migrated, or verified), the adapters and the services: the server, the CLI, Lambdas and tests all start here. */
export async function openServices(config: Config, options: OpenOptions = {}): Promise<OpenedServices> {
  const log = options.log ?? createLogger(config);
  const db = await openDatabaseFor(config, options, log);
  const objectStore = createObjectStore(config.objectStore, { s3Client: options.s3Client });
  const publicUrl = { current: config.uploads.publicUrl ?? `http://${config.http.host}:${config.http.port}` };
  // A bus the caller passed in is the caller's to close.
  const ownBus = !options.events;
  const events =
    options.events ??
    (options.eventBus === 'in-process'
      ? createEventBus({}, log)
      : createEventBus({ redisUrl: config.redisUrl, channelPrefix: options.eventChannelPrefix }, log));
  const storedModels = new StoredModels(db.prisma, objectStore.store);
  const backbone = backboneProvider(() => loadBackbone(config, log));
  const detectors = createDetectors(config, { store: objectStore.store, log, backbone, aws: options.awsClients, stored: storedModels });
  const webhookTransport = createWebhookTransport({ connectionsPerOrigin: config.webhooks.concurrencyPerEndpoint });
  const services = createServices(
    db,
    config,
    {
      store: objectStore.store,
      signingSecret: resolveSigningSecret(config.uploads.signingSecret, config.dataDir),
      baseUrl: () => publicUrl.current,
    },
    {
      events,
      detectors,
      bucket: s3BucketForDetectors(config),
      manifestBucket: config.objectStore.kind === 's3' ? config.objectStore.bucket : null,
      log,
      humanReview: createHumanReview(config, options.reviewClients),
      lookoutDatasets: createLookoutDatasets(config, options.reviewClients),
      storedModels,
      backbone,
      // A thread opens its own store from the settings: a client a test injected could not follow it there.
      trainingThread:
        config.models.trainingThread && !options.s3Client ? { objectStore: config.objectStore, backbone: config.detectors.backbone } : null,
      externalModels: externalModels(config, options.trainerClients),
      webhookTransport,
    },
  );
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      if (ownBus) await events.close();
      await services.webhookSender.stop();
      await webhookTransport.close();
      // Screening ahead uses the backbone: it stops first, or a picture still waiting would open the backbone again.
      await services.detections.close();
      await backbone.close();
      await db.close();
    })());
  return { log, db, objectStore, services, events, backbone, publicUrl, close };
}

/**
 * Stops accepting and lets in-flight requests finish for `graceMs`; connections still open then are cut,
 * so a client that never reads its answer cannot hold a stop (the rest of SHUTDOWN_TIMEOUT_MS is for the database).
 */
async function closeHttp(server: FastifyInstance, graceMs: number, log: Logger): Promise<void> {
  const cutOff = setTimeout(() => {
    log.warn({ graceMs }, 'requests still running at shutdown; closing their connections');
    server.server.closeAllConnections();
  }, graceMs);
  await server.close().finally(() => clearTimeout(cutOff));
}

/** MODEL_RETRAIN_INTERVAL_HOURS: every few minutes, datasets whose last training is that old and that have new labels train again. */
function startRetrainSchedule(config: Config, services: Services, log: Logger): NodeJS.Timeout | null {
  if (config.models.retrainIntervalHours <= 0) return null;
  const everyMs = Math.min(15 * 60_000, config.models.retrainIntervalHours * 3_600_000);
  const timer = setInterval(() => {
    services.modelTraining.retrainScheduled().catch((err) => log.error({ err }, 'scheduled retraining check failed'));
  }, everyMs);
  timer.unref();
  return timer;
}

/** Rekognition reads images straight from S3 only from a real AWS bucket in its own region; otherwise it is sent bytes. */
function s3BucketForDetectors(config: Config): string | null {
  const store = config.objectStore;
  return store.kind === 's3' && !store.endpoint && store.region === config.detectors.region ? store.bucket : null;
}

async function ensureAccess(config: Config, services: Services, log: Logger) {
  if (config.adminApiKey) {
    const { apiKey, created } = await services.apiKeys.ensureAdmin(config.adminApiKey);
    if (apiKey.revokedAt) log.warn('the ADMIN key given by VIGIL_ADMIN_API_KEY was revoked and stays revoked; set another secret');
    else log.info({ created }, 'ADMIN API key from VIGIL_ADMIN_API_KEY is in place');
  } else if ((await services.apiKeys.count()) === 0) {
    log.warn(
      'no API keys exist yet: restart with VIGIL_ADMIN_API_KEY=<a secret of 24+ characters> to create an ADMIN key, then send it as "Authorization: Bearer <secret>"',
    );
  }
}

export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const opened = await openServices(config, options);
  const { log, db, services, objectStore, publicUrl, events, backbone } = opened;
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false })
    : null;
  redis?.on('error', (err) => log.warn({ err: err.message }, 'redis unavailable'));
  let http: FastifyInstance | undefined;
  let engine: WorkflowEngine | undefined;
  try {
    await ensureAccess(config, services, log);
    // The engine's options (SDK clients, test timings) are AppOptions of the same names.
    engine = startWorkflowEngine(config, services, log, options);
    http = await createHttpServer({
      config,
      log,
      schema: buildVigilSchema(resolverContainer(services)),
      services,
      events,
      readiness: {
        database: () => db.ping(),
        objectStore: () => objectStore.ready(),
        ...(redis ? { redis: async () => void (redis.status === 'wait' ? await redis.connect() : await redis.ping()) } : {}),
      },
    });
    await http.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await http?.close();
    await engine?.close();
    redis?.disconnect();
    await opened.close();
    throw err;
  }
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  const url = `http://${host}:${port}`;
  if (!config.uploads.publicUrl) publicUrl.current = url;
  log.info({ url: `${url}/graphql`, database: db.kind, workflowEngine: config.workflows.engine }, 'vigil is listening');
  const workflows = engine!;
  // Runs a stopped process left unfinished carry on (local) or are watched again (Step Functions).
  services.workflowRuns.resumeInterrupted().catch((err) => log.error({ err }, 'could not resume interrupted workflow runs'));
  // Manifests a stopped process left behind the reviewed labels are written again.
  services.datasets.publishStale().catch((err) => log.error({ err }, 'could not publish dataset manifests'));
  // Trainings a stopped process left running start again (local) or are watched again (Step Functions).
  services.modelTraining.resumeInterrupted().catch((err) => log.error({ err }, 'could not resume interrupted trainings'));
  const retrainTimer = startRetrainSchedule(config, services, log);
  if (config.webhooks.send) services.webhookSender.start();
  // The built-in models' backbone loads with the first image they judge; BACKBONE_WARM_AT_START=true loads it now
  // (readiness does not wait for it either way; a failure is logged by loadBackbone and retried on first use).
  const builtin = config.detectors.screen.kind === 'builtin' || config.detectors.inspect.kind === 'builtin';
  if (builtin && config.detectors.warmBackboneAtStart) backbone.get().catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const server = http;
  return {
    config,
    log,
    db,
    services,
    objectStore,
    http: server,
    events,
    url,
    workflows,
    // Stop accepting, close subscription sockets, let in-flight requests finish, then close the event bus and the database.
    stop: () =>
      (stopping ??= (async () => {
        if (retrainTimer) clearInterval(retrainTimer);
        await closeHttp(server, config.http.shutdownTimeoutMs / 2, log);
        // Steps in progress get a quarter (a run marked done may still be tracking its defects), the database the rest.
        await workflows.close(config.http.shutdownTimeoutMs / 4);
        redis?.disconnect();
        await opened.close();
        log.info('vigil stopped');
      })()),
  };
}
