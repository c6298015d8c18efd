import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Database, openDatabase } from '../../src/db/database';
import { migrate, readMigrations } from '../../src/db/migrator';
import { findTemplate, writeTemplate } from '../../src/db/pglite-template';
import { actualShape, expectedShape } from '../support/schema-drift';

// A new embedded database folder starts as a copy of the build's migrated template (src/db/pglite-template.ts).
// These tests write their own template into a temporary folder (the build's may be absent or stale) and open
// fresh folders from it; they share it because making one runs initdb and every migration (seconds).

let root: string;
let template: string;
const opened: Database[] = [];

async function open(dataDir: string, templateDir: string | null = template, sharedBuffers?: string): Promise<Database> {
  const db = await openDatabase({ kind: 'pglite', dataDir, sharedBuffers }, { template: templateDir && findTemplate(templateDir) });
  opened.push(db);
  return db;
}

const appliedMigrations = (db: Database) =>
  db.withSession((s) =>
    s.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL ORDER BY migration_name',
    ),
  );

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-template-'));
  template = path.join(root, 'template');
  await writeTemplate(template);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the embedded database template', () => {
  it('starts a fresh DATA_DIR with every migration applied and the schema the migrations make', async () => {
    const db = await open(path.join(root, 'fresh'));
    expect(db.createdFrom).toBe('template');
    const migrations = readMigrations();
    expect(await appliedMigrations(db)).toEqual(
      migrations.map((m) => ({ migration_name: m.name, checksum: m.checksum, finished_at: expect.any(Date) })),
    );
    // The server's start finds nothing left to apply.
    expect(await migrate(db)).toEqual({ applied: [], alreadyApplied: migrations.length });
    // The same tables, columns, indexes and constraints as a folder made by initdb and migrated.
    const fromTemplate = await db.withSession(actualShape);
    expect(fromTemplate).toEqual(expectedShape());
    const migrated = await open(path.join(root, 'migrated'), null);
    expect(migrated.createdFrom).toBe('initdb');
    await migrate(migrated);
    expect(fromTemplate).toEqual(await migrated.withSession(actualShape));
    // And it is a working database with the extensions the migrations create.
    await db.prisma.device.create({ data: { externalId: 'tpl-1', name: 'Mast 1', type: 'pole' } });
    const [trgm] = await db.withSession((s) => s.query<{ similarity: number }>("SELECT similarity('mast', 'mast 1') AS similarity"));
    expect(trgm.similarity).toBeGreaterThan(0);
  });

  it('leaves a folder that exists alone: a restart keeps its data', async () => {
    const dir = path.join(root, 'kept');
    const first = await open(dir);
    await first.prisma.device.create({ data: { externalId: 'kept-1', name: 'Kept', type: 'pole' } });
    await first.close();
    opened.splice(opened.indexOf(first), 1);
    const again = await open(dir);
    expect(again.createdFrom).toBe('existing');
    expect(await again.prisma.device.count({ where: { externalId: 'kept-1' } })).toBe(1);
  });

  it('is not used when its migrations differ from this build’s: the folder is created and migrated instead', async () => {
    const stale = path.join(root, 'stale-template');
    fs.cpSync(template, stale, { recursive: true });
    const manifestFile = path.join(stale, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { migrations: { name: string; checksum: string }[] };
    manifest.migrations.pop();
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    expect(findTemplate(stale)).toBeNull();
    expect(findTemplate(template)).not.toBeNull();
    expect(findTemplate(path.join(root, 'no-template-here'))).toBeNull();

    const db = await open(path.join(root, 'from-stale'), stale);
    expect(db.createdFrom).toBe('initdb');
    const report = await migrate(db);
    expect(report.applied).toEqual(readMigrations().map((m) => m.name));
  });

  it('keeps its buffer cache to PGLITE_SHARED_BUFFERS (32MB unless told), not the 128MB PostgreSQL would take', async () => {
    const showBuffers = async (db: Database) =>
      (await db.withSession((s) => s.query<{ shared_buffers: string }>('SHOW shared_buffers')))[0].shared_buffers;
    expect(await showBuffers(await open(path.join(root, 'buffers-default')))).toBe('32MB');
    expect(await showBuffers(await open(path.join(root, 'buffers-16'), template, '16MB'))).toBe('16MB');
  });
});
