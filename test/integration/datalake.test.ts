import fs from 'node:fs';
import path from 'node:path';
import { type ObjectStore } from '../../src/adapters/object-store/object-store.port';
import { fromGlobalId } from '../../src/common/global-id';
import { DataLakeService } from '../../src/datalake/datalake.service';
import { LAKE_TABLES, type LakeColumnType, type LakeTableName } from '../../src/datalake/lake-tables';
import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { daysAgo, inspect, newDevice } from '../support/repairs';
import { newKey } from '../support/reviews';

// The data lake on a real database: rows made by real detection runs and reviews, exported as Parquet to the local
// object store and read back with parquet-wasm + apache-arrow, a reader that shares no code with the writer.

// ESM-only packages, loaded with a real import() (TypeScript's CommonJS output would turn import() into require()).
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<any>;

// What an independent reader must see for each column type of the definitions.
const ARROW_TYPE: Record<LakeColumnType, string> = {
  string: 'Utf8',
  timestamp: 'Timestamp<MILLISECOND, UTC>',
  double: 'Float64',
  int: 'Int32',
  boolean: 'Bool',
};

interface LakeFile {
  key: string;
  dt: string;
  fields: Record<string, string>;
  rows: Record<string, any>[];
}

let t: TestApp;
let reviewer: string;
let readParquet: (bytes: Uint8Array) => { intoIPCStream(): Uint8Array };
let tableFromIPC: (bytes: Uint8Array) => { schema: { fields: { name: string; type: unknown }[] }; toArray(): { toJSON(): any }[] };

beforeAll(async () => {
  t = await startTestApp();
  reviewer = await newKey(t, 'REVIEWER');
  ({ readParquet } = await importEsm('parquet-wasm/node'));
  ({ tableFromIPC } = await importEsm('apache-arrow'));
});
afterAll(() => t.stop());

/** Every Parquet file of a table in the local store, in key order, read back. */
function readTable(table: LakeTableName, app = t): LakeFile[] {
  const dir = path.join(app.dataDir, 'objects', 'datalake', table);
  if (!fs.existsSync(dir)) return [];
  const files: LakeFile[] = [];
  for (const part of fs.readdirSync(dir).sort()) {
    expect(part).toMatch(/^dt=\d{4}-\d{2}-\d{2}$/);
    const names = fs.readdirSync(path.join(dir, part));
    // Nothing but Parquet in a partition: Athena reads every object under it as data.
    expect(names.filter((f) => !/^part-\d{10}\.parquet$/.test(f))).toEqual([]);
    for (const name of names) {
      const arrow = tableFromIPC(readParquet(fs.readFileSync(path.join(dir, part, name))).intoIPCStream());
      files.push({
        key: `datalake/${table}/${part}/${name}`,
        dt: part.slice(3),
        fields: Object.fromEntries(arrow.schema.fields.map((f) => [f.name, String(f.type)])),
        rows: arrow.toArray().map((r) => r.toJSON()),
      });
    }
  }
  return files.sort((a, b) => a.key.localeCompare(b.key));
}

const rowsOf = (table: LakeTableName, app = t) => readTable(table, app).flatMap((f) => f.rows);
const lake = () => t.app.services.dataLake;
/** Inspections made straight through the service, `count` of them for a new device. */
async function manualInspections(app: TestApp, count: number, requestedBy: string) {
  const deviceId = fromGlobalId('Device', (await newDevice(app)).id, 'deviceId');
  const made = [];
  for (let i = 0; i < count; i++) {
    made.push(await app.app.services.inspections.create({ deviceId, source: 'MANUAL', capturedAt: daysAgo(i), requestedBy }));
  }
  return made;
}

const crack = [{ box: { x: 0.2, y: 0.3, width: 0.25, height: 0.1 }, type: 'crack' }];

/**
 * A reviewed inspection with a crack, and a stage-1 judgement of its image. Devices without a model skip the
 * detectors (a cold start), so the judgement is recorded as a screening run would record it.
 */
async function reviewedInspection(app: TestApp, capturedAt: Date) {
  const inspectionId = await inspect(app, reviewer, (await newDevice(app)).id, capturedAt, crack);
  const image = await app.app.db.prisma.image.findFirstOrThrow({ where: { inspectionId: fromGlobalId('Inspection', inspectionId, 'id') } });
  await app.app.db.prisma.detection.create({
    data: {
      imageId: image.id,
      stage: 'SCREEN',
      detector: 'builtin-screen',
      modelVersion: `test-${image.id.slice(0, 8)}`,
      isAnomalous: true,
      confidence: 0.75,
      result: { labels: [{ name: 'crack', confidence: 0.75 }] },
      costUsd: 0.001,
      calls: 2,
    },
  });
}

describe('the data lake export', () => {
  let firstIds: Record<LakeTableName, Set<string>>;

  it('writes every table as Parquet that an independent reader reads with the columns, types and values of the database', async () => {
    await reviewedInspection(t, daysAgo(2));

    const result = await lake().export({ settleSeconds: 0 });
    expect(result.tables.map((x) => x.table)).toEqual(['inspections', 'detections', 'anomalies', 'defects', 'review_outcomes']);
    const db = t.app.db.prisma;
    const counts: Record<LakeTableName, number> = {
      inspections: await db.inspection.count(),
      detections: await db.detection.count(),
      anomalies: await db.anomaly.count(),
      defects: await db.defect.count(),
      review_outcomes: await db.reviewAnswer.count(),
    };
    for (const table of LAKE_TABLES) {
      const files = readTable(table.name);
      const written = result.tables.find((x) => x.table === table.name)!;
      expect(counts[table.name]).toBeGreaterThan(0);
      expect(written.rows).toBe(counts[table.name]);
      expect(files.map((f) => f.key)).toEqual(written.files);
      expect(files.flatMap((f) => f.rows)).toHaveLength(counts[table.name]);
      for (const file of files) {
        expect(file.key).toMatch(/\/part-0000000001\.parquet$/);
        expect(file.fields).toEqual(Object.fromEntries(table.columns.map((c) => [c.name, ARROW_TYPE[c.type]])));
      }
    }
    firstIds = Object.fromEntries(LAKE_TABLES.map((x) => [x.name, new Set(rowsOf(x.name).map((r) => r.id))])) as never;

    const anomaly = await db.anomaly.findFirstOrThrow({ include: { reviewTask: true } });
    const [row] = rowsOf('anomalies').filter((r) => r.id === anomaly.id);
    expect(row).toMatchObject({
      image_id: anomaly.imageId,
      device_id: anomaly.deviceId,
      type: 'crack',
      box_x: 0.2,
      box_height: 0.1,
      region_index: 0,
      status: anomaly.status,
      source: 'HUMAN',
      detection_id: null,
      updated_at: anomaly.updatedAt.getTime(),
    });
    expect(readTable('anomalies')[0].dt).toBe(anomaly.updatedAt.toISOString().slice(0, 10));

    const detection = await db.detection.findFirstOrThrow({ include: { image: true } });
    const [d] = rowsOf('detections').filter((r) => r.id === detection.id);
    expect(d).toMatchObject({
      inspection_id: detection.image.inspectionId,
      stage: detection.stage,
      is_anomalous: detection.isAnomalous,
      confidence: detection.confidence,
      calls: detection.calls,
      created_at: detection.createdAt.getTime(),
    });
    expect(JSON.parse(d.result)).toEqual(detection.result);

    const answer = await db.reviewAnswer.findFirstOrThrow({ include: { task: true } });
    const [outcome] = rowsOf('review_outcomes');
    expect(outcome).toMatchObject({ id: answer.id, verdict: 'ANOMALOUS', reason: answer.task.reason, image_id: answer.task.imageId });
    expect(JSON.parse(outcome.regions)).toEqual([expect.objectContaining({ type: 'crack' })]);
    const [defect] = rowsOf('defects');
    expect(defect).toMatchObject({ device_id: anomaly.deviceId, type: 'crack', observation_count: 1, confirmed: expect.any(Boolean) });
  });

  it('writes nothing when nothing changed', async () => {
    const again = await lake().export({ settleSeconds: 0 });
    expect(again.tables.map((x) => [x.rows, x.files.length, x.complete])).toEqual(LAKE_TABLES.map(() => [0, 0, true]));
  });

  it('writes only the rows made since, into new files, and leaves the earlier files as they were', async () => {
    const before = Object.fromEntries(LAKE_TABLES.map((x) => [x.name, readTable(x.name)]));
    await reviewedInspection(t, daysAgo(1));

    const result = await lake().export({ settleSeconds: 0 });
    for (const table of LAKE_TABLES) {
      const written = result.tables.find((x) => x.table === table.name)!;
      expect(written.files.length).toBeGreaterThan(0);
      for (const key of written.files) expect(key).toMatch(/\/part-0000000002\.parquet$/);
      const files = readTable(table.name);
      expect(files.filter((f) => /part-0000000001/.test(f.key))).toEqual(before[table.name]);
      const fresh = files.filter((f) => written.files.includes(f.key)).flatMap((f) => f.rows);
      expect(fresh).toHaveLength(written.rows);
      // Detections and answers never change, so the new files hold only new rows.
      if (table.name === 'detections' || table.name === 'review_outcomes') {
        expect(fresh.filter((r) => firstIds[table.name].has(r.id))).toEqual([]);
      }
    }
    expect(await t.app.db.prisma.reviewAnswer.count()).toBe(rowsOf('review_outcomes').length);
  });

  it('writes each row version once when two exports run at the same moment, in batches of the size asked for', async () => {
    await manualInspections(t, 40, 'race test');
    // Rows younger than the settle time wait for a later export.
    expect((await lake().export({ tables: ['inspections'], settleSeconds: 600 })).tables[0].rows).toBe(0);

    const [a, b] = await Promise.all([
      lake().export({ tables: ['inspections'], batchSize: 7, settleSeconds: 0 }),
      lake().export({ tables: ['inspections'], batchSize: 7, settleSeconds: 0 }),
    ]);
    expect(a.tables[0].rows + b.tables[0].rows).toBe(40);
    const files = [...a.tables[0].files, ...b.tables[0].files];
    expect(new Set(files).size).toBe(files.length);
    expect(files.length).toBeGreaterThanOrEqual(6);

    const versions = rowsOf('inspections').map((r) => `${r.id}@${r.updated_at}`);
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions).toHaveLength(await t.app.db.prisma.inspection.count());
    for (const file of readTable('inspections')) expect(file.rows.length).toBeLessThanOrEqual(7);
  });

  it('writes a batch again under the same name after the export died before recording it, so its rows stay single', async () => {
    await manualInspections(t, 3, 'crash test');
    const root = path.join(t.dataDir, 'objects');
    const written: string[] = [];
    // The file reaches the store, then the process "dies" before the watermark moves.
    const dying: ObjectStore = {
      kind: 'local',
      async put(key, body) {
        fs.mkdirSync(path.dirname(path.join(root, key)), { recursive: true });
        fs.writeFileSync(path.join(root, key), body as Buffer);
        written.push(key);
        throw new Error('connection lost');
      },
      get: () => Promise.reject(new Error('unused')),
      head: () => Promise.resolve(null),
      delete: () => Promise.resolve(),
    };
    await expect(new DataLakeService(t.app.db.prisma, dying).export({ tables: ['inspections'], settleSeconds: 0 })).rejects.toThrow(
      'connection lost',
    );
    expect(written).toHaveLength(1);

    const retry = await lake().export({ tables: ['inspections'], settleSeconds: 0 });
    expect(retry.tables[0]).toMatchObject({ rows: 3, files: written });
    const versions = rowsOf('inspections').map((r) => `${r.id}@${r.updated_at}`);
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions).toHaveLength(await t.app.db.prisma.inspection.count());
  });

  it('stops a table at maxRows and says it is not complete, then goes on from there', async () => {
    await manualInspections(t, 5, 'limit test');
    const first = (await lake().export({ tables: ['inspections'], batchSize: 2, maxRows: 3, settleSeconds: 0 })).tables[0];
    expect(first).toMatchObject({ rows: 3, complete: false });
    const rest = (await lake().export({ tables: ['inspections'], settleSeconds: 0 })).tables[0];
    expect(rest).toMatchObject({ rows: 2, complete: true });
    expect(rest.watermark!.getTime()).toBeGreaterThanOrEqual(first.watermark!.getTime());
  });

  it.each([
    [{ batchSize: 0 }, 'batchSize: must be a whole number from 1 to 100000'],
    [{ maxRows: 1.5 }, 'maxRows: must be a whole number of at least 1'],
    [{ settleSeconds: -1 }, 'settleSeconds: must be from 0 to 3600'],
    [{ tables: ['devices'] }, 'tables: unknown devices; the tables are inspections, detections, anomalies, defects, review_outcomes'],
    [{ tables: [] }, 'tables: name at least one table'],
  ])('refuses %j with a message naming the option', async (options, message) => {
    await expect(lake().export(options as never)).rejects.toThrow(message);
  });
});

describe('exportDataLake', () => {
  // An app of its own: a row stamped a minute ago would sit behind the other tests' watermark.
  let api: TestApp;
  beforeAll(async () => {
    api = await startTestApp();
  });
  afterAll(() => api.stop());
  const EXPORT = `mutation($t: [DataLakeTable!], $m: Int) {
    exportDataLake(tables: $t, maxRows: $m) { upTo tables { table rows files watermark complete } }
  }`;

  it('exports for an ADMIN through the API, rows older than the settle time only', async () => {
    const [old] = await manualInspections(api, 1, 'api test');
    // Made a minute ago: past the settle time.
    await api.app.db.prisma.$executeRawUnsafe(
      `UPDATE inspections SET updated_at = now() - interval '1 minute' WHERE id = $1::uuid`,
      old.id,
    );
    const res = ok(await api.gql(EXPORT, { t: ['INSPECTIONS'] })).exportDataLake;
    expect(res.tables).toEqual([
      {
        table: 'INSPECTIONS',
        rows: 1,
        files: [expect.stringMatching(/^datalake\/inspections\/dt=\d{4}-\d{2}-\d{2}\/part-\d{10}\.parquet$/)],
        watermark: expect.any(String),
        complete: true,
      },
    ]);
    expect(rowsOf('inspections', api).filter((r) => r.id === old.id)).toHaveLength(1);
  });

  it('refuses more than 100,000 rows a call, and callers that are not ADMIN', async () => {
    expect(failure(await api.gql(EXPORT, { m: 100_001 })).extensions?.code).toBe('BAD_USER_INPUT');
    expect(failure(await api.gql(EXPORT, {}, await api.keyFor('OPERATOR'))).extensions?.code).toBe('FORBIDDEN');
  });
});
