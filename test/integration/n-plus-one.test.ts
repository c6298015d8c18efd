import { ok, startTestApp, type TestApp } from '../support/app';
import { seedFleet } from '../support/seed';

let t: TestApp;
beforeAll(async () => {
  // Statements are counted: the webhook sender's own polling must not land among them.
  t = await startTestApp({ WEBHOOKS_SEND: 'false' });
  await seedFleet(t.app.db.prisma, { devices: 60, inspectionsPerDevice: 2, anomaliesPerInspection: 2 });
});
afterAll(() => t.stop());

const QUERY = `query($n: Int!) {
  devices(first: $n) {
    totalCount
    nodes {
      id name openAnomalyCount
      inspections(last: 1) {
        totalCount
        nodes { id capturedAt device { id } anomalies(first: 10) { totalCount nodes { id confidence image { id } device { name } } } }
      }
    }
  }
}`;

async function statementsFor(n: number) {
  const statements: string[] = [];
  const stop = t.app.db.onQuery((q) => statements.push(q.sql));
  try {
    const data = ok(await t.gql(QUERY, { n }));
    return { statements, data };
  } finally {
    stop();
  }
}

describe('nested lists', () => {
  it('cost the same number of SQL statements for 5 devices as for 50 (DataLoaders, no N+1)', async () => {
    await statementsFor(1); // warm-up: the first request of a key also records its use
    const small = await statementsFor(5);
    const large = await statementsFor(50);
    expect(small.data.devices.nodes).toHaveLength(5);
    expect(large.data.devices.nodes).toHaveLength(50);
    expect(large.statements.length).toBe(small.statements.length);
    expect(large.statements.length).toBeLessThanOrEqual(16);
  });

  it('return each device its own latest inspection and that inspection its own anomalies', async () => {
    const { data } = await statementsFor(50);
    for (const d of data.devices.nodes) {
      expect(d.inspections.totalCount).toBe(2);
      expect(d.inspections.nodes).toHaveLength(1);
      const [latest] = d.inspections.nodes;
      expect(latest.capturedAt).toBe('2026-01-02T00:00:00.000Z');
      expect(latest.device.id).toBe(d.id);
      expect(latest.anomalies.totalCount).toBe(2);
      expect(latest.anomalies.nodes.every((a: any) => a.device.name === d.name)).toBe(true);
      expect(d.openAnomalyCount).toBe(4);
    }
  });
});
