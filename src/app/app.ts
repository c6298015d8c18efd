import { type S3Client } from '@aws-sdk/client-s3';
import { type FastifyInstance } from 'fastify';
import { createObjectStore, type ObjectStoreHandle } from '../adapters/object-store/object-store.factory';
import { Redis } from 'ioredis';
import { type Config } from '../config/config';
import { type Database, type DatabaseConfig, openDatabase } from '../db/database';
import { migrate } from '../db/migrator';
import { buildVigilSchema } from '../graphql/schema';
import { createHttpServer } from '../http/server';
import { createLogger, type Logger } from '../logging/logger';
import { resolveSigningSecret } from '../uploads/signing-secret';
import { createServices, type Services } from './services';

export interface App {
  config: Config;
  log: Logger;
  db: Database;
  services: Services;
  objectStore: ObjectStoreHandle;
  http: FastifyInstance;
  /** Where the server listens, e.g. http://127.0.0.1:4000. */
  url: string;
  stop(): Promise<void>;
}

export interface AppOptions {
  log?: Logger;
  /** Overrides config.database, e.g. an in-memory PGlite for tests. */
  database?: DatabaseConfig;
  /** An S3 client for the s3 object store (tests pass a mocked one). */
  s3Client?: S3Client;
}

/** Opens and migrates the database; the server, the CLI and tests all start here. */
export async function openServices(config: Config, options: AppOptions = {}) {
  const log = options.log ?? createLogger(config);
  const dbConfig = options.database ?? config.database;
  const db = await openDatabase(dbConfig);
  try {
    const report = await migrate(db, { log: (msg, extra) => log.info(extra, msg) });
    log.info({ database: db.kind, applied: report.applied.length, alreadyApplied: report.alreadyApplied }, 'database ready');
    const objectStore = createObjectStore(config.objectStore, { s3Client: options.s3Client });
    // Until the server listens (and when PUBLIC_URL is not set) links point at the configured address.
    const publicUrl = { current: config.uploads.publicUrl ?? `http://${config.http.host}:${config.http.port}` };
    const services = createServices(db, config, {
      store: objectStore.store,
      signingSecret: resolveSigningSecret(config.uploads.signingSecret, config.dataDir),
      baseUrl: () => publicUrl.current,
    });
    return { log, db, objectStore, services, publicUrl };
  } catch (err) {
    await db.close();
    throw err;
  }
}

async function ensureAccess(config: Config, services: Services, log: Logger) {
  if (config.adminApiKey) {
    const { apiKey, created } = await services.apiKeys.ensureAdmin(config.adminApiKey);
    if (apiKey.revokedAt) log.warn('the ADMIN key given by VIGIL_ADMIN_API_KEY was revoked and stays revoked; set another secret');
    else log.info({ created }, 'ADMIN API key from VIGIL_ADMIN_API_KEY is in place');
  } else if ((await services.apiKeys.count()) === 0) {
    log.warn('no API keys exist yet: restart with VIGIL_ADMIN_API_KEY=<a secret of 24+ characters> to create an ADMIN key, then send it as "Authorization: Bearer <secret>"');
  }
}

export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const { log, db, services, objectStore, publicUrl } = await openServices(config, options);
  const redis = config.redisUrl ? new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false }) : null;
  redis?.on('error', (err) => log.warn({ err: err.message }, 'redis unavailable'));
  let http: FastifyInstance | undefined;
  try {
    await ensureAccess(config, services, log);
    http = await createHttpServer({
      config,
      log,
      schema: buildVigilSchema(),
      services,
      readiness: {
        database: () => db.ping(),
        objectStore: () => objectStore.ready(),
        ...(redis ? { redis: async () => void (redis.status === 'wait' ? await redis.connect() : await redis.ping()) } : {}),
      },
    });
    await http.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await http?.close();
    redis?.disconnect();
    await db.close();
    throw err;
  }
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  const url = `http://${host}:${port}`;
  if (!config.uploads.publicUrl) publicUrl.current = url;
  log.info({ url: `${url}/graphql`, database: db.kind }, 'vigil is listening');

  let stopping: Promise<void> | undefined;
  const server = http;
  return {
    config,
    log,
    db,
    services,
    objectStore,
    http: server,
    url,
    // Stop accepting, let in-flight requests finish, then close the database.
    stop: () =>
      (stopping ??= (async () => {
        await server.close();
        redis?.disconnect();
        await db.close();
        log.info('vigil stopped');
      })()),
  };
}
