import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { daysAgo, defectsOf, inspect, newDevice } from '../support/repairs';
import { newKey } from '../support/reviews';
import { connect, eventually, Feed, untilLive } from '../support/subscriptions';

// Severity, defects followed across surveys and the repair queue, through the HTTP API; the
// anomalies come from real detection runs answered by a reviewer.

let t: TestApp;
let reviewer: string;
beforeAll(async () => {
  t = await startTestApp();
  reviewer = await newKey(t, 'REVIEWER');
});
afterAll(() => t.stop());

const SET_RULES = `mutation($i: SetSeverityRulesInput!) { setSeverityRules(input: $i) { deviceType source rules { anomalyType minAreaShare minConfidence severity } } }`;
const RULES = `query($t: String!) { severityRules(deviceType: $t) { deviceType source rules { deviceType anomalyType minAreaShare minConfidence severity } } }`;
const QUEUE = `query($f: RepairQueueFilter, $first: Int, $after: String) {
  repairQueue(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { score reasons factors { severity confidence criticality growth age } defect { id type severity device { id } } } }
  }
}`;

describe('severity rules', () => {
  it('are the built-in defaults until a device type (or "*") gets its own, which replace them as a set', async () => {
    const type = 'rules-pole';
    const before = ok(await t.gql(RULES, { t: type })).severityRules;
    expect(before.source).toBe('DEFAULT');
    expect(before.rules.map((r: { severity: string }) => r.severity).sort()).toEqual(['CRITICAL', 'HIGH', 'LOW', 'MEDIUM']);

    const operator = await t.keyFor('OPERATOR');
    const set = ok(
      await t.gql(
        SET_RULES,
        {
          i: {
            deviceType: type,
            rules: [
              { anomalyType: 'crack', severity: 'MEDIUM' },
              { anomalyType: 'crack', minAreaShare: 0.1, severity: 'HIGH' },
            ],
          },
        },
        operator,
      ),
    ).setSeverityRules;
    expect(set).toEqual({
      deviceType: type,
      source: 'OWN',
      rules: [
        { anomalyType: 'crack', minAreaShare: 0, minConfidence: 0, severity: 'MEDIUM' },
        { anomalyType: 'crack', minAreaShare: 0.1, minConfidence: 0, severity: 'HIGH' },
      ],
    });
    expect(ok(await t.gql(RULES, { t: 'other-pole' })).severityRules.source).toBe('DEFAULT');
    ok(await t.gql(SET_RULES, { i: { deviceType: '*', rules: [{ severity: 'HIGH' }] } }));
    expect(ok(await t.gql(RULES, { t: 'other-pole' })).severityRules).toEqual({
      deviceType: 'other-pole',
      source: 'FALLBACK',
      rules: [{ deviceType: '*', anomalyType: '*', minAreaShare: 0, minConfidence: 0, severity: 'HIGH' }],
    });
    ok(await t.gql(SET_RULES, { i: { deviceType: '*', rules: [] } }));
    expect(ok(await t.gql(RULES, { t: 'other-pole' })).severityRules.source).toBe('DEFAULT');
  });

  it('refuse bad thresholds, repeated rules and callers who may not set them, and change nothing then', async () => {
    const type = 'rules-bad';
    const bad = failure(await t.gql(SET_RULES, { i: { deviceType: type, rules: [{ minAreaShare: 2, severity: 'LOW' }] } }));
    expect(bad.extensions?.code).toBe('BAD_USER_INPUT');
    const twice = failure(
      await t.gql(SET_RULES, {
        i: {
          deviceType: type,
          rules: [
            { anomalyType: 'crack', severity: 'LOW' },
            { anomalyType: 'crack', severity: 'HIGH' },
          ],
        },
      }),
    );
    expect(twice).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'rules[1]' } });
    const badType = failure(await t.gql(SET_RULES, { i: { deviceType: 'Not A Type', rules: [] } }));
    expect(badType.extensions?.code).toBe('BAD_USER_INPUT');
    for (const role of ['REVIEWER', 'INTEGRATOR'] as const) {
      const refused = failure(await t.gql(SET_RULES, { i: { deviceType: type, rules: [] } }, await t.keyFor(role)));
      expect(refused.extensions?.code).toBe('FORBIDDEN');
    }
    expect(ok(await t.gql(RULES, { t: type })).severityRules.source).toBe('DEFAULT');
  });
});

describe('defects across surveys', () => {
  it('links a repeat observation to the open defect it overlaps; growth, first and last seen, severity and the queue follow', async () => {
    const device = await newDevice(t, 'CRITICAL');
    ok(
      await t.gql(SET_RULES, {
        i: {
          deviceType: device.type,
          rules: [
            { anomalyType: '*', severity: 'LOW' },
            { anomalyType: 'crack', severity: 'MEDIUM' },
            { anomalyType: 'crack', minAreaShare: 0.1, severity: 'HIGH' },
          ],
        },
      }),
    );
    const first = daysAgo(30);
    await inspect(t, reviewer, device.id, first, [{ box: { x: 0.2, y: 0.2, width: 0.2, height: 0.2 }, type: 'crack' }]);
    const [opened] = await defectsOf(t, device.id);
    expect(opened).toMatchObject({ type: 'crack', status: 'OPEN', severity: 'MEDIUM', confirmed: true, observationCount: 1, growth: 1 });
    expect(opened.firstSeenAt).toBe(first.toISOString());

    // The next flight: the crack has grown (IoU 0.33 with the first box) and there is corrosion elsewhere.
    const second = daysAgo(1);
    await inspect(t, reviewer, device.id, second, [
      { box: { x: 0.15, y: 0.15, width: 0.35, height: 0.35 }, type: 'crack' },
      { box: { x: 0.7, y: 0.7, width: 0.1, height: 0.1 }, type: 'corrosion' },
    ]);
    const defects = await defectsOf(
      t,
      device.id,
      'id type severity observationCount firstSeenAt lastSeenAt growth observations(first: 10) { nodes { severity box { width } } }',
    );
    expect(defects).toHaveLength(2);
    const [crack, corrosion] = defects;
    expect(crack).toMatchObject({
      id: opened.id,
      type: 'crack',
      severity: 'HIGH',
      observationCount: 2,
      firstSeenAt: first.toISOString(),
      lastSeenAt: second.toISOString(),
    });
    expect(crack.growth).toBeCloseTo(0.1225 / 0.04, 6);
    expect(crack.observations.nodes.map((o: { severity: string }) => o.severity)).toEqual(['HIGH', 'MEDIUM']);
    expect(corrosion).toMatchObject({ type: 'corrosion', severity: 'LOW', observationCount: 1, growth: 1 });
    const device2 = ok(await t.gql(`query($id: ID!) { device(id: $id) { status openAnomalyCount } }`, { id: device.id })).device;
    expect(device2).toEqual({ status: 'NEEDS_ATTENTION', openAnomalyCount: 3 });

    // The queue: the growing, older, HIGH crack first; factors and reasons say why.
    const queue = ok(await t.gql(QUEUE, { f: { deviceIds: [device.id] }, first: 1 })).repairQueue;
    expect(queue.totalCount).toBe(2);
    expect(queue.pageInfo.hasNextPage).toBe(true);
    const top = queue.edges[0].node;
    expect(top.defect.id).toBe(crack.id);
    expect(top.factors.severity).toBe(4);
    expect(top.factors.criticality).toBe(4);
    expect(top.factors.confidence).toBe(1);
    expect(top.factors.growth).toBeCloseTo(3.0625, 6);
    expect(top.factors.age).toBeCloseTo(1 + 30 / 90, 2);
    const f = top.factors;
    expect(top.score).toBeCloseTo(f.severity * f.confidence * f.criticality * f.growth * f.age, 6);
    expect(top.reasons[0]).toMatch(/^severity HIGH \(×4\)$|^device criticality CRITICAL \(×4\)$/);
    expect(top.reasons).toEqual(
      expect.arrayContaining([
        'severity HIGH (×4)',
        'device criticality CRITICAL (×4)',
        'grew ×3.06 in area since first seen (×3.06)',
        'open 30 days (×1.33)',
        'confidence 1.00 (×1)',
      ]),
    );
    const next = ok(await t.gql(QUEUE, { f: { deviceIds: [device.id] }, first: 1, after: queue.pageInfo.endCursor })).repairQueue;
    expect(next.edges.map((e: { node: { defect: { id: string } } }) => e.node.defect.id)).toEqual([corrosion.id]);
    expect(next.pageInfo.hasNextPage).toBe(false);
    const high = ok(await t.gql(QUEUE, { f: { deviceIds: [device.id], minSeverity: 'HIGH' } })).repairQueue;
    expect(high.totalCount).toBe(1);

    // A reviewer overrides the corrosion's severity with a reason; its defect follows.
    const anomalies = ok(
      await t.gql(`query($id: ID!) { device(id: $id) { anomalies(first: 10) { nodes { id type severity defect { id } } } } }`, {
        id: device.id,
      }),
    ).device.anomalies.nodes;
    const rust = anomalies.find((a: { type: string }) => a.type === 'corrosion');
    expect(rust).toMatchObject({ severity: 'LOW', defect: { id: corrosion.id } });
    const SET = `mutation($id: ID!, $s: Severity!, $r: String!) { setAnomalySeverity(id: $id, severity: $s, reason: $r) {
      severity ruleSeverity severityOverride { severity reason by } } }`;
    expect(failure(await t.gql(SET, { id: rust.id, s: 'CRITICAL', r: '  ' }, reviewer)).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'reason',
    });
    const rated = ok(await t.gql(SET, { id: rust.id, s: 'CRITICAL', r: 'it is on the load-bearing bolt' }, reviewer)).setAnomalySeverity;
    expect(rated).toMatchObject({
      severity: 'CRITICAL',
      ruleSeverity: 'LOW',
      severityOverride: { severity: 'CRITICAL', reason: 'it is on the load-bearing bolt' },
    });
    expect(ok(await t.gql(`query($id: ID!) { defect(id: $id) { severity } }`, { id: corrosion.id })).defect.severity).toBe('CRITICAL');
    // The anomaly it gets back does not lead a REVIEWER into the fleet; an OPERATOR walks on.
    for (const field of ['device { name }', 'inspection { id }', 'image { id }', 'detection { id }']) {
      const walk = `mutation($id: ID!) { setAnomalySeverity(id: $id, severity: CRITICAL, reason: "on the bolt") { id ${field} } }`;
      const refused = await t.gql(walk, { id: rust.id }, reviewer);
      expect(refused.errors?.map((e) => [e.extensions?.code, e.path?.join('.')])).toEqual([
        ['FORBIDDEN', `setAnomalySeverity.${field.split(' ')[0]}`],
      ]);
      expect(ok(await t.gql(walk, { id: rust.id }, await t.keyFor('OPERATOR'))).setAnomalySeverity.id).toBe(rust.id);
    }
    const reordered = ok(await t.gql(QUEUE, { f: { deviceIds: [device.id] } })).repairQueue;
    // 8 × 1 × 4 × 1 × ~1.01 still ranks below the crack's 4 × 1 × 4 × 3.06 × 1.33.
    expect(reordered.edges.map((e: { node: { defect: { id: string } } }) => e.node.defect.id)).toEqual([crack.id, corrosion.id]);
    expect(reordered.edges[1].node.factors.severity).toBe(8);
    expect(reordered.edges[1].node.reasons[0]).toBe('severity CRITICAL (×8)');
  });

  it('shows none of it to a REVIEWER, and lets an INTEGRATOR read it', async () => {
    const reviewerKey = await t.keyFor('REVIEWER');
    for (const q of [QUEUE, `{ defects { totalCount } }`, `{ workOrders { totalCount } }`, `{ autoWorkOrderRules { deviceType } }`]) {
      expect(failure(await t.gql(q, {}, reviewerKey)).extensions?.code).toBe('FORBIDDEN');
    }
    const integrator = await t.keyFor('INTEGRATOR');
    expect(ok(await t.gql(`{ defects { totalCount } }`, {}, integrator)).defects.totalCount).toBeGreaterThan(0);
    expect(ok(await t.gql(QUEUE, {}, integrator)).repairQueue.totalCount).toBeGreaterThan(0);
  });

  it('refuses a malformed queue cursor and a page too large', async () => {
    expect(failure(await t.gql(QUEUE, { after: 'bm9wZQ' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(failure(await t.gql(QUEUE, { first: 501 })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(failure(await t.gql(`query { defect(id: "nope") { id } }`)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });
});

describe('repair subscriptions', () => {
  it('tell an INTEGRATOR about the defects and work orders of the devices it watches, as they change', async () => {
    const device = await newDevice(t);
    const other = await newDevice(t);
    await inspect(t, reviewer, device.id, daysAgo(3), [{ box: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 }, type: 'crack' }]);
    const [crack] = await defectsOf(t, device.id);
    const raw = (id: string) => Buffer.from(id, 'base64url').toString('utf8').split(':')[1];
    const integrator = await t.keyFor('INTEGRATOR');
    const { client } = connect(t.app, { authorization: `Bearer ${integrator}` });
    const defects = new Feed(client, 'subscription($f: DefectSubscriptionFilter) { defectChanged(filter: $f) { id type status } }', {
      f: { deviceIds: [device.id], statuses: ['OPEN', 'RESOLVED'] },
    });
    const orders = new Feed(client, 'subscription($f: WorkOrderSubscriptionFilter) { workOrderChanged(filter: $f) { id status } }', {
      f: { deviceIds: [device.id] },
    });
    try {
      const probe = { defectId: raw(crack.id), deviceId: raw(device.id), type: 'crack', status: 'OPEN', severity: 'LOW', change: 'OPENED' };
      await untilLive(defects, () => t.app.events.publish('DEFECT_CHANGED', probe));
      defects.results.splice(0);
      // Another device's defect is not heard; this device's new one is.
      await inspect(t, reviewer, other.id, daysAgo(1), [{ box: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 }, type: 'crack' }]);
      await inspect(t, reviewer, device.id, daysAgo(1), [{ box: { x: 0.6, y: 0.6, width: 0.2, height: 0.2 }, type: 'chip' }]);
      await eventually(() => defects.values('defectChanged').some((d) => d.type === 'chip'), 'the chip defect');
      const chip = defects.values('defectChanged').find((d) => d.type === 'chip')!;
      expect(chip.status).toBe('OPEN');
      expect(defects.values('defectChanged').every((d) => [crack.id, chip.id].includes(d.id))).toBe(true);

      const order = ok(
        await t.gql(`mutation($i: CreateWorkOrderInput!) { createWorkOrder(input: $i) { id } }`, { i: { defectIds: [chip.id] } }),
      ).createWorkOrder;
      await eventually(() => orders.values('workOrderChanged').some((o) => o.id === order.id), 'the new work order');
      ok(await t.gql(`mutation($id: ID!) { moveWorkOrder(id: $id, status: CANCELLED) { id } }`, { id: order.id }));
      await eventually(() => orders.values('workOrderChanged').some((o) => o.status === 'CANCELLED'), 'the cancellation');
      expect(orders.values('workOrderChanged')).toEqual([
        { id: order.id, status: 'OPEN' },
        { id: order.id, status: 'CANCELLED' },
      ]);
      ok(await t.gql(`mutation($id: ID!) { resolveDefect(id: $id, reason: "replaced") { id } }`, { id: crack.id }));
      await eventually(() => defects.values('defectChanged').some((d) => d.status === 'RESOLVED'), 'the resolution');
      expect(defects.results.every((r) => r.errors === undefined)).toBe(true);
    } finally {
      await client.dispose();
    }
  });
});
