import { toGlobalId } from '../../src/common/global-id';
import { ok, startTestApp, type TestApp } from '../support/app';

let t: TestApp;
let device: { id: string; gid: string };
let other: { id: string; gid: string };

beforeAll(async () => {
  t = await startTestApp();
  const prisma = t.app.db.prisma;
  const mk = async (externalId: string) => {
    const d = await prisma.device.create({ data: { externalId, name: externalId, type: 'insulator' } });
    return { id: d.id, gid: toGlobalId('Device', d.id) };
  };
  device = await mk('ins-A');
  other = await mk('ins-B');
  // Three inspections of A (Jan, Feb, Mar), one of B (Feb); each with one image and anomalies of varying confidence.
  const plan = [
    {
      d: device,
      month: 0,
      status: 'COMPLETED',
      anomalies: [
        ['missing-cap', 0.9, 'SUSPECTED'],
        ['crack', 0.3, 'REJECTED'],
      ],
    },
    { d: device, month: 1, status: 'COMPLETED', anomalies: [['crack', 0.7, 'CONFIRMED']] },
    { d: device, month: 2, status: 'PENDING', anomalies: [] },
    { d: other, month: 1, status: 'FAILED', anomalies: [['missing-cap', 0.55, 'SUSPECTED']] },
  ] as const;
  for (const [i, p] of plan.entries()) {
    const capturedAt = new Date(Date.UTC(2026, p.month, 10));
    const inspection = await prisma.inspection.create({
      data: { deviceId: p.d.id, source: 'DRONE', status: p.status, capturedAt, requestedBy: 'test' },
    });
    const image = await prisma.image.create({
      data: {
        inspectionId: inspection.id,
        objectKey: `images/${i}`,
        sha256: String(i).repeat(64),
        contentType: 'image/jpeg',
        bytes: 10,
        status: 'READY',
      },
    });
    const detection = await prisma.detection.create({
      data: {
        imageId: image.id,
        stage: 'INSPECT',
        detector: 'builtin',
        modelVersion: 'v1',
        isAnomalous: p.anomalies.length > 0,
        confidence: 0.8,
        result: { score: 0.8 },
      },
    });
    for (const [r, [type, confidence, status]] of p.anomalies.entries()) {
      await prisma.anomaly.create({
        data: {
          imageId: image.id,
          inspectionId: inspection.id,
          deviceId: p.d.id,
          detectionId: detection.id,
          regionIndex: r,
          type,
          confidence,
          status,
          source: 'MODEL',
          boxX: 0.1,
          boxY: 0.2,
          boxWidth: 0.3,
          boxHeight: 0.4,
          createdAt: new Date(capturedAt.getTime() + r * 1000),
        },
      });
    }
  }
});
afterAll(() => t.stop());

const ANOMALIES = `query($filter: AnomalyFilter, $orderBy: AnomalyOrder, $first: Int, $after: String) {
  anomalies(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { type confidence status device { externalId } }
  }
}`;

describe('inspections', () => {
  const LIST = `query($filter: InspectionFilter, $last: Int) { inspections(filter: $filter, last: $last) { totalCount nodes { capturedAt status device { externalId } } } }`;

  it('are listed in capture order and filtered by device, status and capture time', async () => {
    const all = ok(await t.gql(LIST, {})).inspections;
    expect(all.nodes.map((n: any) => n.capturedAt.slice(0, 7))).toEqual(['2026-01', '2026-02', '2026-02', '2026-03']);
    const ofA = ok(await t.gql(LIST, { filter: { deviceId: device.gid } })).inspections;
    expect(ofA.totalCount).toBe(3);
    expect(ofA.nodes.every((n: any) => n.device.externalId === 'ins-A')).toBe(true);
    const failed = ok(await t.gql(LIST, { filter: { status: ['FAILED'] } })).inspections;
    expect(failed.nodes).toEqual([{ capturedAt: '2026-02-10T00:00:00.000Z', status: 'FAILED', device: { externalId: 'ins-B' } }]);
    const window = ok(
      await t.gql(LIST, { filter: { capturedAfter: '2026-02-01T00:00:00Z', capturedBefore: '2026-02-28T00:00:00Z' } }),
    ).inspections;
    expect(window.totalCount).toBe(2);
    const latest = ok(await t.gql(LIST, { filter: { deviceId: device.gid }, last: 1 })).inspections;
    expect(latest.nodes[0].capturedAt).toBe('2026-03-10T00:00:00.000Z');
  });

  it('show their images, each image its detections and anomalies', async () => {
    const q = `query($id: ID!) { device(id: $id) { inspections(first: 1) { nodes { images { totalCount nodes { sha256 status inspection { status } detections { stage modelVersion isAnomalous result image { sha256 } } anomalies { totalCount nodes { type detection { modelVersion } } } } } anomalies { totalCount } } } } }`;
    const [first] = ok(await t.gql(q, { id: device.gid })).device.inspections.nodes;
    expect(first.anomalies.totalCount).toBe(2);
    const [image] = first.images.nodes;
    expect(first.images.totalCount).toBe(1);
    expect(image.detections).toEqual([
      { stage: 'INSPECT', modelVersion: 'v1', isAnomalous: true, result: { score: 0.8 }, image: { sha256: image.sha256 } },
    ]);
    expect(image.anomalies.totalCount).toBe(2);
    expect(image.anomalies.nodes.map((a: any) => a.type)).toEqual(['crack', 'missing-cap']);
    expect(image.anomalies.nodes[0].detection).toEqual({ modelVersion: 'v1' });
  });
});

describe('anomalies', () => {
  it('are listed newest first with their box and device', async () => {
    const res = ok(
      await t.gql(
        `{ anomalies { totalCount nodes { type box { x y width height } device { externalId } inspection { status } image { status } } } }`,
      ),
    ).anomalies;
    expect(res.totalCount).toBe(4);
    expect(res.nodes[0]).toMatchObject({ type: 'missing-cap', device: { externalId: 'ins-B' } });
    expect(res.nodes[0].box).toEqual({ x: 0.1, y: 0.2, width: 0.3, height: 0.4 });
  });

  it.each([
    [{ deviceId: 'A' }, 3],
    [{ status: ['SUSPECTED'] }, 2],
    [{ status: ['SUSPECTED', 'CONFIRMED'] }, 3],
    [{ type: 'crack' }, 2],
    [{ minConfidence: 0.55 }, 3],
    [{ minConfidence: 0.56 }, 2],
    [{ since: '2026-02-01T00:00:00Z' }, 2],
    [{ status: ['SUSPECTED'], minConfidence: 0.5, deviceId: 'A' }, 1],
  ])('filter %j → %i', async (filter, expected) => {
    const f = { ...filter, ...('deviceId' in filter ? { deviceId: device.gid } : {}) };
    const res = ok(await t.gql(ANOMALIES, { filter: f })).anomalies;
    expect(res.totalCount).toBe(expected);
    expect(res.nodes).toHaveLength(expected);
  });

  it('order by confidence and page through it with cursors', async () => {
    const orderBy = { field: 'CONFIDENCE', direction: 'DESC' };
    const p1 = ok(await t.gql(ANOMALIES, { orderBy, first: 2 })).anomalies;
    expect(p1.nodes.map((n: any) => n.confidence)).toEqual([0.9, 0.7]);
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const p2 = ok(await t.gql(ANOMALIES, { orderBy, first: 2, after: p1.pageInfo.endCursor })).anomalies;
    expect(p2.nodes.map((n: any) => n.confidence)).toEqual([0.55, 0.3]);
    expect(p2.pageInfo.hasNextPage).toBe(false);
  });

  it('of a device can be restricted to open ones, and openAnomalyCount counts those', async () => {
    const q = `query($id: ID!) { device(id: $id) { openAnomalyCount anomalies(status: [SUSPECTED, CONFIRMED]) { totalCount nodes { status } } all: anomalies { totalCount } } }`;
    const d = ok(await t.gql(q, { id: device.gid })).device;
    expect(d.openAnomalyCount).toBe(2);
    expect(d.anomalies.totalCount).toBe(2);
    expect(d.anomalies.nodes.map((n: any) => n.status).sort()).toEqual(['CONFIRMED', 'SUSPECTED']);
    expect(d.all.totalCount).toBe(3);
  });

  it('nested pages of several parents page independently with their own cursors', async () => {
    const q = `query($after: String) { devices(orderBy: { field: EXTERNAL_ID }) { nodes { externalId anomalies(first: 1, after: $after) { pageInfo { hasNextPage endCursor } nodes { type confidence } } } } }`;
    const first = ok(await t.gql(q, {})).devices.nodes;
    expect(first.map((d: any) => [d.externalId, d.anomalies.nodes.length, d.anomalies.pageInfo.hasNextPage])).toEqual([
      ['ins-A', 1, true],
      ['ins-B', 1, false],
    ]);
    const cursor = first[0].anomalies.pageInfo.endCursor;
    const next = ok(await t.gql(q, { after: cursor })).devices.nodes;
    expect(next[0].anomalies.nodes).toHaveLength(1);
    expect(next[0].anomalies.nodes[0]).not.toEqual(first[0].anomalies.nodes[0]);
  });

  it('can be fetched one by one and through node()', async () => {
    const [a] = ok(await t.gql(`{ anomalies(first: 1) { nodes { id type } } }`)).anomalies.nodes;
    expect(ok(await t.gql(`query($id: ID!) { anomaly(id: $id) { type } }`, { id: a.id })).anomaly.type).toBe(a.type);
    expect(ok(await t.gql(`query($id: ID!) { node(id: $id) { ... on Anomaly { type } } }`, { id: a.id })).node.type).toBe(a.type);
  });
});
