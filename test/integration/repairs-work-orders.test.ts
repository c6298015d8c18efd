import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { daysAgo, defectsOf, inspect, newDevice, type Region } from '../support/repairs';
import { newKey } from '../support/reviews';

// Work orders from planning to a confirmed fix, and what crews find coming back as labels, through
// the HTTP API on real detection runs and reviews.

let t: TestApp;
let reviewer: string;
let operator: string;
beforeAll(async () => {
  t = await startTestApp();
  reviewer = await newKey(t, 'REVIEWER');
  operator = await t.keyFor('OPERATOR');
});
afterAll(() => t.stop());

const CRACK: Region = { box: { x: 0.2, y: 0.2, width: 0.3, height: 0.3 }, type: 'crack' };
const WO = `id status priority dueAt assignee notes automatic flagged flagReason createdBy completedAt
  defects { finding correctedType active defect { id status type } } transitions { fromStatus toStatus by note at }`;
const CREATE = `mutation($i: CreateWorkOrderInput!) { createWorkOrder(input: $i) { ${WO} } }`;
const MOVE = `mutation($id: ID!, $s: WorkOrderStatus!, $n: String) { moveWorkOrder(id: $id, status: $s, note: $n) { ${WO} } }`;
const COMPLETE = `mutation($id: ID!, $f: [FieldFindingInput!]!) { completeWorkOrder(id: $id, findings: $f) { ${WO} } }`;
const GET = `query($id: ID!) { workOrder(id: $id) { ${WO} } }`;
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

/** A device with one open crack defect, seen `days` ago. */
async function crackedDevice(days = 3, regions: Region[] = [CRACK]) {
  const device = await newDevice(t);
  await inspect(t, reviewer, device.id, daysAgo(days), regions);
  const defects = await defectsOf(t, device.id);
  return { device, defects, defectId: defects[0].id as string };
}

async function inProgress(defectIds: string[]) {
  const order = ok(
    await t.gql(CREATE, { i: { defectIds, priority: 'HIGH', dueAt: inDays(7), assignee: 'crew-7' } }, operator),
  ).createWorkOrder;
  ok(await t.gql(MOVE, { id: order.id, s: 'SCHEDULED' }, operator));
  return ok(await t.gql(MOVE, { id: order.id, s: 'IN_PROGRESS', n: 'crew on site' }, operator)).moveWorkOrder;
}

const datasetEntries = (imageOf: string) =>
  t.app.db.prisma.datasetEntry.findMany({ where: { image: { inspection: { deviceId: imageOf } } }, orderBy: { createdAt: 'asc' } });
const uuidOf = (globalId: string) => Buffer.from(globalId, 'base64url').toString('utf8').split(':')[1];

describe('a work order', () => {
  it('moves OPEN → SCHEDULED → IN_PROGRESS → DONE, each step recorded with who and when, and refuses steps out of order', async () => {
    const { defectId } = await crackedDevice();
    const created = ok(
      await t.gql(
        CREATE,
        { i: { defectIds: [defectId], priority: 'URGENT', dueAt: inDays(2), assignee: 'SAP:PERS-4711', notes: 'bring a ladder' } },
        operator,
      ),
    ).createWorkOrder;
    expect(created).toMatchObject({
      status: 'OPEN',
      priority: 'URGENT',
      assignee: 'SAP:PERS-4711',
      notes: 'bring a ladder',
      automatic: false,
      createdBy: 'test OPERATOR',
      defects: [{ finding: null, active: true, defect: { id: defectId, status: 'OPEN' } }],
    });
    expect(failure(await t.gql(MOVE, { id: created.id, s: 'IN_PROGRESS' }, operator)).extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'status',
    });
    expect(failure(await t.gql(MOVE, { id: created.id, s: 'DONE' }, operator)).extensions?.code).toBe('BAD_USER_INPUT');
    expect(failure(await t.gql(MOVE, { id: created.id, s: 'SCHEDULED', n: 'x'.repeat(1001) }, operator)).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'note',
    });
    const UPDATE = `mutation($id: ID!, $i: UpdateWorkOrderInput!) { updateWorkOrder(id: $id, input: $i) { id } }`;
    expect(failure(await t.gql(UPDATE, { id: created.id, i: { priority: null } }, operator)).extensions?.code).toBe('BAD_USER_INPUT');
    expect(failure(await t.gql(UPDATE, { id: created.id, i: { dueAt: inDays(-2) } }, operator)).extensions?.code).toBe('BAD_USER_INPUT');
    ok(await t.gql(MOVE, { id: created.id, s: 'SCHEDULED', n: 'Tuesday' }, operator));
    ok(
      await t.gql(
        `mutation($id: ID!) { updateWorkOrder(id: $id, input: { assignee: "crew-9", priority: LOW }) { id } }`,
        { id: created.id },
        operator,
      ),
    );
    ok(await t.gql(MOVE, { id: created.id, s: 'IN_PROGRESS' }, operator));
    const done = ok(await t.gql(COMPLETE, { id: created.id, f: [{ defectId, finding: 'FIXED' }] }, operator)).completeWorkOrder;
    expect(done).toMatchObject({
      status: 'DONE',
      assignee: 'crew-9',
      priority: 'LOW',
      defects: [{ finding: 'FIXED', active: false, defect: { status: 'FIXED' } }],
    });
    expect(done.completedAt).not.toBeNull();
    expect(
      done.transitions.map((x: { fromStatus: string; toStatus: string; by: string; note: string }) => [
        x.fromStatus,
        x.toStatus,
        x.by,
        x.note,
      ]),
    ).toEqual([
      [null, 'OPEN', 'test OPERATOR', null],
      ['OPEN', 'SCHEDULED', 'test OPERATOR', 'Tuesday'],
      ['SCHEDULED', 'IN_PROGRESS', 'test OPERATOR', null],
      ['IN_PROGRESS', 'DONE', 'test OPERATOR', null],
    ]);
    for (const x of done.transitions) expect(Date.now() - new Date(x.at).getTime()).toBeLessThan(60_000);
    expect(failure(await t.gql(MOVE, { id: created.id, s: 'CANCELLED' }, operator)).extensions?.code).toBe('CONFLICT');
    expect(
      failure(await t.gql(`mutation($id: ID!) { updateWorkOrder(id: $id, input: { notes: "late" }) { id } }`, { id: created.id }, operator))
        .extensions?.code,
    ).toBe('CONFLICT');
  });

  it('refuses unknown, closed, already planned or mixed-device defects and a due date in the past, writing nothing', async () => {
    const a = await crackedDevice();
    const b = await crackedDevice();
    const before = await t.app.db.prisma.workOrder.count();
    const unknown = Buffer.from('Defect:01900000-0000-7000-8000-000000000000').toString('base64url');
    expect(failure(await t.gql(CREATE, { i: { defectIds: [unknown] } }, operator)).extensions?.code).toBe('NOT_FOUND');
    expect(failure(await t.gql(CREATE, { i: { defectIds: [] } }, operator)).extensions?.code).toBe('BAD_USER_INPUT');
    expect(failure(await t.gql(CREATE, { i: { defectIds: [a.defectId], dueAt: inDays(-1) } }, operator)).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'dueAt',
    });
    expect(failure(await t.gql(CREATE, { i: { defectIds: [a.defectId, b.defectId] } }, operator)).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'defectIds',
    });
    expect(await t.app.db.prisma.workOrder.count()).toBe(before);

    ok(await t.gql(CREATE, { i: { defectIds: [a.defectId] } }, operator));
    expect(failure(await t.gql(CREATE, { i: { defectIds: [a.defectId] } }, operator)).extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'defectIds',
    });
    ok(
      await t.gql(
        `mutation($id: ID!) { resolveDefect(id: $id, reason: "replaced the whole insulator") { status } }`,
        { id: b.defectId },
        operator,
      ),
    );
    expect(failure(await t.gql(CREATE, { i: { defectIds: [b.defectId] } }, operator)).extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'defectIds',
    });
    expect(await t.app.db.prisma.workOrder.count()).toBe(before + 1);
  });

  it('is created once for an idempotency key, also when two identical requests race', async () => {
    const { defectId } = await crackedDevice();
    const input = { defectIds: [defectId], idempotencyKey: 'cmms-req-1', notes: 'from the CMMS' };
    const [one, two] = await Promise.all([t.gql(CREATE, { i: input }, operator), t.gql(CREATE, { i: input }, operator)]);
    expect(ok(one).createWorkOrder.id).toBe(ok(two).createWorkOrder.id);
    const again = ok(await t.gql(CREATE, { i: input }, operator)).createWorkOrder;
    expect(again.id).toBe(ok(one).createWorkOrder.id);
    expect(await t.app.db.prisma.workOrder.count({ where: { idempotencyKey: 'cmms-req-1' } })).toBe(1);
    expect(await t.app.db.prisma.workOrderTransition.count({ where: { workOrderId: uuidOf(again.id) } })).toBe(1);
    const other = await crackedDevice();
    const reused = failure(await t.gql(CREATE, { i: { ...input, defectIds: [other.defectId] } }, operator));
    expect(reused.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
  });

  it('is planned and edited by an OPERATOR, read by an INTEGRATOR, and invisible to a REVIEWER', async () => {
    const { defectId } = await crackedDevice();
    const integrator = await t.keyFor('INTEGRATOR');
    expect(failure(await t.gql(CREATE, { i: { defectIds: [defectId] } }, integrator)).extensions?.code).toBe('FORBIDDEN');
    expect(failure(await t.gql(CREATE, { i: { defectIds: [defectId] } }, reviewer)).extensions?.code).toBe('FORBIDDEN');
    const order = ok(await t.gql(CREATE, { i: { defectIds: [defectId] } }, operator)).createWorkOrder;
    expect(ok(await t.gql(GET, { id: order.id }, integrator)).workOrder.id).toBe(order.id);
    expect(failure(await t.gql(MOVE, { id: order.id, s: 'SCHEDULED' }, integrator)).extensions?.code).toBe('FORBIDDEN');
    expect(failure(await t.gql(GET, { id: order.id }, reviewer)).extensions?.code).toBe('FORBIDDEN');
  });
});

describe('closing the loop from the field', () => {
  it('resolves a fixed defect when the next inspection shows nothing there', async () => {
    const { device, defectId } = await crackedDevice();
    const order = await inProgress([defectId]);
    ok(await t.gql(COMPLETE, { id: order.id, f: [{ defectId, finding: 'FIXED' }] }, operator));
    // A photo taken before the fix proves nothing.
    await inspect(t, reviewer, device.id, daysAgo(1), []);
    expect((await defectsOf(t, device.id))[0].status).toBe('FIXED');
    await inspect(t, reviewer, device.id, new Date(), []);
    const [defect] = await defectsOf(t, device.id);
    expect(defect).toMatchObject({ id: defectId, status: 'RESOLVED' });
    expect(defect.resolution).toMatch(/shows nothing there/);
    const after = ok(
      await t.gql(`query($id: ID!) { device(id: $id) { status anomalies { nodes { status } } } }`, { id: device.id }),
    ).device;
    expect(after.status).toBe('OK');
    expect(after.anomalies.nodes.map((a: { status: string }) => a.status)).toEqual(['RESOLVED']);
  });

  it('reopens a fixed defect the next inspection still shows and flags the work order', async () => {
    const { device, defectId } = await crackedDevice();
    const order = await inProgress([defectId]);
    ok(await t.gql(COMPLETE, { id: order.id, f: [{ defectId, finding: 'FIXED' }] }, operator));
    await inspect(t, reviewer, device.id, new Date(), [{ ...CRACK, box: { ...CRACK.box, x: 0.22 } }]);
    const [defect] = await defectsOf(t, device.id);
    expect(defect).toMatchObject({ id: defectId, status: 'OPEN', reopenCount: 1, observationCount: 2 });
    const flagged = ok(await t.gql(GET, { id: order.id })).workOrder;
    expect(flagged).toMatchObject({ status: 'DONE', flagged: true });
    expect(flagged.flagReason).toMatch(/seen again/);
    const queue = ok(
      await t.gql(`query($f: RepairQueueFilter) { repairQueue(filter: $f) { nodes { reasons } } }`, { f: { deviceIds: [device.id] } }),
    ).repairQueue;
    expect(queue.nodes[0].reasons).toContain('seen again after a fix');
  });

  it('turns NOTHING_FOUND into exactly one NORMAL label, also when two completions race', async () => {
    const { device, defectId } = await crackedDevice();
    const order = await inProgress([defectId]);
    const finding = { id: order.id, f: [{ defectId, finding: 'NOTHING_FOUND', note: 'a bird dropping' }] };
    const results = await Promise.all([t.gql(COMPLETE, finding, operator), t.gql(COMPLETE, finding, operator)]);
    const won = results.filter((r) => !r.errors);
    const lost = results.filter((r) => r.errors);
    expect(won).toHaveLength(1);
    expect(lost.map((r) => failure(r).extensions?.code)).toEqual(['CONFLICT']);
    expect(won[0].data!.completeWorkOrder).toMatchObject({
      status: 'DONE',
      defects: [{ finding: 'NOTHING_FOUND', defect: { status: 'DISMISSED' } }],
    });
    // The reviewer's ANOMALOUS label of the photo became the crew's NORMAL one: one entry, written once.
    const entries = await datasetEntries(uuidOf(device.id));
    expect(entries.map((e) => [e.label, e.regions])).toEqual([['NORMAL', []]]);
    expect(await t.app.db.prisma.workOrderDefect.count({ where: { datasetEntryId: entries[0].id } })).toBe(1);
    const after = ok(
      await t.gql(`query($id: ID!) { device(id: $id) { status anomalies { nodes { status } } } }`, { id: device.id }),
    ).device;
    expect(after).toEqual({ status: 'OK', anomalies: { nodes: [{ status: 'REJECTED' }] } });
  });

  it('labels a DIFFERENT_PROBLEM with the corrected type, and refuses incomplete findings without writing anything', async () => {
    const { device, defectId } = await crackedDevice();
    const order = await inProgress([defectId]);
    // The reviewer's label of the photo; the crew's finding replaces it.
    const reviewed = await datasetEntries(uuidOf(device.id));
    expect(reviewed.map((e) => [e.label, e.regions])).toEqual([['ANOMALOUS', [CRACK]]]);
    const missing = failure(await t.gql(COMPLETE, { id: order.id, f: [] }, operator));
    expect(missing.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'findings' });
    const untyped = failure(await t.gql(COMPLETE, { id: order.id, f: [{ defectId, finding: 'DIFFERENT_PROBLEM' }] }, operator));
    expect(untyped.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'findings[0].correctedType' });
    const unknownType = failure(
      await t.gql(COMPLETE, { id: order.id, f: [{ defectId, finding: 'DIFFERENT_PROBLEM', correctedType: 'gremlins' }] }, operator),
    );
    expect(unknownType.extensions?.code).toBe('BAD_USER_INPUT');
    expect(ok(await t.gql(GET, { id: order.id })).workOrder).toMatchObject({
      status: 'IN_PROGRESS',
      defects: [{ finding: null, defect: { status: 'OPEN' } }],
    });
    expect(await datasetEntries(uuidOf(device.id))).toEqual(reviewed);

    const done = ok(
      await t.gql(COMPLETE, { id: order.id, f: [{ defectId, finding: 'DIFFERENT_PROBLEM', correctedType: 'corrosion' }] }, operator),
    ).completeWorkOrder;
    expect(done.defects).toEqual([
      {
        finding: 'DIFFERENT_PROBLEM',
        correctedType: 'corrosion',
        active: false,
        defect: { id: defectId, status: 'FIXED', type: 'corrosion' },
      },
    ]);
    const entries = await datasetEntries(uuidOf(device.id));
    expect(entries.map((e) => [e.label, e.regions])).toEqual([['ANOMALOUS', [{ box: CRACK.box, type: 'corrosion' }]]]);
  });

  it('lets an operator resolve a defect with a reason, once', async () => {
    const { defectId } = await crackedDevice();
    const RESOLVE = `mutation($id: ID!, $r: String!) { resolveDefect(id: $id, reason: $r) { status resolvedBy resolution } }`;
    expect(failure(await t.gql(RESOLVE, { id: defectId, r: '' }, operator)).extensions?.code).toBe('BAD_USER_INPUT');
    expect(ok(await t.gql(RESOLVE, { id: defectId, r: 'pole replaced in another job' }, operator)).resolveDefect).toEqual({
      status: 'RESOLVED',
      resolvedBy: 'test OPERATOR',
      resolution: 'pole replaced in another job',
    });
    expect(failure(await t.gql(RESOLVE, { id: defectId, r: 'again' }, operator)).extensions?.code).toBe('CONFLICT');
  });
});

describe('the automatic work-order rule', () => {
  it('plans each confirmed defect at least as severe as its threshold, once', async () => {
    const device = await newDevice(t);
    const RULE = `mutation($i: AutoWorkOrderRuleInput!) { setAutoWorkOrderRule(input: $i) { deviceType minSeverity priority dueInDays enabled } }`;
    expect(
      ok(await t.gql(RULE, { i: { deviceType: device.type, minSeverity: 'MEDIUM', priority: 'HIGH', dueInDays: 14 } }, operator))
        .setAutoWorkOrderRule,
    ).toEqual({
      deviceType: device.type,
      minSeverity: 'MEDIUM',
      priority: 'HIGH',
      dueInDays: 14,
      enabled: true,
    });
    // The built-in rules: a small box is LOW (not planned), a large confident one is CRITICAL.
    await inspect(t, reviewer, device.id, daysAgo(2), [
      { box: { x: 0.05, y: 0.05, width: 0.05, height: 0.05 }, type: 'chip' },
      { box: { x: 0.4, y: 0.4, width: 0.55, height: 0.55 }, type: 'broken' },
    ]);
    const orders = ok(await t.gql(`query($d: ID!) { workOrders(filter: { deviceId: $d }) { nodes { ${WO} } } }`, { d: device.id }))
      .workOrders.nodes;
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      automatic: true,
      priority: 'HIGH',
      createdBy: `rule:${device.type}`,
      defects: [{ defect: { type: 'broken' } }],
    });
    expect(new Date(orders[0].dueAt).getTime()).toBeGreaterThan(Date.now() + 13 * 86_400_000);
    // Another review of the device changes nothing planned.
    await inspect(t, reviewer, device.id, daysAgo(1), [{ box: { x: 0.4, y: 0.4, width: 0.55, height: 0.55 }, type: 'broken' }]);
    expect(
      ok(await t.gql(`query($d: ID!) { workOrders(filter: { deviceId: $d }) { totalCount } }`, { d: device.id })).workOrders.totalCount,
    ).toBe(1);
  });
});
