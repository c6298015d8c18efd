import { toGlobalId } from '../../src/common/global-id';
import { ok, startTestApp, type TestApp } from '../support/app';
import { seedFleet } from '../support/seed';

// A list of devices or inspections, or one device, and the lists below its rows are read in one statement
// (src/common/pagination/tree.ts); each nested list must answer exactly what it answers when read on its own
// (node(id:) reads a row by id and the lists below it one level at a time, through the loaders).

// The one statement of a tree read (its answer is the column `tree`).
const TREE = /AS tree$/;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ WEBHOOKS_SEND: 'false' });
  const prisma = t.app.db.prisma;
  await seedFleet(prisma, { devices: 6, inspectionsPerDevice: 3, anomaliesPerInspection: 3 });
  // A device without inspections, and anomalies in more than one status.
  await prisma.device.create({ data: { externalId: 'bare', name: 'Device 99999 bare', type: 'pole', latitude: 52, longitude: 5 } });
  const some = await prisma.anomaly.findMany({ orderBy: { id: 'asc' }, take: 20 });
  for (const [i, a] of some.entries()) if (i % 3 === 0) await prisma.anomaly.update({ where: { id: a.id }, data: { status: 'CONFIRMED' } });
});
afterAll(() => t.stop());

async function run(query: string, variables?: Record<string, unknown>) {
  const statements: string[] = [];
  const stop = t.app.db.onQuery((q) => statements.push(q.sql));
  try {
    return { data: ok(await t.gql(query, variables)), statements };
  } finally {
    stop();
  }
}

const INSPECTION_FIELDS = `id capturedAt status
  anomalies(first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { id type confidence status box { x y } } }
  images(first: 5, status: [READY]) { nodes { id status bytes } }`;

describe('a list and the lists below it', () => {
  it('are read in one statement, and each device answers what the device alone answers', async () => {
    const query = `{ devices(first: 50) { nodes { id name inspections(last: 2) { totalCount pageInfo { hasPreviousPage } nodes { ${INSPECTION_FIELDS} } } } } }`;
    await run(query);
    const { data, statements } = await run(query);
    // Besides the caller's API key and the lazily counted totalCounts.
    const selects = statements.filter((s) => !/api_keys|count\(/i.test(s));
    expect(selects).toHaveLength(1);
    expect(selects[0]).toMatch(TREE);
    // Page sizes are written into the text (a LIMIT parameter is planned again on every execution): the root's 50 + 1,
    // the 2 shown inspections of each device and the 2 + 1 read of each.
    expect(selects[0]).toMatch(/LIMIT 51\)\)::text AS tree$/);
    expect(selects[0]).toContain('<= 50 THEN');
    expect(selects[0]).toContain('LIMIT 3))');
    expect(selects[0]).not.toMatch(/LIMIT \$/);
    expect(data.devices.nodes).toHaveLength(7);
    const withInspections = data.devices.nodes.filter((d: any) => d.inspections.nodes.length > 0);
    expect(withInspections).toHaveLength(6);
    for (const device of data.devices.nodes) {
      const alone = ok(
        await t.gql(
          `query($id: ID!) { device(id: $id) { id name inspections(last: 2) { totalCount pageInfo { hasPreviousPage } nodes { ${INSPECTION_FIELDS} } } } }`,
          {
            id: device.id,
          },
        ),
      );
      expect(device).toEqual(alone.device);
    }
  });

  it('takes arguments from variables, cursors and filters as the lists read alone do', async () => {
    const all = ok(await t.gql('{ devices(first: 1) { nodes { id inspections(first: 3) { edges { cursor } } } } }'));
    const after = all.devices.nodes[0].inspections.edges[0].cursor;
    const query = `query($after: String, $status: [AnomalyStatus!]) { devices(first: 1) { nodes { id
      inspections(first: 2, after: $after) { nodes { id anomalies(first: 5) { nodes { id } } } }
      anomalies(first: 4, status: $status) { totalCount nodes { id status } } } } }`;
    const variables = { after, status: ['CONFIRMED'] };
    const { data, statements } = await run(query, variables);
    expect(statements.filter((s) => TREE.test(s))).toHaveLength(1);
    const device = data.devices.nodes[0];
    expect(device.anomalies.nodes.length).toBeGreaterThan(0);
    expect(device.anomalies.nodes.every((a: any) => a.status === 'CONFIRMED')).toBe(true);
    const alone = ok(
      await t.gql(
        `query($id: ID!, $after: String, $status: [AnomalyStatus!]) { node(id: $id) { ... on Device { id
          inspections(first: 2, after: $after) { nodes { id anomalies(first: 5) { nodes { id } } } }
          anomalies(first: 4, status: $status) { totalCount nodes { id status } } } } }`,
        { id: device.id, ...variables },
      ),
    );
    expect(device).toEqual(alone.node);
  });

  it('reads fragments and aliases with different arguments, each alias its own page', async () => {
    const query = `{ devices(first: 3) { nodes { ...D latest: inspections(last: 1) { nodes { id } } } } }
      fragment D on Device { first: inspections(first: 1) { nodes { id capturedAt } } }`;
    const { data, statements } = await run(query);
    expect(statements.filter((s) => TREE.test(s))).toHaveLength(1);
    for (const d of data.devices.nodes) {
      expect(d.first.nodes[0].capturedAt < (await capturedAtOf(d.latest.nodes[0].id))).toBe(true);
    }
  });

  it('the inspections list reads its devices, images and anomalies the same way', async () => {
    const device = 'device { id externalId name type status }';
    const query = `{ inspections(last: 5) { nodes { id ${device} ${INSPECTION_FIELDS} } } }`;
    await run(query);
    const { data, statements } = await run(query);
    // The devices too are in the one statement: no read of devices by id beside it.
    expect(statements.filter((s) => !/api_keys|count\(/i.test(s))).toEqual([expect.stringMatching(TREE)]);
    expect(new Set(data.inspections.nodes.map((i: any) => i.device.id)).size).toBeGreaterThan(1);
    for (const inspection of data.inspections.nodes) {
      const alone = ok(await t.gql(`query($id: ID!) { inspection(id: $id) { id ${device} ${INSPECTION_FIELDS} } }`, { id: inspection.id }));
      expect(inspection).toEqual(alone.inspection);
    }
  });

  it('one device by id reads the lists below it in the same statement (the device page)', async () => {
    const list = ok(await t.gql('{ devices(first: 6) { nodes { id } } }'));
    const fields = `id name type status latitude longitude inspections(last: 2) { nodes { ${INSPECTION_FIELDS} } }`;
    for (const { id } of list.devices.nodes) {
      const { data, statements } = await run(`query($id: ID!) { device(id: $id) { ${fields} } }`, { id });
      expect(statements.filter((s) => !/api_keys|count\(/i.test(s))).toHaveLength(1);
      const alone = ok(await t.gql(`query($id: ID!) { node(id: $id) { ... on Device { ${fields} } } }`, { id }));
      expect(data.device).toEqual(alone.node);
    }
    const missing = await t.gql('query($id: ID!) { device(id: $id) { id inspections(last: 1) { nodes { id } } } }', {
      id: toGlobalId('Device', '00000000-0000-4000-8000-000000000000'),
    });
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('a query with more lists below the rows than one statement takes reads the rest through the loaders', async () => {
    // 25 aliases × 4 levels: 100 levels, past MAX_LEVELS (and PostgreSQL's 100 arguments of one json_build_array).
    const aliases = Array.from({ length: 25 }, (_, i) => `i${i}: inspections(first: 1) { nodes { ...I } }`).join(' ');
    const query = `{ devices(first: 2) { nodes { id ${aliases} } } }
      fragment I on Inspection { id images(first: 1) { nodes { id anomalies(first: 1) { nodes { id } } } } anomalies(first: 1) { nodes { id } } }`;
    const { data } = await run(query);
    for (const device of data.devices.nodes) {
      const alone = ok(
        await t.gql(
          `query($id: ID!) { node(id: $id) { ... on Device { id ${aliases} } } }
        fragment I on Inspection { id images(first: 1) { nodes { id anomalies(first: 1) { nodes { id } } } } anomalies(first: 1) { nodes { id } } }`,
          { id: device.id },
        ),
      );
      expect(device).toEqual(alone.node);
      expect(device.i24.nodes).toHaveLength(1);
    }
  });

  it('a bad argument below a list fails that field as it does when read alone', async () => {
    const res = await t.gql('{ devices(first: 2) { nodes { id inspections(first: -1) { nodes { id } } } } }');
    expect(res.errors?.[0].message).toMatch(/first.*must not be negative/);
  });
});

async function capturedAtOf(id: string): Promise<string> {
  return ok(await t.gql('query($id: ID!) { inspection(id: $id) { capturedAt } }', { id })).inspection.capturedAt;
}
