import { failure, ok, startTestApp, type TestApp } from '../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const CREATE = `mutation($input: DeviceInput!) { createDevice(input: $input) { id externalId name type status latitude longitude } }`;
const LIST = `query($first: Int, $after: String, $last: Int, $before: String, $filter: DeviceFilter, $orderBy: DeviceOrder) {
  devices(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { externalId name status } }
  }
}`;

describe('devices', () => {
  beforeAll(async () => {
    const rows = [
      { externalId: 'pole-001', name: 'Pole Amsterdam 1', type: 'wood-pole', latitude: 52.3702, longitude: 4.8952 },
      { externalId: 'pole-002', name: 'Pole Amsterdam 2', type: 'wood-pole', latitude: 52.3712, longitude: 4.8962 },
      { externalId: 'ins-001', name: 'Insulator Utrecht', type: 'insulator', latitude: 52.0907, longitude: 5.1214 },
      { externalId: 'ins-002', name: 'Insulator Rotterdam', type: 'insulator', latitude: 51.9244, longitude: 4.4777 },
      { externalId: 'pump-001', name: 'Pump without GPS', type: 'pump' },
    ];
    for (const input of rows) ok(await t.gql(CREATE, { input }));
  });

  it('creates a device with status UNKNOWN and an opaque global id', async () => {
    const { createDevice } = ok(await t.gql(CREATE, { input: { externalId: 'panel-1', name: 'Panel 1', type: 'panel' } }));
    expect(createDevice.status).toBe('UNKNOWN');
    expect(createDevice.id).not.toContain('-');
    const { device } = ok(await t.gql(`query($id: ID!) { device(id: $id) { externalId } }`, { id: createDevice.id }));
    expect(device.externalId).toBe('panel-1');
    const { node } = ok(await t.gql(`query($id: ID!) { node(id: $id) { id ... on Device { name } } }`, { id: createDevice.id }));
    expect(node).toEqual({ id: createDevice.id, name: 'Panel 1' });
  });

  it('pages forward and backward by name with stable cursors', async () => {
    const all = ok(await t.gql(LIST, { first: 100 })).devices;
    const names = all.edges.map((e: any) => e.node.name);
    expect(names).toEqual([...names].sort());
    const p1 = ok(await t.gql(LIST, { first: 2 })).devices;
    expect(p1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const p2 = ok(await t.gql(LIST, { first: 2, after: p1.pageInfo.endCursor })).devices;
    expect(p2.edges.map((e: any) => e.node.name)).toEqual(names.slice(2, 4));
    expect(p2.pageInfo.hasPreviousPage).toBe(true);
    const back = ok(await t.gql(LIST, { last: 2, before: p2.pageInfo.startCursor })).devices;
    expect(back.edges.map((e: any) => e.node.name)).toEqual(names.slice(0, 2));
    expect(back.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    const tail = ok(await t.gql(LIST, { last: 2 })).devices;
    expect(tail.edges.map((e: any) => e.node.name)).toEqual(names.slice(-2));
    expect(tail.pageInfo.hasPreviousPage).toBe(true);
    expect(p1.totalCount).toBe(all.totalCount);
  });

  it('orders by externalId descending when asked', async () => {
    const res = ok(await t.gql(LIST, { first: 3, orderBy: { field: 'EXTERNAL_ID', direction: 'DESC' } })).devices;
    expect(res.edges.map((e: any) => e.node.externalId)).toEqual(['pump-001', 'pole-002', 'pole-001']);
    const next = ok(
      await t.gql(LIST, { first: 1, after: res.pageInfo.endCursor, orderBy: { field: 'EXTERNAL_ID', direction: 'DESC' } }),
    ).devices;
    expect(next.edges[0].node.externalId).toBe('panel-1');
  });

  it('filters by type, search and status', async () => {
    const byType = ok(await t.gql(LIST, { filter: { type: 'insulator' } })).devices;
    expect(byType.edges.map((e: any) => e.node.externalId).sort()).toEqual(['ins-001', 'ins-002']);
    expect(byType.totalCount).toBe(2);
    const search = ok(await t.gql(LIST, { filter: { search: 'AMSTERDAM' } })).devices;
    expect(search.totalCount).toBe(2);
    const wildcard = ok(await t.gql(LIST, { filter: { search: '%' } })).devices;
    expect(wildcard.totalCount).toBe(0);
    const status = ok(await t.gql(LIST, { filter: { status: ['OK'] } })).devices;
    expect(status.totalCount).toBe(0);
  });

  it('finds devices near a point by great-circle distance', async () => {
    // Amsterdam's two poles are ~130 m apart; Utrecht is ~35 km away.
    const near = (radiusKm: number) => t.gql(LIST, { filter: { near: { latitude: 52.3702, longitude: 4.8952, radiusKm } } });
    expect(ok(await near(0.05)).devices.edges.map((e: any) => e.node.externalId)).toEqual(['pole-001']);
    expect(ok(await near(0.5)).devices.totalCount).toBe(2);
    expect(ok(await near(40)).devices.totalCount).toBe(3);
    expect(ok(await near(70)).devices.totalCount).toBe(4);
  });

  it('updates fields, keeps the others and refuses half a location', async () => {
    const { createDevice } = ok(
      await t.gql(CREATE, { input: { externalId: 'upd-1', name: 'Before', type: 'pump', latitude: 1, longitude: 2 } }),
    );
    const UPDATE = `mutation($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { name type latitude longitude status } }`;
    const res = ok(await t.gql(UPDATE, { id: createDevice.id, input: { name: 'After', status: 'OK' } })).updateDevice;
    expect(res).toEqual({ name: 'After', type: 'pump', latitude: 1, longitude: 2, status: 'OK' });
    const cleared = ok(await t.gql(UPDATE, { id: createDevice.id, input: { latitude: null, longitude: null } })).updateDevice;
    expect(cleared).toMatchObject({ latitude: null, longitude: null });
    const half = failure(await t.gql(UPDATE, { id: createDevice.id, input: { latitude: 3 } }));
    expect(half.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'longitude' });
  });

  it('decommissions idempotently and then refuses changes and new inspections', async () => {
    const { createDevice } = ok(await t.gql(CREATE, { input: { externalId: 'old-1', name: 'Old', type: 'pump' } }));
    const DECOM = `mutation($id: ID!) { decommissionDevice(id: $id) { status } }`;
    expect(ok(await t.gql(DECOM, { id: createDevice.id })).decommissionDevice.status).toBe('DECOMMISSIONED');
    expect(ok(await t.gql(DECOM, { id: createDevice.id })).decommissionDevice.status).toBe('DECOMMISSIONED');
    const upd = failure(await t.gql(`mutation($id: ID!) { updateDevice(id: $id, input: { name: "x" }) { id } }`, { id: createDevice.id }));
    expect(upd.extensions?.code).toBe('CONFLICT');
    const insp = failure(
      await t.gql(
        `mutation($d: ID!) { createInspection(input: { deviceId: $d, source: MANUAL, capturedAt: "2026-01-01T00:00:00Z" }) { id } }`,
        {
          d: createDevice.id,
        },
      ),
    );
    expect(insp.extensions?.code).toBe('CONFLICT');
  });

  it('imports devices by externalId: creates, updates and reports bad rows without losing the good ones', async () => {
    const IMPORT = `mutation($devices: [DeviceInput!]!) { importDevices(devices: $devices) { created updated failed errors { index externalId field code message } } }`;
    const res = ok(
      await t.gql(IMPORT, {
        devices: [
          { externalId: 'imp-1', name: 'Imported 1', type: 'pole' },
          { externalId: 'pole-001', name: 'Pole Amsterdam 1 (renamed)', type: 'wood-pole', latitude: 52.3702, longitude: 4.8952 },
          { externalId: 'imp-bad', name: 'Bad latitude', type: 'pole', latitude: 123, longitude: 5 },
          { externalId: 'imp-1', name: 'Duplicate in batch', type: 'pole' },
          { externalId: 'imp-2', name: 'Bad type', type: 'Not A Slug' },
          { externalId: 'imp-3', name: 'Imported 3', type: 'pole', latitude: 10, longitude: 10 },
        ],
      }),
    ).importDevices;
    expect(res).toMatchObject({ created: 2, updated: 1, failed: 3 });
    expect(res.errors.map((e: any) => [e.index, e.field, e.code])).toEqual([
      [2, 'latitude', 'BAD_USER_INPUT'],
      [3, 'externalId', 'BAD_USER_INPUT'],
      [4, 'type', 'BAD_USER_INPUT'],
    ]);
    const names = ok(await t.gql(LIST, { first: 100, filter: { search: 'imp' } })).devices.edges.map((e: any) => e.node.externalId);
    expect(names.sort()).toEqual(['imp-1', 'imp-3']);
    const renamed = ok(await t.gql(LIST, { filter: { search: 'renamed' } })).devices;
    expect(renamed.totalCount).toBe(1);
    // Importing the same rows again is an update, never a duplicate.
    const again = ok(await t.gql(IMPORT, { devices: [{ externalId: 'imp-1', name: 'Imported 1', type: 'pole' }] })).importDevices;
    expect(again).toMatchObject({ created: 0, updated: 1, failed: 0 });
  });

  it('creates an inspection once per idempotency key, even when the call is repeated at once', async () => {
    const { createDevice } = ok(await t.gql(CREATE, { input: { externalId: 'idem-1', name: 'Idempotent', type: 'pole' } }));
    const other = ok(await t.gql(CREATE, { input: { externalId: 'idem-2', name: 'Other', type: 'pole' } })).createDevice;
    const CREATE_INSPECTION = `mutation($input: CreateInspectionInput!) { createInspection(input: $input) { id requestedBy } }`;
    const input = (deviceId: string) => ({
      deviceId,
      source: 'VEHICLE',
      capturedAt: '2026-05-01T08:00:00Z',
      idempotencyKey: 'van-7/2026-05-01/1',
    });
    const results = await Promise.all(Array.from({ length: 5 }, () => t.gql(CREATE_INSPECTION, { input: input(createDevice.id) })));
    const ids = new Set(results.map((r) => ok(r).createInspection.id));
    expect(ids.size).toBe(1);
    const again = ok(await t.gql(CREATE_INSPECTION, { input: input(createDevice.id) })).createInspection;
    expect(again.id).toBe([...ids][0]);
    expect(again.requestedBy).toBe('admin (VIGIL_ADMIN_API_KEY)');
    // The key is scoped to the device; without a key every call is a new inspection.
    const elsewhere = ok(await t.gql(CREATE_INSPECTION, { input: input(other.id) })).createInspection;
    expect(elsewhere.id).not.toBe(again.id);
    const plain = { deviceId: createDevice.id, source: 'VEHICLE', capturedAt: '2026-05-01T08:00:00Z' };
    const a = ok(await t.gql(CREATE_INSPECTION, { input: plain })).createInspection;
    const b = ok(await t.gql(CREATE_INSPECTION, { input: plain })).createInspection;
    expect(a.id).not.toBe(b.id);
    const count = ok(await t.gql(`query($d: ID!) { inspections(filter: { deviceId: $d }) { totalCount } }`, { d: createDevice.id }));
    expect(count.inspections.totalCount).toBe(3);
  });

  it('survives two imports of the same new devices at once: every row saved once, none failed', async () => {
    const IMPORT = `mutation($devices: [DeviceInput!]!) { importDevices(devices: $devices) { created updated failed } }`;
    const rows = Array.from({ length: 40 }, (_, i) => ({ externalId: `race-${i}`, name: `Race ${i}`, type: 'pole' }));
    const [a, b] = await Promise.all([t.gql(IMPORT, { devices: rows }), t.gql(IMPORT, { devices: [...rows].reverse() })]);
    const ra = ok(a).importDevices;
    const rb = ok(b).importDevices;
    expect(ra.failed + rb.failed).toBe(0);
    expect(ra.created + rb.created).toBe(40);
    expect(ra.created + ra.updated).toBe(40);
    expect(await t.app.db.prisma.device.count({ where: { externalId: { startsWith: 'race-' } } })).toBe(40);
  });
});
