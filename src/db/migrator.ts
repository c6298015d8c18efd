import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../common/paths';
import { type Database, type SqlSession } from './database';

// Prisma's own advisory lock key, so `vigil migrate` and `prisma migrate deploy` exclude each other.
const ADVISORY_LOCK_KEY = 72707369;

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'prisma', 'migrations');

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Reads prisma/migrations/<timestamp>_<name>/migration.sql in name order. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') };
    });
}

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow extends Record<string, unknown> {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies pending migrations, one transaction each, recorded in Prisma's `_prisma_migrations` table.
 * An advisory lock makes instances that start together take turns; the later ones find nothing to do.
 */
export function migrate(
  db: Database,
  options: { migrations?: Migration[]; log?: (msg: string, extra?: object) => void } = {},
): Promise<MigrationReport> {
  // PGlite has a single connection: calls in one process must queue rather than interleave.
  const previous = running.get(db) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => migrateLocked(db, options));
  running.set(db, next);
  return next;
}

const running = new WeakMap<Database, Promise<unknown>>();

async function migrateLocked(
  db: Database,
  options: { migrations?: Migration[]; log?: (msg: string, extra?: object) => void },
): Promise<MigrationReport> {
  const migrations = options.migrations ?? readMigrations();
  const log = options.log ?? (() => undefined);
  return db.withSession(async (s) => {
    await s.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
    try {
      return await applyPending(s, migrations, log);
    } finally {
      await s.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]);
    }
  });
}

async function applyPending(s: SqlSession, migrations: Migration[], log: (msg: string, extra?: object) => void): Promise<MigrationReport> {
  await s.exec(CREATE_TABLE);
  const rows = await s.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
  );
  const failed = rows.find((r) => r.finished_at === null);
  if (failed) {
    throw new MigrationError(
      `migration ${failed.migration_name} started but never finished; inspect the database, then mark it rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${failed.migration_name}') before starting again`,
    );
  }
  const applied = new Map(rows.map((r) => [r.migration_name, r]));
  const known = new Set(migrations.map((m) => m.name));
  const unknown = [...applied.keys()].filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new MigrationError(
      `the database has migrations this version of vigil does not know (${unknown.join(', ')}); it was migrated by a newer vigil`,
    );
  }
  const report: MigrationReport = { applied: [], alreadyApplied: 0 };
  for (const m of migrations) {
    const done = applied.get(m.name);
    if (done) {
      if (done.checksum !== m.checksum) {
        log('migration file changed after it was applied', { migration: m.name });
      }
      report.alreadyApplied++;
      continue;
    }
    const id = crypto.randomUUID();
    await s.exec('BEGIN');
    try {
      await s.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())', [
        id,
        m.checksum,
        m.name,
      ]);
      await s.exec(m.sql);
      await s.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
      await s.exec('COMMIT');
    } catch (err) {
      await s.exec('ROLLBACK');
      throw new MigrationError(`migration ${m.name} failed and was rolled back: ${(err as Error).message}`);
    }
    log('applied migration', { migration: m.name });
    report.applied.push(m.name);
  }
  return report;
}

/**
 * Fails, naming what is missing, when the database lacks a migration this code needs; writes nothing.
 * Lambdas and other short-lived workers call this instead of migrating on every cold start.
 */
export async function assertMigrated(db: Database, migrations: Migration[] = readMigrations()): Promise<void> {
  const table = await db.withSession((s) => s.query<{ name: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS name`));
  const rows = table[0]?.name
    ? await db.withSession((s) =>
        s.query<{ migration_name: string }>(
          'SELECT migration_name FROM "_prisma_migrations" WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL',
        ),
      )
    : [];
  const applied = new Set(rows.map((r) => r.migration_name));
  const pending = migrations.filter((m) => !applied.has(m.name)).map((m) => m.name);
  if (pending.length > 0) {
    throw new MigrationError(
      `the database is missing ${pending.length} migration(s) (${pending.slice(0, 3).join(', ')}${pending.length > 3 ? ', …' : ''}): run \`vigil migrate\` (or start the server once) before the workers`,
    );
  }
}
