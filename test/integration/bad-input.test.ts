import { toGlobalId } from '../../src/common/global-id';
import { failure, ok, startTestApp, type TestApp } from '../support/app';

let t: TestApp;
let deviceId: string;
let otherExternalId: string;
let inspectionId: string;

beforeAll(async () => {
  t = await startTestApp();
  const create = `mutation($e: String!) { createDevice(input: { externalId: $e, name: "Pole", type: "pole", latitude: 52, longitude: 5 }) { id } }`;
  deviceId = ok(await t.gql(create, { e: 'pole-1' })).createDevice.id;
  ok(await t.gql(create, { e: 'pole-2' }));
  otherExternalId = 'pole-2';
  inspectionId = ok(
    await t.gql(
      `mutation($d: ID!) { createInspection(input: { deviceId: $d, source: DRONE, capturedAt: "2026-03-01T10:00:00Z" }) { id } }`,
      { d: deviceId },
    ),
  ).createInspection.id;
});
afterAll(() => t.stop());

/** A digest of every row a mutation could touch: equal before and after means nothing changed. */
async function fingerprint(): Promise<string> {
  const rows = await t.app.db.prisma.$queryRawUnsafe<{ d: string }[]>(`SELECT concat_ws('|',
    (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM devices t),
    (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM inspections t),
    (SELECT md5(coalesce(string_agg((t.id, t.name, t.role, t.revoked_at)::text, ',' ORDER BY id), '')) FROM api_keys t)) AS d`);
  return rows[0].d;
}

const UNKNOWN_DEVICE = toGlobalId('Device', '00000000-0000-7000-8000-000000000000');
const long = (n: number) => 'x'.repeat(n);
const CREATE_DEVICE = 'mutation($input: DeviceInput!) { createDevice(input: $input) { id } }';
const UPDATE_DEVICE = 'mutation($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { id } }';
const CREATE_INSPECTION = 'mutation($input: CreateInspectionInput!) { createInspection(input: $input) { id } }';
const device = (over: Record<string, unknown> = {}) => ({ externalId: 'new-1', name: 'New', type: 'pole', ...over });
// PostgreSQL text cannot hold U+0000: every string argument is checked before it reaches a service.
const NUL = (path: string) => new RegExp(`^${path.replace(/[[\]]/g, '\\$&')}: must not contain the NUL character \\(U\\+0000\\)$`);
const inspection = (over: Record<string, unknown> = {}) => ({ deviceId, source: 'DRONE', capturedAt: '2026-03-01T10:00:00Z', ...over });

type Case = [string, string, () => Record<string, unknown>, string, RegExp];
const CASES: Case[] = [
  [
    'createDevice: latitude of the wrong type',
    CREATE_DEVICE,
    () => ({ input: device({ latitude: 'north', longitude: 5 }) }),
    'BAD_USER_INPUT',
    /latitude/,
  ],
  [
    'createDevice: latitude above 90',
    CREATE_DEVICE,
    () => ({ input: device({ latitude: 90.5, longitude: 5 }) }),
    'BAD_USER_INPUT',
    /latitude: latitude must not be greater than 90/,
  ],
  [
    'createDevice: longitude below -180',
    CREATE_DEVICE,
    () => ({ input: device({ latitude: 0, longitude: -180.01 }) }),
    'BAD_USER_INPUT',
    /longitude/,
  ],
  [
    'createDevice: latitude without longitude',
    CREATE_DEVICE,
    () => ({ input: device({ latitude: 10 }) }),
    'BAD_USER_INPUT',
    /longitude: latitude and longitude must be given together/,
  ],
  ['createDevice: empty externalId', CREATE_DEVICE, () => ({ input: device({ externalId: '' }) }), 'BAD_USER_INPUT', /externalId/],
  [
    'createDevice: oversized externalId',
    CREATE_DEVICE,
    () => ({ input: device({ externalId: long(201) }) }),
    'BAD_USER_INPUT',
    /externalId must be shorter than or equal to 200/,
  ],
  ['createDevice: oversized name', CREATE_DEVICE, () => ({ input: device({ name: long(10_000) }) }), 'BAD_USER_INPUT', /name/],
  [
    'createDevice: type that is not a slug',
    CREATE_DEVICE,
    () => ({ input: device({ type: 'Wood Pole' }) }),
    'BAD_USER_INPUT',
    /type must be a lowercase name/,
  ],
  ['createDevice: missing name', CREATE_DEVICE, () => ({ input: { externalId: 'x', type: 'pole' } }), 'BAD_USER_INPUT', /name/],
  [
    'createDevice: duplicate externalId',
    CREATE_DEVICE,
    () => ({ input: device({ externalId: 'pole-1' }) }),
    'CONFLICT',
    /"pole-1" already exists/,
  ],
  ['updateDevice: unknown id', UPDATE_DEVICE, () => ({ id: UNKNOWN_DEVICE, input: { name: 'x' } }), 'NOT_FOUND', /does not exist/],
  [
    'updateDevice: malformed id',
    UPDATE_DEVICE,
    () => ({ id: 'not-an-id!', input: { name: 'x' } }),
    'BAD_USER_INPUT',
    /id: .* is not a Device id/,
  ],
  [
    'updateDevice: id of another type',
    UPDATE_DEVICE,
    () => ({ id: inspectionId, input: { name: 'x' } }),
    'BAD_USER_INPUT',
    /is not a Device id/,
  ],
  [
    'updateDevice: externalId taken by another device',
    UPDATE_DEVICE,
    () => ({ id: deviceId, input: { externalId: otherExternalId } }),
    'CONFLICT',
    /already exists/,
  ],
  ...['name', 'type', 'externalId', 'status', 'criticality'].map(
    (field): Case => [
      `updateDevice: ${field} null`,
      UPDATE_DEVICE,
      () => ({ id: deviceId, input: { [field]: null } }),
      'BAD_USER_INPUT',
      new RegExp(`${field}: cannot be null`),
    ],
  ),
  [
    'updateDevice: decommission through update',
    UPDATE_DEVICE,
    () => ({ id: deviceId, input: { status: 'DECOMMISSIONED' } }),
    'BAD_USER_INPUT',
    /decommissionDevice/,
  ],
  ['updateDevice: unknown status', UPDATE_DEVICE, () => ({ id: deviceId, input: { status: 'BROKEN' } }), 'BAD_USER_INPUT', /status/],
  ['updateDevice: latitude out of range', UPDATE_DEVICE, () => ({ id: deviceId, input: { latitude: -91 } }), 'BAD_USER_INPUT', /latitude/],
  [
    'importDevices: more than 5000 rows',
    'mutation($d: [DeviceInput!]!) { importDevices(devices: $d) { created } }',
    () => ({ d: Array.from({ length: 5001 }, (_, i) => device({ externalId: `bulk-${i}` })) }),
    'BAD_USER_INPUT',
    /at most 5000/,
  ],
  [
    'decommissionDevice: unknown id',
    'mutation($id: ID!) { decommissionDevice(id: $id) { id } }',
    () => ({ id: UNKNOWN_DEVICE }),
    'NOT_FOUND',
    /does not exist/,
  ],
  [
    'decommissionDevice: malformed id',
    'mutation($id: ID!) { decommissionDevice(id: $id) { id } }',
    () => ({ id: '' }),
    'BAD_USER_INPUT',
    /is not a Device id/,
  ],
  [
    'createInspection: unknown device',
    CREATE_INSPECTION,
    () => ({ input: inspection({ deviceId: UNKNOWN_DEVICE }) }),
    'NOT_FOUND',
    /Device .* does not exist/,
  ],
  [
    'createInspection: capture time in the future',
    CREATE_INSPECTION,
    () => ({ input: inspection({ capturedAt: new Date(Date.now() + 3 * 86400_000).toISOString() }) }),
    'BAD_USER_INPUT',
    /capturedAt: is in the future/,
  ],
  [
    'createInspection: capture time that is no date',
    CREATE_INSPECTION,
    () => ({ input: inspection({ capturedAt: 'yesterday' }) }),
    'BAD_USER_INPUT',
    /capturedAt/,
  ],
  ['createInspection: unknown source', CREATE_INSPECTION, () => ({ input: inspection({ source: 'BOAT' }) }), 'BAD_USER_INPUT', /source/],
  ['createInspection: oversized notes', CREATE_INSPECTION, () => ({ input: inspection({ notes: long(2001) }) }), 'BAD_USER_INPUT', /notes/],
  [
    'createApiKey: empty name',
    'mutation { createApiKey(name: "  ", role: OPERATOR) { secret } }',
    () => ({}),
    'BAD_USER_INPUT',
    /name: must not be empty/,
  ],
  [
    'createApiKey: oversized name',
    'mutation($n: String!) { createApiKey(name: $n, role: OPERATOR) { secret } }',
    () => ({ n: long(201) }),
    'BAD_USER_INPUT',
    /name/,
  ],
  [
    'createApiKey: unknown role',
    'mutation($r: Role!) { createApiKey(name: "k", role: $r) { secret } }',
    () => ({ r: 'ROOT' }),
    'BAD_USER_INPUT',
    /"ROOT" does not exist in "Role"/,
  ],
  [
    'revokeApiKey: unknown id',
    'mutation($id: ID!) { revokeApiKey(id: $id) { id } }',
    () => ({ id: toGlobalId('ApiKey', '00000000-0000-7000-8000-000000000000') }),
    'NOT_FOUND',
    /does not exist/,
  ],
  [
    'revokeApiKey: a device id',
    'mutation($id: ID!) { revokeApiKey(id: $id) { id } }',
    () => ({ id: deviceId }),
    'BAD_USER_INPUT',
    /is not a ApiKey id/,
  ],
  ['devices: first above 500', 'query { devices(first: 501) { totalCount } }', () => ({}), 'BAD_USER_INPUT', /first: must be at most 500/],
  ['devices: last above 500', 'query { devices(last: 1000) { totalCount } }', () => ({}), 'BAD_USER_INPUT', /last: must be at most 500/],
  ['devices: negative first', 'query { devices(first: -1) { totalCount } }', () => ({}), 'BAD_USER_INPUT', /first: must not be negative/],
  [
    'devices: first and last together',
    'query { devices(first: 1, last: 1) { totalCount } }',
    () => ({}),
    'BAD_USER_INPUT',
    /either first or last/,
  ],
  [
    'devices: malformed cursor',
    'query($a: String) { devices(after: $a) { totalCount } }',
    () => ({ a: 'garbage!' }),
    'BAD_USER_INPUT',
    /after: malformed cursor/,
  ],
  [
    'devices: cursor from another ordering',
    'query($a: String) { devices(after: $a, orderBy: { field: CREATED_AT }) { totalCount } }',
    () => ({ a: Buffer.from('["Pole","x"]').toString('base64url') }),
    'BAD_USER_INPUT',
    /after: malformed cursor/,
  ],
  [
    'devices: radius above 100 km',
    'query { devices(filter: { near: { latitude: 0, longitude: 0, radiusKm: 1000 } }) { totalCount } }',
    () => ({}),
    'BAD_USER_INPUT',
    /radiusKm/,
  ],
  [
    'inspections: after later than before',
    'query { inspections(filter: { capturedAfter: "2026-02-01T00:00:00Z", capturedBefore: "2026-01-01T00:00:00Z" }) { totalCount } }',
    () => ({}),
    'BAD_USER_INPUT',
    /capturedBefore/,
  ],
  ['createDevice: NUL in a string', CREATE_DEVICE, () => ({ input: device({ name: 'Po\u0000le' }) }), 'BAD_USER_INPUT', NUL('input.name')],
  [
    'updateDevice: NUL in a string',
    UPDATE_DEVICE,
    () => ({ id: deviceId, input: { externalId: '\u0000' } }),
    'BAD_USER_INPUT',
    NUL('input.externalId'),
  ],
  [
    'createInspection: NUL in notes',
    CREATE_INSPECTION,
    () => ({ input: inspection({ notes: 'cracked\u0000' }) }),
    'BAD_USER_INPUT',
    NUL('input.notes'),
  ],
  [
    'createApiKey: NUL in a String argument',
    'mutation($n: String!) { createApiKey(name: $n, role: OPERATOR) { secret } }',
    () => ({ n: 'key\u0000' }),
    'BAD_USER_INPUT',
    NUL('name'),
  ],
  [
    'devices: NUL in a nested filter',
    'query($s: String) { devices(filter: { search: $s }) { totalCount } }',
    () => ({ s: '\u0000' }),
    'BAD_USER_INPUT',
    NUL('filter.search'),
  ],
  ['device: NUL in an id literal', 'query { device(id: "abc\\u0000") { id } }', () => ({}), 'BAD_USER_INPUT', NUL('id')],
  [
    'claimNextReview: NUL in a list',
    'mutation($skip: [ID!]) { claimNextReview(skip: $skip) { id } }',
    () => ({ skip: [toGlobalId('ReviewTask', '00000000-0000-7000-8000-000000000000'), 'x\u0000'] }),
    'BAD_USER_INPUT',
    NUL('skip[1]'),
  ],
  [
    'anomalies: minConfidence above 1',
    'query { anomalies(filter: { minConfidence: 1.5 }) { totalCount } }',
    () => ({}),
    'BAD_USER_INPUT',
    /minConfidence/,
  ],
];

describe('bad input', () => {
  it.each(CASES)('%s → a clear error and an unchanged database', async (_name, query, variables, code, message) => {
    const before = await fingerprint();
    const err = failure(await t.gql(query, variables()));
    expect(err.extensions?.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.extensions).not.toHaveProperty('stacktrace');
    expect(await fingerprint()).toBe(before);
  });
});

describe('a NUL character in importDevices', () => {
  it('is reported for its row; the rows before and after it are saved', async () => {
    const IMPORT = `mutation($d: [DeviceInput!]!) { importDevices(devices: $d) { created updated failed errors { index externalId field code message } } }`;
    const rows = [device({ externalId: 'nul-1' }), device({ externalId: 'nul-2', name: 'Bad\u0000name' }), device({ externalId: 'nul-3' })];
    const res = ok(await t.gql(IMPORT, { d: rows })).importDevices;
    expect(res).toEqual({
      created: 2,
      updated: 0,
      failed: 1,
      errors: [
        {
          index: 1,
          externalId: 'nul-2',
          field: 'name',
          code: 'BAD_USER_INPUT',
          message: 'name must not contain the NUL character (U+0000)',
        },
      ],
    });
    const saved = await t.app.db.prisma.device.findMany({ where: { externalId: { startsWith: 'nul-' } }, orderBy: { externalId: 'asc' } });
    expect(saved.map((d) => d.externalId)).toEqual(['nul-1', 'nul-3']);
  });
});
