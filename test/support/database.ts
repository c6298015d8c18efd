import crypto from 'node:crypto';
import pg from 'pg';
import { type DatabaseConfig } from '../../src/db/database';

/**
 * The database a test file runs on: an in-memory PGlite, or, when DATABASE_URL names a PostgreSQL
 * server (the second half of `npm test`), a fresh database of its own on that server.
 */
export interface TestDatabase {
  label: 'pglite' | 'postgres';
  config: DatabaseConfig;
  drop(): Promise<void>;
}

export const serverUrl = process.env.DATABASE_URL;

/**
 * `describe` for what only a PostgreSQL server has (DATABASE_URL set); on PGlite the block is
 * skipped and the run says why. `npm test` runs it in its PostgreSQL half.
 */
export function describeOnPostgres(name: string, why: string, fn: () => void): void {
  if (serverUrl) {
    describe(name, fn);
    return;
  }
  console.log(`skipping "${name}": ${why}; \`npm test\` runs it in its PostgreSQL half`);
  describe.skip(name, fn);
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (!serverUrl) return { label: 'pglite', config: { kind: 'pglite', dataDir: 'memory://' }, drop: async () => undefined };
  const name = `vigil_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    label: 'postgres',
    config: { kind: 'postgres', url: url.toString(), poolSize: 5 },
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
