import { openDatabase, type Database } from '../../src/db/database';
import { migrate, MigrationError, readMigrations } from '../../src/db/migrator';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { actualShape, expectedShape } from '../support/schema-drift';

let tdb: TestDatabase;
let db: Database;
beforeEach(async () => {
  tdb = await createTestDatabase();
  db = await openDatabase(tdb.config);
});
afterEach(async () => {
  await db.close();
  await tdb.drop();
});

const applied = (d: Database) =>
  d.withSession((s) =>
    s.query<{ migration_name: string; finished_at: Date | null }>(
      'SELECT migration_name, finished_at FROM "_prisma_migrations" ORDER BY migration_name',
    ),
  );

describe('migrations', () => {
  it('produce exactly the database prisma/schema.prisma describes (no drift)', async () => {
    await migrate(db);
    const actual = await db.withSession(actualShape);
    expect(actual).toEqual(expectedShape());
  });

  it('give devices(filter: {search}) trigram indexes it can use', async () => {
    await migrate(db);
    const plan = await db.withSession(async (s) => {
      await s.exec('SET enable_seqscan = off');
      return s.query<{ 'QUERY PLAN': string }>(
        "EXPLAIN SELECT id FROM devices WHERE name ILIKE '%mast 12%' OR external_id ILIKE '%mast 12%'",
      );
    });
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('devices_name_idx');
    expect(text).toContain('devices_external_id_idx');
  });

  it('the drift check notices a column the schema does not have', async () => {
    await migrate(db);
    await db.withSession((s) => s.exec('ALTER TABLE devices ADD COLUMN colour text'));
    const actual = await db.withSession(actualShape);
    expect(actual).not.toEqual(expectedShape());
    expect(actual.tables.devices.columns.colour).toBeDefined();
  });

  it('are recorded in _prisma_migrations and applied once', async () => {
    const first = await migrate(db);
    expect(first.applied).toEqual(readMigrations().map((m) => m.name));
    const second = await migrate(db);
    expect(second).toEqual({ applied: [], alreadyApplied: first.applied.length });
    const rows = await applied(db);
    expect(rows.map((r) => r.migration_name)).toEqual(first.applied);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
  });

  it('are safe when two instances start at once', async () => {
    // On PostgreSQL a second pool is a second instance; PGlite has one owner, whose calls queue.
    const other = tdb.label === 'postgres' ? await openDatabase(tdb.config) : db;
    try {
      const reports = await Promise.all([migrate(db), migrate(other), migrate(db)]);
      const total = readMigrations().length;
      expect(reports.reduce((n, r) => n + r.applied.length, 0)).toBe(total);
      expect(reports.reduce((n, r) => n + r.alreadyApplied, 0)).toBe(total * 2);
      expect((await applied(db)).length).toBe(total);
    } finally {
      if (other !== db) await other.close();
    }
  });

  it('20261202000000_box_xy rewrites stored boxes (review answers, dataset entries, detection results) from {left, top} to {x, y}, once', async () => {
    const all = readMigrations();
    const at = all.findIndex((m) => m.name === '20261202000000_box_xy');
    expect(at).toBeGreaterThan(0);
    await migrate(db, { migrations: all.slice(0, at) });

    const id = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
    const oldRegions = [
      { box: { left: 0.25, top: 0.5, width: 0.5, height: 0.25 }, type: 'crack' },
      { box: { left: 0, top: 0, width: 1, height: 1 }, type: 'other' },
    ];
    const newRegions = [{ box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 }, type: 'chip' }];
    // Detection results as src/detections/detection.service.ts wrote them before: stage 2 (regions and
    // each picture's frame) and stage 1 (each picture's label boxes); "raw" is the detector's own answer.
    const heatmap = (tile: number) => `images/a.jpg.tile-${tile}.heatmap-inspect-1.png`;
    const oldInspect = {
      route: 'ANOMALY',
      uncertain: false,
      regions: [
        { box: { left: 0.625, top: 0.25, width: 0.125, height: 0.5 }, type: 'anomaly', confidence: 0.9 },
        { box: { left: 0.5, top: 0, width: 0.25, height: 0.25 }, type: 'crack', confidence: 0.7 },
      ],
      pictures: [
        {
          tile: 0,
          frame: { left: 0, top: 0, width: 0.5, height: 1 },
          isAnomalous: false,
          uncertain: false,
          confidence: 0.8,
          heatmapKey: heatmap(0),
          raw: { score: 0.1 },
        },
        {
          tile: 1,
          frame: { left: 0.5, top: 0, width: 0.5, height: 1 },
          isAnomalous: true,
          uncertain: false,
          confidence: 0.9,
          heatmapKey: heatmap(1),
          raw: { score: 2.5 },
        },
      ],
    };
    const rekognitionRaw = {
      LabelModelVersion: '3.0',
      Labels: [{ Name: 'corrosion', Instances: [{ BoundingBox: { Left: 0.1, Top: 0.6, Width: 0.2, Height: 0.3 } }] }],
    };
    const oldScreen = {
      flaggedTiles: [null],
      pictures: [
        {
          tile: null,
          flagged: true,
          confidence: 0.88,
          labels: [
            {
              name: 'corrosion',
              confidence: 0.88,
              boxes: [
                { left: 0.1, top: 0.6, width: 0.2, height: 0.3 },
                { left: 0.7, top: 0.2, width: 0.05, height: 0.05 },
              ],
            },
            { name: 'metal', confidence: 0.99, boxes: [] },
          ],
          raw: rekognitionRaw,
        },
      ],
    };
    const newInspect = {
      route: 'NORMAL',
      uncertain: false,
      regions: [],
      pictures: [
        {
          tile: null,
          frame: { x: 0, y: 0, width: 1, height: 1 },
          isAnomalous: false,
          uncertain: false,
          confidence: 0.95,
          heatmapKey: null,
          raw: {},
        },
      ],
    };
    await db.withSession(async (s) => {
      await s.exec(`
        INSERT INTO "devices" ("id", "external_id", "name", "type", "updated_at") VALUES ('${id(1)}', 'mast-1', 'Mast 1', 'insulator', now());
        INSERT INTO "inspections" ("id", "device_id", "source", "captured_at", "requested_by", "updated_at") VALUES ('${id(2)}', '${id(1)}', 'MANUAL', now(), 'test', now());
        INSERT INTO "images" ("id", "inspection_id", "object_key", "sha256", "content_type", "bytes", "updated_at") VALUES ('${id(3)}', '${id(2)}', 'images/a.jpg', repeat('a', 64), 'image/jpeg', 1, now());
        INSERT INTO "review_tasks" ("id", "image_id", "inspection_id", "reason", "updated_at") VALUES ('${id(4)}', '${id(3)}', '${id(2)}', 'COLD_START', now());
        INSERT INTO "datasets" ("id", "name", "device_type", "updated_at") VALUES ('${id(5)}', 'insulator', 'insulator', now());`);
      await s.query(
        `INSERT INTO "review_answers" ("id", "task_id", "reviewer", "verdict", "regions") VALUES
           ($1, $4, 'old', 'ANOMALOUS', $5::jsonb), ($2, $4, 'new', 'ANOMALOUS', $6::jsonb), ($3, $4, 'normal', 'NORMAL', '[]')`,
        [id(10), id(11), id(12), id(4), JSON.stringify(oldRegions), JSON.stringify(newRegions)],
      );
      await s.query(
        `INSERT INTO "dataset_entries" ("id", "dataset_id", "image_id", "source_key", "label", "regions", "split", "updated_at") VALUES
           ($1, $3, $4, NULL, 'ANOMALOUS', $5::jsonb, 'TRAIN', now()), ($2, $3, NULL, 'datasets/imported/b.jpg', 'NORMAL', '[]', 'TEST', now())`,
        [id(20), id(21), id(5), id(3), JSON.stringify(oldRegions)],
      );
      await s.query(
        `INSERT INTO "detections" ("id", "image_id", "stage", "detector", "model_version", "is_anomalous", "confidence", "result") VALUES
           ($1, $5, 'INSPECT', 'builtin-inspect', 'inspect-1', true, 0.9, $6::jsonb),
           ($2, $5, 'SCREEN', 'rekognition-labels', 'screen-1', true, 0.88, $7::jsonb),
           ($3, $5, 'INSPECT', 'builtin-inspect', 'inspect-2', false, 0.95, $8::jsonb),
           ($4, $5, 'SCREEN', 'builtin-screen', 'screen-2', false, 0.9, '{}')`,
        [id(30), id(31), id(32), id(33), id(3), JSON.stringify(oldInspect), JSON.stringify(oldScreen), JSON.stringify(newInspect)],
      );
    });

    expect((await migrate(db)).applied).toEqual(all.slice(at).map((m) => m.name));
    const stored = () =>
      db.withSession(async (s) => ({
        answers: await s.query<{ reviewer: string; regions: unknown }>('SELECT "reviewer", "regions" FROM "review_answers" ORDER BY "id"'),
        entries: await s.query<{ label: string; regions: unknown }>('SELECT "label", "regions" FROM "dataset_entries" ORDER BY "id"'),
        detections: (await s.query<{ result: unknown }>('SELECT "result" FROM "detections" ORDER BY "id"')).map((r) => r.result),
      }));
    const expected = [
      { box: { x: 0.25, y: 0.5, width: 0.5, height: 0.25 }, type: 'crack' },
      { box: { x: 0, y: 0, width: 1, height: 1 }, type: 'other' },
    ];
    const after = await stored();
    expect(after).toEqual({
      answers: [
        { reviewer: 'old', regions: expected },
        { reviewer: 'new', regions: newRegions },
        { reviewer: 'normal', regions: [] },
      ],
      entries: [
        { label: 'ANOMALOUS', regions: expected },
        { label: 'NORMAL', regions: [] },
      ],
      detections: [
        {
          ...oldInspect,
          regions: [
            { box: { x: 0.625, y: 0.25, width: 0.125, height: 0.5 }, type: 'anomaly', confidence: 0.9 },
            { box: { x: 0.5, y: 0, width: 0.25, height: 0.25 }, type: 'crack', confidence: 0.7 },
          ],
          pictures: [
            { ...oldInspect.pictures[0], frame: { x: 0, y: 0, width: 0.5, height: 1 } },
            { ...oldInspect.pictures[1], frame: { x: 0.5, y: 0, width: 0.5, height: 1 } },
          ],
        },
        {
          ...oldScreen,
          pictures: [
            {
              ...oldScreen.pictures[0],
              labels: [
                {
                  name: 'corrosion',
                  confidence: 0.88,
                  boxes: [
                    { x: 0.1, y: 0.6, width: 0.2, height: 0.3 },
                    { x: 0.7, y: 0.2, width: 0.05, height: 0.05 },
                  ],
                },
                { name: 'metal', confidence: 0.99, boxes: [] },
              ],
              raw: rekognitionRaw,
            },
          ],
        },
        newInspect,
        {},
      ],
    });

    // Only boxes that still have "left" change: running it again leaves everything as it is.
    await db.withSession((s) => s.exec(all[at].sql));
    expect(await stored()).toEqual(after);
  });

  it('roll a failing migration back completely and report which one failed', async () => {
    const broken = [
      ...readMigrations(),
      { name: '29990101000000_broken', sql: 'CREATE TABLE half_done (id int);\nSELECT 1 / 0;', checksum: 'x'.repeat(64) },
    ];
    await expect(migrate(db, { migrations: broken })).rejects.toThrow(/29990101000000_broken failed and was rolled back: division by zero/);
    const tables = await db.withSession((s) =>
      s.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'half_done'"),
    );
    expect(tables[0].n).toBe(0);
    expect((await applied(db)).map((r) => r.migration_name)).not.toContain('29990101000000_broken');
    // The good migrations before it stay applied, and a fixed file then goes through.
    const fixed = broken.map((m) => (m.name.endsWith('broken') ? { ...m, sql: 'CREATE TABLE half_done (id int);' } : m));
    expect((await migrate(db, { migrations: fixed })).applied).toEqual(['29990101000000_broken']);
  });

  it('refuse a database migrated by a newer vigil', async () => {
    await migrate(db, { migrations: [...readMigrations(), { name: '29990101000000_future', sql: 'SELECT 1', checksum: 'f'.repeat(64) }] });
    const err = await migrate(db).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toMatch(/29990101000000_future.*newer vigil/);
  });

  it('warn when an applied migration file was edited afterwards', async () => {
    await migrate(db);
    const edited = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: '0'.repeat(64) } : m));
    const warnings: string[] = [];
    await migrate(db, { migrations: edited, log: (msg, extra) => warnings.push(`${msg} ${JSON.stringify(extra)}`) });
    expect(warnings).toEqual([expect.stringMatching(/changed after it was applied.*_init/)]);
  });
});
