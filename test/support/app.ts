import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type App, type AppOptions, startApp } from '../../src/app/app';
import { type Role } from '../../src/auth/roles';
import { loadConfig } from '../../src/config/config';
import { createTestDatabase, type TestDatabase } from './database';

export const ADMIN_SECRET = 'test-admin-secret-0123456789abcdef';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string; [k: string]: unknown } }[];
}

export interface TestApp {
  app: App;
  /** This app's DATA_DIR (objects live in DATA_DIR/objects). */
  dataDir: string;
  db: TestDatabase;
  /** POST /graphql with the given secret (the admin's unless `as` says otherwise; null sends none). */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, as?: string | null): Promise<GraphQLResponse<T>>;
  /** Creates an API key with this role and returns its secret. */
  keyFor(role: Role): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts vigil on a fresh test database, or on `shared` (another test app's `db`) to run a second
 * instance beside it; the database is dropped by the app that created it. Only a PostgreSQL test
 * database can be shared: an in-memory PGlite lives inside one app.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: Omit<AppOptions, 'database'> = {},
  shared?: TestDatabase,
): Promise<TestApp> {
  if (shared?.label === 'pglite') throw new Error('an in-memory PGlite database cannot be shared by two apps; run on PostgreSQL');
  const db = shared ?? (await createTestDatabase());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    VIGIL_ADMIN_API_KEY: ADMIN_SECRET,
    API_KEY_CACHE_MS: '0',
    // QA samples are drawn from random image ids; tests that want them ask for them.
    REVIEW_QA_SHARE: '0',
    ...env,
  });
  const app = await startApp(config, { ...options, database: db.config });
  const keys = new Map<Role, string>();
  const gql: TestApp['gql'] = async (query, variables, as = ADMIN_SECRET) => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(as ? { authorization: `Bearer ${as}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as never;
  };
  return {
    app,
    dataDir,
    db,
    gql,
    async keyFor(role) {
      const known = keys.get(role);
      if (known) return known;
      const { secret } = await app.services.apiKeys.create(`test ${role}`, role);
      keys.set(role, secret);
      return secret;
    },
    async stop() {
      await app.stop();
      if (!shared) await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The data of a response that must have no errors. */
export function ok<T>(res: GraphQLResponse<T>): T {
  if (res.errors?.length) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data as T;
}

/** The single error of a response that must fail. */
export function failure(res: GraphQLResponse) {
  if (!res.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(res.data)}`);
  return res.errors[0];
}
