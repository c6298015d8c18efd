import fs from 'node:fs';
import path from 'node:path';
import { type Extension, PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client';
import { type Config } from '../config/config';
import { DEFAULT_PGLITE_SHARED_BUFFERS, DEFAULT_PREPARED_STATEMENTS } from '../config/server-settings';
import { preparedStatementNames } from './prepared-statements';
import { acquireDirectoryLock, type DirectoryLock } from './directory-lock';
import { YieldingPGlite } from './yielding-pglite';

export { PrismaClient };

// The package's contrib typings are ESM-only; its CommonJS build is what runs here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { pg_trgm } = require('@electric-sql/pglite/contrib/pg_trgm') as { pg_trgm: Extension };

/** A single connection for raw SQL scripts (migrations), outside Prisma. */
export interface SqlSession {
  exec(sql: string): Promise<void>;
  query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export type QueryListener = (query: { sql: string; durationMs: number }) => void;

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly prisma: PrismaClient;
  /** How an embedded folder came to be: unpacked from the build's migrated template, made by initdb, or already there (and PostgreSQL). */
  readonly createdFrom: 'template' | 'initdb' | 'existing';
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Observes every statement Prisma sends (used by tests and debug logging). */
  onQuery(listener: QueryListener): () => void;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseConfig =
  | Config['database']
  | { kind: 'pglite'; dataDir: 'memory://'; sharedBuffers?: string; preparedStatements?: number };

function makePrisma(adapter: PrismaPg | PrismaPGlite, listeners: Set<QueryListener>): PrismaClient {
  const prisma = new PrismaClient({ adapter, log: [{ emit: 'event' as const, level: 'query' as const }] });
  prisma.$on('query', (e) => {
    for (const l of listeners) l({ sql: e.query, durationMs: Number(e.duration) });
  });
  return prisma as unknown as PrismaClient;
}

/** For the embedded database in a folder, which one process at a time may open. */
export interface OpenDatabaseOptions {
  /** A folder lock not refreshed for this long was left by a dead process and is taken over (default 15 s). */
  lockStaleMs?: number;
  /** Called when the folder's lock is lost while open: another process may write to it, so stop. Default: throw. */
  onLockLost?: (err: Error) => void;
  /** A migrated PGlite data folder (src/db/pglite-template.ts) that a new embedded folder starts as a copy of; else initdb. */
  template?: string | null;
}

export async function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Promise<Database> {
  return config.kind === 'postgres'
    ? openPostgres(config.url, config.poolSize, config.preparedStatements ?? DEFAULT_PREPARED_STATEMENTS)
    : openPglite(
        config.dataDir,
        config.sharedBuffers ?? DEFAULT_PGLITE_SHARED_BUFFERS,
        config.preparedStatements ?? DEFAULT_PREPARED_STATEMENTS,
        options,
      );
}

async function openPostgres(url: string, poolSize: number, preparedStatements: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'vigil' });
  // An idle connection dropped by the server must not crash the process.
  pool.on('error', () => undefined);
  const listeners = new Set<QueryListener>();
  // The adapter's typing wants a name for every statement; it passes the value to pg, which runs one without a name unprepared.
  const statementNameGenerator = preparedStatementNames(preparedStatements) as (query: { sql: string }) => string;
  const prisma = makePrisma(new PrismaPg(pool, { statementNameGenerator }), listeners);
  return {
    kind: 'postgres',
    prisma,
    createdFrom: 'existing',
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn({
          exec: async (sql) => void (await client.query(sql)),
          query: async (sql, params) => (await client.query(sql, params)).rows,
        });
      } finally {
        client.release();
      }
    },
    onQuery: (l) => {
      listeners.add(l);
      return () => void listeners.delete(l);
    },
    ping: async () => void (await pool.query('SELECT 1')),
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(
  dataDir: string,
  sharedBuffers: string,
  preparedStatements: number,
  options: OpenDatabaseOptions,
): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  let lock: DirectoryLock | undefined;
  let createdFrom: Database['createdFrom'] = inMemory ? 'initdb' : 'existing';
  if (!inMemory) {
    fs.mkdirSync(dataDir, { recursive: true });
    // PGlite is one process's database: a second vigil on the same folder would corrupt it.
    lock = await acquireDirectoryLock(dataDir, { staleMs: options.lockStaleMs, onLost: options.onLockLost });
  }
  let client: PGlite;
  try {
    if (!inMemory && isFreshDataDir(dataDir)) {
      if (options.template) copyDataDir(options.template, dataDir);
      createdFrom = options.template ? 'template' : 'initdb';
    }
    // The same extensions as on a server: migrations create them.
    client = new YieldingPGlite(inMemory ? 'memory://' : dataDir, {
      extensions: { pg_trgm },
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`],
    }).nameStatements(preparedStatements);
    await client.waitReady;
  } catch (err) {
    await lock?.release();
    throw err;
  }
  return pgliteDatabase(client, createdFrom, lock);
}

/** Written by initdb, and copied last: a folder without it is fresh (or a copy cut short, which is made again). */
const PG_VERSION = 'PG_VERSION';

const isFreshDataDir = (dataDir: string) => !fs.existsSync(path.join(dataDir, PG_VERSION));

/** Copies a PGlite data folder into `dataDir` (which the caller has locked), PG_VERSION last. */
function copyDataDir(template: string, dataDir: string): void {
  // A plain walk: fs.cpSync checks each of the ~1,200 files more, and takes several times as long.
  const copy = (from: string, to: string) => {
    fs.mkdirSync(to, { recursive: true });
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
      if (from === template && entry.name === PG_VERSION) continue;
      if (entry.isDirectory()) copy(path.join(from, entry.name), path.join(to, entry.name));
      else fs.copyFileSync(path.join(from, entry.name), path.join(to, entry.name));
    }
  };
  copy(template, dataDir);
  fs.copyFileSync(path.join(template, PG_VERSION), path.join(dataDir, PG_VERSION));
}

function pgliteDatabase(client: PGlite, createdFrom: Database['createdFrom'], lock?: DirectoryLock): Database {
  const listeners = new Set<QueryListener>();
  const prisma = makePrisma(new PrismaPGlite(client), listeners);
  return {
    kind: 'pglite',
    prisma,
    createdFrom,
    withSession: (fn) =>
      fn({
        exec: async (sql) => void (await client.exec(sql)),
        query: async (sql, params) => (await client.query(sql, params)).rows as never,
      }),
    onQuery: (l) => {
      listeners.add(l);
      return () => void listeners.delete(l);
    },
    ping: async () => void (await client.query('SELECT 1')),
    async close() {
      await prisma.$disconnect();
      await client.close();
      await lock?.release();
    },
  };
}
