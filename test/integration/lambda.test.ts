import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import * as lambda from '../../src/app/lambda';
import { loadConfig } from '../../src/config/config';
import { openDatabase } from '../../src/db/database';
import { migrate } from '../../src/db/migrator';
import { WORKFLOW_STEPS } from '../../src/workflows/steps';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The deployed Lambdas (src/app/lambda.ts) open the services from the environment, once per
// container, and never migrate: a cold start against a database behind the code fails, naming the fix.

let tdb: TestDatabase;
let dataDir: string;
const savedEnv = { ...process.env };

beforeEach(async () => {
  tdb = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lambda-'));
  process.env.DATA_DIR = dataDir;
  process.env.LOG_LEVEL = 'silent';
  delete process.env.REDIS_URL;
  if (tdb.config.kind === 'postgres') process.env.DATABASE_URL = tdb.config.url;
  else delete process.env.DATABASE_URL;
});

afterEach(async () => {
  await lambda.closeContainerServices();
  process.env = { ...savedEnv };
  await tdb.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Whether the database the environment names has Prisma's migrations table, read without vigil's code. */
async function hasMigrationsTable(): Promise<boolean> {
  const sql = `SELECT to_regclass('"_prisma_migrations"')::text AS name`;
  if (tdb.config.kind === 'postgres') {
    const client = new pg.Client({ connectionString: tdb.config.url });
    await client.connect();
    try {
      return (await client.query<{ name: string | null }>(sql)).rows[0].name !== null;
    } finally {
      await client.end();
    }
  }
  const config = loadConfig().database;
  if (config.kind !== 'pglite') throw new Error('expected the embedded database');
  const db = new PGlite(config.dataDir);
  try {
    return (await db.query<{ name: string | null }>(sql)).rows[0].name !== null;
  } finally {
    await db.close();
  }
}

describe('the Lambda entry points', () => {
  it('export every workflow step and both EventBridge handlers', () => {
    for (const key of Object.keys(WORKFLOW_STEPS))
      expect([key, typeof (lambda as Record<string, unknown>)[key]]).toEqual([key, 'function']);
    expect(typeof lambda.executionStatusChange).toBe('function');
    expect(typeof lambda.humanLoopStatusChange).toBe('function');
  });

  it('refuse a database that was never migrated, name `vigil migrate`, and leave it untouched', async () => {
    await expect(lambda.beginRun({ runId: randomUUID() })).rejects.toThrow(/missing \d+ migration\(s\).*run `vigil migrate`/);
    await lambda.closeContainerServices();
    expect(await hasMigrationsTable()).toBe(false);
  });

  it('run a step once the database is migrated, and check the payload before touching it', async () => {
    const db = await openDatabase(loadConfig().database);
    await migrate(db);
    await db.close();
    await expect(lambda.finishRun({ runId: 'not-a-uuid' })).rejects.toThrow(/FinishRun received a bad payload: runId/);
    await expect(lambda.beginRun({ runId: randomUUID() })).rejects.toThrow(/WorkflowRun .* does not exist/);
  });
});
