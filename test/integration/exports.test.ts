import crypto from 'node:crypto';
import { check } from '@placemarkio/check-geojson';
import { parse } from 'csv-parse/sync';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { toGlobalId } from '../../src/common/global-id';
import { signToken } from '../../src/uploads/signed-token';
import { ADMIN_SECRET, failure, ok, startTestApp, type TestApp } from '../support/app';
import { daysAgo, defectsOf, inspect, newDevice } from '../support/repairs';
import { newKey } from '../support/reviews';
import { tamperedToken } from '../support/tokens';

// GeoJSON, KML and CSV exports through the real HTTP API: a signed link from createExport, then the
// streamed file, validated (GeoJSON by @placemarkio/check-geojson) or parsed (KML, CSV).

const SECRET = 'test-export-signing-secret-0123456789abcdef';
const TRICKY_NAME = `Tower "A", <north> & 'east'`;
const CREW = 'Crew "North", shift 2\nnight';
const FORMULA_NOTES = '=HYPERLINK("http://evil.example","click")';

let t: TestApp;
let integrator: string;
let operator: string;
const ids: Record<'a' | 'b' | 'c' | 'd', string> = { a: '', b: '', c: '', d: '' };
let crackId: string;
let workOrderId: string;

const CREATE = `mutation($i: CreateExportInput!) { createExport(input: $i) { kind url expiresAt contentType } }`;

async function link(kind: string, filter?: Record<string, unknown>, as = integrator) {
  return ok(await t.gql(CREATE, { i: { kind, filter } }, as)).createExport as {
    kind: string;
    url: string;
    expiresAt: string;
    contentType: string;
  };
}

async function download(kind: string, filter?: Record<string, unknown>) {
  const res = await fetch((await link(kind, filter)).url);
  expect(res.status).toBe(200);
  return { res, text: await res.text() };
}

const geojson = async (filter?: Record<string, unknown>) => JSON.parse((await download('DEVICES_GEOJSON', filter)).text);
const csv = (text: string) => parse(text, { columns: true, bom: true }) as Record<string, string>[];
const uuidOf = (globalId: string) => Buffer.from(globalId, 'base64url').toString('utf8').split(':')[1];

async function insertDevice(data: {
  name: string;
  type: string;
  status?: 'OK' | 'NEEDS_ATTENTION';
  latitude?: number;
  longitude?: number;
}) {
  const d = await t.app.db.prisma.device.create({ data: { externalId: `x-${crypto.randomUUID().slice(0, 8)}`, ...data } });
  return toGlobalId('Device', d.id);
}

async function insertDefect(deviceGlobalId: string, type: string, severity: 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL', days = 5) {
  const box = { boxX: 0.1, boxY: 0.1, boxWidth: 0.2, boxHeight: 0.2, firstArea: 0.04, lastArea: 0.04 };
  const seen = { firstSeenAt: daysAgo(days), lastSeenAt: daysAgo(1) };
  const d = await t.app.db.prisma.defect.create({
    data: { deviceId: uuidOf(deviceGlobalId), type, severity, confidence: 0.8, ...seen, ...box },
  });
  return Buffer.from(`Defect:${d.id}`).toString('base64url');
}

beforeAll(async () => {
  t = await startTestApp({ UPLOAD_SIGNING_SECRET: SECRET });
  integrator = await t.keyFor('INTEGRATOR');
  operator = await t.keyFor('OPERATOR');
  // A: a defect the production way (detection run, review, tracker), then a second one and a resolved one.
  const a = await newDevice(t, 'HIGH', 'tower');
  ids.a = a.id;
  await inspect(t, await newKey(t, 'REVIEWER'), a.id, daysAgo(3), [{ box: { x: 0.1, y: 0.1, width: 0.4, height: 0.4 }, type: 'crack' }]);
  crackId = (await defectsOf(t, a.id))[0].id;
  ok(await t.gql(`mutation($id: ID!, $n: String!) { updateDevice(id: $id, input: { name: $n }) { id } }`, { id: a.id, n: TRICKY_NAME }));
  await insertDefect(a.id, 'rust', 'LOW');
  const resolved = await insertDefect(a.id, 'bird-nest', 'MEDIUM');
  ok(await t.gql(`mutation($id: ID!) { resolveDefect(id: $id, reason: "@SUM(1+1) removed by crew") { id } }`, { id: resolved }, operator));
  ids.b = await insertDevice({ name: 'Tower B', type: 'tower', status: 'OK', latitude: 40.7, longitude: -73.9 });
  ids.c = await insertDevice({ name: 'Tower C (no position)', type: 'tower' });
  await insertDefect(ids.c, 'crack', 'CRITICAL');
  ids.d = await insertDevice({ name: '-2+3 pole', type: 'pole', status: 'NEEDS_ATTENTION', latitude: -17, longitude: -179.5 });
  const poleDefect = await insertDefect(ids.d, 'lean', 'MEDIUM');
  const WO = `mutation($i: CreateWorkOrderInput!) { createWorkOrder(input: $i) { id } }`;
  workOrderId = ok(await t.gql(WO, { i: { defectIds: [crackId], assignee: CREW, notes: FORMULA_NOTES } }, operator)).createWorkOrder.id;
  const second = ok(await t.gql(WO, { i: { defectIds: [poleDefect], priority: 'URGENT' } }, operator)).createWorkOrder.id;
  ok(await t.gql(`mutation($id: ID!) { moveWorkOrder(id: $id, status: SCHEDULED) { id } }`, { id: second }, operator));
});
afterAll(() => t.stop());

describe('the GeoJSON export', () => {
  it('is a valid RFC 7946 FeatureCollection of every device with its status and open defects', async () => {
    const created = await link('DEVICES_GEOJSON');
    expect(created.contentType).toBe('application/geo+json');
    expect(new Date(created.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(created.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exports\/[\w-]+\.[\w-]+$/);
    const res = await fetch(created.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/geo+json');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="vigil-devices-\d{8}T\d{6}Z\.geojson"$/);
    const text = await res.text();
    expect(() => check(text)).not.toThrow();
    const collection = JSON.parse(text);
    expect(collection.type).toBe('FeatureCollection');
    const byId = new Map(collection.features.map((f: { id: string }) => [f.id, f]));
    expect([...byId.keys()].sort()).toEqual(Object.values(ids).sort());
    const a = byId.get(ids.a) as any;
    const [crack] = await defectsOf(t, ids.a, 'id severity firstSeenAt lastSeenAt');
    expect(a.geometry).toEqual({ type: 'Point', coordinates: [5.1, 52.1] });
    expect(a.properties).toMatchObject({
      id: ids.a,
      name: TRICKY_NAME,
      type: 'tower',
      status: 'NEEDS_ATTENTION',
      criticality: 'HIGH',
      openDefectCount: 2,
      worstSeverity: crack.severity,
    });
    // The most severe first; the resolved one is not open.
    expect(a.properties.openDefects.map((d: { type: string }) => d.type)).toEqual(['crack', 'rust']);
    expect(a.properties.openDefects[0]).toEqual({ ...crack, type: 'crack', confirmed: true, confidence: expect.any(Number) });
    const c = byId.get(ids.c) as any;
    expect(c.geometry).toBeNull();
    expect(c.properties).toMatchObject({ worstSeverity: 'CRITICAL', openDefectCount: 1, 'marker-color': '#6a1b9a' });
    expect((byId.get(ids.b) as any).properties).toMatchObject({ status: 'OK', openDefectCount: 0, worstSeverity: null, openDefects: [] });
    expect((byId.get(ids.d) as any).geometry.coordinates).toEqual([-179.5, -17]);
  });

  it('filters by device type, status, bounding box (across the antimeridian too) and severity', async () => {
    const idsOf = async (filter: Record<string, unknown>) => (await geojson(filter)).features.map((f: { id: string }) => f.id).sort();
    expect(await idsOf({ deviceType: 'tower' })).toEqual([ids.a, ids.b, ids.c].sort());
    expect(await idsOf({ deviceStatus: ['OK'] })).toEqual([ids.b]);
    expect(await idsOf({ bbox: { west: 5, south: 52, east: 5.2, north: 52.2 } })).toEqual([ids.a]);
    expect(await idsOf({ bbox: { west: 170, south: -20, east: -170, north: -10 } })).toEqual([ids.d]);
    expect(await idsOf({ minSeverity: 'CRITICAL' })).toEqual([ids.c]);
    expect(await idsOf({ deviceType: 'tower', minSeverity: 'LOW', deviceStatus: ['NEEDS_ATTENTION', 'UNKNOWN'] })).toEqual(
      [ids.a, ids.c].sort(),
    );
    expect((await geojson({ deviceType: 'no-such-type' })).features).toEqual([]);
  });

  it('refuses a filter that is out of range or does not apply, saying which field', async () => {
    const refused = async (kind: string, filter: Record<string, unknown>) =>
      failure(await t.gql(CREATE, { i: { kind, filter } }, integrator)).extensions;
    expect(await refused('DEVICES_GEOJSON', { bbox: { west: 200, south: 0, east: 10, north: 10 } })).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'filter.bbox.west',
    });
    expect(await refused('DEVICES_GEOJSON', { bbox: { west: 0, south: 10, east: 10, north: 0 } })).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'filter.bbox',
    });
    expect(await refused('DEVICES_KML', { workOrderStatus: ['OPEN'] })).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'filter.workOrderStatus',
    });
    expect(await refused('WORK_ORDERS_CSV', { minSeverity: 'HIGH' })).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'filter.minSeverity',
    });
    expect(await refused('DEFECTS_CSV', { deviceType: 'Not A Type' })).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'filter.deviceType',
    });
    expect(await refused('DEFECTS_CSV', { defectStatus: [] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.defectStatus' });
  });
});

describe('the KML export', () => {
  it('parses, with a style per severity, escaped names and lon,lat coordinates', async () => {
    const { res, text } = await download('DEVICES_KML');
    expect(res.headers.get('content-type')).toBe('application/vnd.google-earth.kml+xml');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="vigil-devices-\d{8}T\d{6}Z\.kml"$/);
    expect(XMLValidator.validate(text)).toBe(true);
    const list = ['Placemark', 'Style', 'Data'];
    const kml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => list.includes(name) }).parse(text);
    expect(kml.kml.xmlns).toBe('http://www.opengis.net/kml/2.2');
    const doc = kml.kml.Document;
    const styles = new Map(doc.Style.map((s: any) => [s.id, s.IconStyle]));
    expect([...styles.keys()].sort()).toEqual(['severity-CRITICAL', 'severity-HIGH', 'severity-LOW', 'severity-MEDIUM', 'severity-NONE']);
    for (const style of styles.values()) expect((style as any).color).toMatch(/^ff[0-9a-f]{6}$/);
    expect(doc.Placemark).toHaveLength(4);
    const byId = new Map(doc.Placemark.map((p: any) => [p.id, p]));
    for (const p of byId.values()) expect(styles.has((p as any).styleUrl.slice(1))).toBe(true);
    const a = byId.get(ids.a) as any;
    const [crack] = await defectsOf(t, ids.a, 'severity');
    expect(a.name).toBe(TRICKY_NAME);
    expect(a.styleUrl).toBe(`#severity-${crack.severity}`);
    expect(a.Point.coordinates).toBe('5.1,52.1');
    expect(a.description).toContain('2 open defect(s)');
    const data = Object.fromEntries(a.ExtendedData.Data.map((d: any) => [d.name, d.value]));
    expect(data).toMatchObject({ id: ids.a, type: 'tower', status: 'NEEDS_ATTENTION', openDefectCount: 2 });
    expect(JSON.parse(data.openDefects).map((d: { type: string }) => d.type)).toEqual(['crack', 'rust']);
    expect((byId.get(ids.d) as any).Point.coordinates).toBe('-179.5,-17');
    expect((byId.get(ids.b) as any).styleUrl).toBe('#severity-NONE');
    expect((byId.get(ids.c) as any).Point).toBeUndefined();
    expect((byId.get(ids.c) as any).styleUrl).toBe('#severity-CRITICAL');
  });
});

describe('the CSV exports', () => {
  it('list defects one per row, quoting commas, quotes and newlines and defusing formulas', async () => {
    const { res, text } = await download('DEFECTS_CSV');
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="vigil-defects-\d{8}T\d{6}Z\.csv"$/);
    const rows = csv(text);
    expect(rows).toHaveLength(5);
    const crack = rows.find((r) => r.defect_id === crackId)!;
    expect(crack).toMatchObject({
      device_id: ids.a,
      device_name: TRICKY_NAME,
      device_type: 'tower',
      latitude: '52.1',
      longitude: '5.1',
      type: 'crack',
      status: 'OPEN',
      confirmed: 'true',
      work_order_id: workOrderId,
    });
    expect(new Date(crack.first_seen_at).toISOString()).toBe(crack.first_seen_at);
    const resolved = rows.find((r) => r.status === 'RESOLVED')!;
    expect(resolved.resolution).toBe("'@SUM(1+1) removed by crew");
    expect(resolved.resolved_by).toBe('test OPERATOR');
    const pole = rows.find((r) => r.device_id === ids.d)!;
    // Text starting with - is defused; negative numbers stay numbers.
    expect(pole).toMatchObject({ device_name: "'-2+3 pole", longitude: '-179.5', latitude: '-17', severity: 'MEDIUM' });
    expect(rows.find((r) => r.device_id === ids.c)).toMatchObject({ latitude: '', longitude: '', severity: 'CRITICAL' });
  });

  it('filter defects by status, severity and device type', async () => {
    const rowsOf = async (filter: Record<string, unknown>) => csv((await download('DEFECTS_CSV', filter)).text);
    expect((await rowsOf({ defectStatus: ['RESOLVED'] })).map((r) => r.type)).toEqual(['bird-nest']);
    expect((await rowsOf({ minSeverity: 'CRITICAL' })).map((r) => r.device_id)).toEqual([ids.c]);
    expect((await rowsOf({ deviceType: 'pole', defectStatus: ['OPEN'] })).map((r) => r.type)).toEqual(['lean']);
    expect(
      (await rowsOf({ bbox: { west: 5, south: 52, east: 5.2, north: 52.2 }, defectStatus: ['OPEN'] })).map((r) => r.type).sort(),
    ).toEqual(['crack', 'rust']);
  });

  it('list work orders with their device and defects, filtered by status', async () => {
    const { text } = await download('WORK_ORDERS_CSV');
    const rows = csv(text);
    expect(rows).toHaveLength(2);
    const first = rows.find((r) => r.work_order_id === workOrderId)!;
    expect(first).toMatchObject({
      status: 'OPEN',
      priority: 'NORMAL',
      assignee: CREW,
      notes: `'${FORMULA_NOTES}`,
      automatic: 'false',
      created_by: 'test OPERATOR',
      device_id: ids.a,
      device_name: TRICKY_NAME,
      defect_count: '1',
      defect_ids: crackId,
      defect_types: 'crack',
      findings: 'PENDING',
    });
    const scheduled = csv((await download('WORK_ORDERS_CSV', { workOrderStatus: ['SCHEDULED'] })).text);
    expect(scheduled.map((r) => [r.status, r.priority, r.device_id, r.worst_severity])).toEqual([['SCHEDULED', 'URGENT', ids.d, 'MEDIUM']]);
    expect(csv((await download('WORK_ORDERS_CSV', { workOrderStatus: ['DONE'] })).text)).toEqual([]);
    // A UTF-8 byte order mark (for spreadsheets) and the header even when no row follows.
    const empty = Buffer.from(await (await fetch((await link('WORK_ORDERS_CSV', { workOrderStatus: ['DONE'] })).url)).arrayBuffer());
    expect(empty.toString('utf8')).toMatch(/^\ufeffwork_order_id,status,[a-z_,]+\n$/);
  });
});

describe('export links', () => {
  it('are for ADMIN, OPERATOR and INTEGRATOR keys, not REVIEWER keys nor anonymous callers', async () => {
    const reviewer = await t.keyFor('REVIEWER');
    expect(failure(await t.gql(CREATE, { i: { kind: 'DEFECTS_CSV' } }, reviewer)).extensions?.code).toBe('FORBIDDEN');
    expect(failure(await t.gql(CREATE, { i: { kind: 'DEFECTS_CSV' } }, null)).extensions?.code).toBe('UNAUTHENTICATED');
    for (const key of [operator, ADMIN_SECRET]) expect((await link('WORK_ORDERS_CSV', undefined, key)).kind).toBe('WORK_ORDERS_CSV');
  });

  it('refuse expired, tampered and foreign tokens with a JSON 4xx', async () => {
    const base = `${t.app.url}/exports`;
    const refusal = async (res: Response) => [res.status, ((await res.json()) as { error: string }).error];
    const expired = signToken({ export: 'DEFECTS_CSV', filter: {} }, SECRET, new Date(Date.now() - 1000));
    const gone = await fetch(`${base}/${expired}`);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ error: 'EXPIRED', message: expect.stringMatching(/expired/) });
    const token = (await link('DEFECTS_CSV')).url.split('/exports/')[1];
    const tampered = await fetch(`${base}/${tamperedToken(token)}`);
    expect(await refusal(tampered)).toEqual([403, 'INVALID']);
    const garbled = await fetch(`${base}/not-a-token`);
    expect(await refusal(garbled)).toEqual([403, 'INVALID']);
    const imageLink = signToken({ key: 'uploads/x' }, SECRET, new Date(Date.now() + 60_000));
    const wrong = await fetch(`${base}/${imageLink}`);
    expect(await refusal(wrong)).toEqual([403, 'WRONG_LINK']);
    const unknownKind = signToken({ export: 'PASSWORDS_CSV', filter: {} }, SECRET, new Date(Date.now() + 60_000));
    expect((await fetch(`${base}/${unknownKind}`)).status).toBe(403);
    // Nor does an export link open anything on the image routes.
    const object = await fetch(`${t.app.url}/objects/${token}`);
    expect(object.status).toBe(403);
  });
});

describe('a fleet larger than a page', () => {
  const FLEET = 2345;
  const PAGE = 1000;

  beforeAll(async () => {
    const data = Array.from({ length: FLEET }, (_, i) => ({
      id: crypto.randomUUID(),
      externalId: `fleet-${i}`,
      name: `Fleet ${i}`,
      type: 'fleet',
      latitude: 50 + (i % 100) * 0.01,
      longitude: 4 + Math.floor(i / 100) * 0.01,
    }));
    await t.app.db.prisma.device.createMany({ data });
    // Defects on the devices either side of each page boundary (in id order) land with their own device.
    const sorted = data.map((d) => d.id).sort();
    for (const i of [0, PAGE - 1, PAGE, 2 * PAGE - 1, 2 * PAGE, FLEET - 1])
      await insertDefect(toGlobalId('Device', sorted[i]), 'crack', 'HIGH');
  });

  it('streams in keyset pages: every device once, in id order, with its own defects', async () => {
    const statements: string[] = [];
    const stop = t.app.db.onQuery((q) => statements.push(q.sql));
    let collection: any;
    try {
      const { text } = await download('DEVICES_GEOJSON', { deviceType: 'fleet' });
      expect(() => check(text)).not.toThrow();
      collection = JSON.parse(text);
    } finally {
      stop();
    }
    const pages = statements.filter((s) => /FROM "public"\."devices"/.test(s) && /LIMIT/.test(s));
    expect(pages).toHaveLength(Math.ceil(FLEET / PAGE));
    const uuids = collection.features.map((f: { id: string }) => uuidOf(f.id));
    expect(uuids).toHaveLength(FLEET);
    expect(uuids).toEqual([...uuids].sort());
    const withDefects = collection.features.flatMap((f: any, i: number) => (f.properties.openDefectCount ? [i] : []));
    expect(withDefects).toEqual([0, PAGE - 1, PAGE, 2 * PAGE - 1, 2 * PAGE, FLEET - 1]);
  });

  it('stops reading when the client goes away, and frees its place for the next export', async () => {
    for (let i = 0; i < 6; i++) {
      const controller = new AbortController();
      const res = await fetch((await link('DEVICES_KML', { deviceType: 'fleet' })).url, { signal: controller.signal });
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
    }
    const { text } = await download('DEVICES_KML', { deviceType: 'fleet' });
    expect(text.match(/<Placemark /g)).toHaveLength(FLEET);
  });
});
