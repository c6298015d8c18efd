import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type DatabaseConfig, openDatabase } from '../../src/db/database';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { MAIN } from '../support/server-process';

// `vigil datalake export` as an operator runs it: the built CLI on its own database and DATA_DIR (npm test builds first).

const BIN = path.resolve(__dirname, '../../bin/vigil.js');

let dataDir: string;
let tdb: TestDatabase;
beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does) before these tests');
  tdb = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lake-cli-'));
});
afterAll(async () => {
  await tdb.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function cli(args: string[]) {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  if (tdb.config.kind === 'postgres') env.DATABASE_URL = tdb.config.url;
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The CLI's database, opened between two runs (the embedded one admits one process at a time).
async function withDatabase(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<void>) {
  const config: DatabaseConfig = tdb.config.kind === 'postgres' ? tdb.config : { kind: 'pglite', dataDir: path.join(dataDir, 'db') };
  const db = await openDatabase(config as never);
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

describe('vigil datalake export', () => {
  it('writes the rows older than the settle time to DATA_DIR/objects, then nothing more when run again', async () => {
    expect(cli(['migrate']).status).toBe(0);
    await withDatabase(async (db) => {
      const device = await db.prisma.device.create({ data: { externalId: 'cli-pole', name: 'cli pole', type: 'pole' } });
      for (let i = 0; i < 3; i++) {
        await db.prisma.inspection.create({
          data: { deviceId: device.id, source: 'MANUAL', capturedAt: new Date(), requestedBy: 'cli test' },
        });
      }
      // Stamped a minute ago: past the default settle time of 5 s.
      await db.prisma.$executeRawUnsafe(`UPDATE inspections SET updated_at = now() - interval '1 minute'`);
    });

    const first = cli(['datalake', 'export', '--table', 'inspections']);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^inspections: 3 row\(s\) to export$/m);
    expect(first.stdout).toMatch(/^inspections\s+3 rows\s+1 files\s+up to \d{4}-/m);
    const folder = path.join(dataDir, 'objects', 'datalake', 'inspections');
    const [partition] = fs.readdirSync(folder);
    expect(fs.readdirSync(path.join(folder, partition))).toEqual(['part-0000000001.parquet']);
    // Parquet files start and end with the magic bytes PAR1.
    const bytes = fs.readFileSync(path.join(folder, partition, 'part-0000000001.parquet'));
    expect([bytes.subarray(0, 4).toString(), bytes.subarray(-4).toString()]).toEqual(['PAR1', 'PAR1']);

    const again = cli(['datalake', 'export']);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/^inspections\s+0 rows\s+0 files/m);
    const status = JSON.parse(cli(['datalake', 'status']).stdout);
    expect(status.find((s: { table: string }) => s.table === 'inspections')).toMatchObject({ rows: 3, batches: 1 });
  });

  it.each([
    [['--table', 'devices'], 'Allowed choices are inspections, detections, anomalies, defects, review_outcomes'],
    [['--batch-size', '0'], 'expected a whole number from 1 to 100000'],
    [['--settle', 'soon'], 'expected a whole number from 0 to 3600'],
  ])('refuses %j with a message naming the option', (args, message) => {
    const r = cli(['datalake', 'export', ...args]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(message);
  });
});
