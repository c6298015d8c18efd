import { getNamedType, type GraphQLField, type GraphQLSchema, isLeafType, isObjectType, isRequiredArgument } from 'graphql';
import { buildVigilSchema } from '../../src/app/schema';
import { ok, startTestApp, type TestApp } from '../support/app';
import { seedFleet } from '../support/seed';

// List reads fetch only the columns their query's fields read (src/graphql/projection.ts). Each field of each row
// type read through a list must answer what the same field answers on a whole row (node(id:) reads whole rows).

let t: TestApp;
let schema: GraphQLSchema;
beforeAll(async () => {
  t = await startTestApp({ WEBHOOKS_SEND: 'false' });
  schema = buildVigilSchema();
  const prisma = t.app.db.prisma;
  await seedFleet(prisma, { devices: 2, inspectionsPerDevice: 2, anomaliesPerInspection: 2 });
  // Values for the fields that are null in the seed, so a column left out would show.
  const anomaly = await prisma.anomaly.findFirstOrThrow({ orderBy: { id: 'asc' } });
  await prisma.anomaly.update({
    where: { id: anomaly.id },
    data: {
      severity: 'LOW',
      severityOverride: 'HIGH',
      severityReason: 'seen from the ground',
      severitySetBy: 'ops',
      severitySetAt: new Date(),
    },
  });
  const [ready, rejected] = await prisma.image.findMany({ orderBy: { id: 'asc' }, take: 2 });
  await prisma.image.update({
    where: { id: ready.id },
    data: { normalizedKey: 'n/1.jpg', thumbnailKey: 't/1.jpg', width: 640, height: 480 },
  });
  await prisma.image.update({
    where: { id: rejected.id },
    data: { status: 'REJECTED', rejectionReason: 'CORRUPT', rejectionMessage: 'cannot be decoded' },
  });
  // Two defects of one device, one of them resolved (its nullable fields set) and linked to an observation.
  const seen = { firstSeenAt: new Date('2026-01-02T00:00:00Z'), lastSeenAt: new Date('2026-02-03T00:00:00Z') };
  const box = { boxX: 0.1, boxY: 0.2, boxWidth: 0.3, boxHeight: 0.4, firstArea: 0.06, lastArea: 0.12 };
  const open = await prisma.defect.create({
    data: { deviceId: anomaly.deviceId, type: 'crack', severity: 'MEDIUM', confidence: 0.8, ...seen, ...box },
  });
  await prisma.anomaly.update({ where: { id: anomaly.id }, data: { defectId: open.id } });
  await prisma.defect.create({
    data: {
      deviceId: anomaly.deviceId,
      type: 'rust',
      status: 'RESOLVED',
      severity: 'HIGH',
      confirmed: true,
      confidence: 0.9,
      observationCount: 3,
      reopenCount: 1,
      fixedAt: new Date('2026-03-01T00:00:00Z'),
      resolvedAt: new Date('2026-03-02T00:00:00Z'),
      resolvedBy: 'ops',
      resolution: 'replaced',
      ...seen,
      ...box,
    },
  });
});
afterAll(() => t.stop());

/** A selection of `field` that reads it as a client would: leaves as they are, objects by their leaves, connections by count and ids. */
function selection(field: GraphQLField<unknown, unknown>): string | null {
  if (field.args.some(isRequiredArgument)) return null;
  const type = getNamedType(field.type);
  if (isLeafType(type)) return field.name;
  if (!isObjectType(type)) return null;
  const fields = type.getFields();
  if (fields.nodes) return `${field.name}(first: 3) { totalCount nodes { id } }`;
  const leaves = Object.values(fields).filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some(isRequiredArgument));
  return leaves.length ? `${field.name} { ${leaves.map((f) => f.name).join(' ')} }` : null;
}

// Signed links carry their expiry: whether there is one is what a missing column would change.
const normalise = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value), (_k, v) => (typeof v === 'string' && /^https?:\/\//.test(v) ? 'a link' : v));

/** Each list, and the query that reads one of its rows whole (node(id:) unless said). */
const LISTS: Record<string, { list: (fields: string) => string; rows: (data: any) => any[]; whole?: (fields: string) => string }> = {
  Device: { list: (f) => `{ devices(first: 50) { nodes { id ${f} } } }`, rows: (d) => d.devices.nodes },
  Anomaly: { list: (f) => `{ anomalies(first: 50) { nodes { id ${f} } } }`, rows: (d) => d.anomalies.nodes },
  Inspection: {
    list: (f) => `{ devices(first: 10) { nodes { inspections(first: 10) { nodes { id ${f} } } } } }`,
    rows: (d) => d.devices.nodes.flatMap((n: any) => n.inspections.nodes),
  },
  'Inspection (top level)': {
    list: (f) => `{ inspections(last: 50, filter: { capturedAfter: "2025-01-01T00:00:00Z" }) { nodes { id ${f} } } }`,
    rows: (d) => d.inspections.nodes,
  },
  Image: {
    list: (f) => `{ devices(first: 5) { nodes { inspections(first: 5) { nodes { images(first: 5) { edges { node { id ${f} } } } } } } } }`,
    rows: (d) => d.devices.nodes.flatMap((n: any) => n.inspections.nodes.flatMap((i: any) => i.images.edges.map((e: any) => e.node))),
  },
  Defect: {
    list: (f) => `{ defects(first: 50) { nodes { id ${f} } } }`,
    rows: (d) => d.defects.nodes,
    whole: (f) => `query($id: ID!) { defect(id: $id) { id ${f} } }`,
  },
};

describe.each(Object.keys(LISTS))('every field of %s read through a list', (typeName) => {
  it('answers what it answers on the whole row', async () => {
    const type = schema.getType(typeName.split(' ')[0]);
    if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
    const fields = Object.values(type.getFields())
      .map(selection)
      .filter((s): s is string => s !== null);
    expect(fields.length).toBeGreaterThan(5);
    const { list, rows, whole } = LISTS[typeName];
    for (const field of fields) {
      const listed = rows(ok(await t.gql(list(field))));
      expect(listed.length).toBeGreaterThan(1);
      for (const row of listed) {
        const query = whole?.(field) ?? `query($id: ID!) { node(id: $id) { ... on ${type.name} { id ${field} } } }`;
        const same = Object.values(ok(await t.gql(query, { id: row.id })))[0];
        expect({ field, row: normalise(row) }).toEqual({ field, row: normalise(same) });
      }
    }
  });
});

describe('defects read as JSON', () => {
  const types = async (args: string) =>
    ok(await t.gql(`{ defects(${args}) { nodes { type } pageInfo { hasNextPage endCursor } } }`)).defects;

  it('filter by status, type, severity and device, and page by cursor, as the whole rows do', async () => {
    const names = async (args: string) => (await types(args)).nodes.map((n: { type: string }) => n.type).sort();
    expect(await names('first: 10')).toEqual(['crack', 'rust']);
    expect(await names('first: 10, filter: { status: [RESOLVED] }')).toEqual(['rust']);
    expect(await names('first: 10, filter: { status: [OPEN, FIXED] }')).toEqual(['crack']);
    expect(await names('first: 10, filter: { type: "crack" }')).toEqual(['crack']);
    expect(await names('first: 10, filter: { minSeverity: HIGH }')).toEqual(['rust']);
    expect(await names('first: 10, filter: { minSeverity: MEDIUM }')).toEqual(['crack', 'rust']);
    expect(await names('first: 10, filter: { minSeverity: CRITICAL }')).toEqual([]);
    const devices = ok(await t.gql('{ devices(first: 10) { nodes { id } } }')).devices.nodes.map((d: { id: string }) => d.id);
    const perDevice = await Promise.all(devices.map((id: string) => names(`first: 10, filter: { deviceId: "${id}" }`)));
    expect(perDevice.flat().sort()).toEqual(['crack', 'rust']);
    expect(perDevice.filter((list) => list.length === 0)).toHaveLength(devices.length - 1);
    // Newest first: the resolved one was made last.
    const first = await types('first: 1');
    expect(first.nodes.map((n: { type: string }) => n.type)).toEqual(['rust']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = await types(`first: 1, after: "${first.pageInfo.endCursor}"`);
    expect(next.nodes.map((n: { type: string }) => n.type)).toEqual(['crack']);
    expect(next.pageInfo.hasNextPage).toBe(false);
  });
});

describe('the SQL of a list read', () => {
  async function statementsOf(query: string): Promise<string> {
    const statements: string[] = [];
    const stop = t.app.db.onQuery((q) => statements.push(q.sql));
    try {
      ok(await t.gql(query));
    } finally {
      stop();
    }
    return statements.join('\n');
  }

  it('names only the columns its fields read, and what a computed field declares', async () => {
    const slim = await statementsOf('{ anomalies(first: 5) { nodes { id type box { x } } } }');
    expect(slim).toContain('t."box_x"');
    expect(slim).toContain('t."type"');
    expect(slim).not.toContain('t."severity_reason"');
    expect(slim).not.toContain('t."confidence"');
    const override = await statementsOf('{ anomalies(first: 5) { nodes { id severityOverride { reason } } } }');
    expect(override).toContain('t."severity_reason"');
    expect(override).not.toContain('t."box_x"');
  });

  it('reads a page of defects as one JSON text of the columns asked', async () => {
    const sql = await statementsOf(
      '{ defects(first: 5, filter: { status: [OPEN], minSeverity: MEDIUM }) { nodes { id type box { x } } } }',
    );
    expect(sql).toContain('FROM "defects" t');
    expect(sql).toContain('t."box_x"');
    expect(sql).not.toContain('t."resolution"');
    expect(sql).toContain('::"DefectStatus"');
    expect(sql).toContain('::"Severity"');
  });

  it('reads the ordering keys for the cursors even when the query does not ask for them', async () => {
    const sql = await statementsOf('{ anomalies(first: 2, orderBy: { field: CONFIDENCE, direction: ASC }) { edges { cursor } } }');
    expect(sql).toContain('t."confidence"');
    expect(sql).toContain('t."id"');
    expect(sql).not.toContain('t."type"');
  });
});
