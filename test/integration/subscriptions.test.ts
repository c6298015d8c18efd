import crypto from 'node:crypto';
import WebSocket from 'ws';
import { type Anomaly, type Device, type Inspection, type PrismaClient } from '../../src/generated/prisma/client';
import { Role } from '../../src/auth/roles';
import { toGlobalId } from '../../src/common/global-id';
import { buildVigilSchema } from '../../src/app/schema';
import { anomalyDetectedEvent } from '../../src/adapters/event-bus/event-bus.port';
import { ok, startTestApp, type TestApp } from '../support/app';
import { describeOnPostgres } from '../support/database';
import { type Closed, connect, eventually, Feed, untilLive } from '../support/subscriptions';

const REDIS = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const ANOMALIES = 'subscription($f: AnomalySubscriptionFilter) { anomalyDetected(filter: $f) { id type confidence device { id } } }';
const INSPECTION = 'subscription($id: ID!) { inspectionUpdated(id: $id) { id status } }';
const DEVICES = 'subscription($f: DeviceStatusFilter) { deviceStatusChanged(filter: $f) { id status } }';

let t: TestApp;
let seq = 0;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

// Rows for the events to name.
const makeDevice = (prisma: PrismaClient, type = 'insulator') => {
  const externalId = `sub-${++seq}`;
  return prisma.device.create({ data: { externalId, name: externalId, type } });
};
const makeInspection = (prisma: PrismaClient, device: Device) =>
  prisma.inspection.create({ data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' } });

async function makeAnomaly(prisma: PrismaClient, device: Device, type: string, confidence: number): Promise<Anomaly> {
  const inspection = await makeInspection(prisma, device);
  const sha256 = crypto.randomBytes(32).toString('hex');
  const image = await prisma.image.create({
    data: { inspectionId: inspection.id, objectKey: `images/${sha256}`, sha256, contentType: 'image/jpeg', bytes: 1, status: 'READY' },
  });
  return prisma.anomaly.create({
    data: {
      imageId: image.id,
      inspectionId: inspection.id,
      deviceId: device.id,
      type,
      confidence,
      boxX: 0,
      boxY: 0,
      boxWidth: 0.5,
      boxHeight: 0.5,
      source: 'MODEL',
    },
  });
}

const publishAnomaly = (app: TestApp, a: Anomaly) => app.app.events.publish('ANOMALY_DETECTED', anomalyDetectedEvent(a));
const publishInspection = (i: Inspection, status: string) => t.app.events.publish('INSPECTION_UPDATED', { inspectionId: i.id, status });
const publishDevice = (d: Device, status: string, previousStatus = 'UNKNOWN') =>
  t.app.events.publish('DEVICE_STATUS_CHANGED', { deviceId: d.id, status, previousStatus, deviceType: d.type });

const bearer = async (role: Role) => ({ authorization: `Bearer ${await t.keyFor(role)}` });

describe('anomalyDetected', () => {
  it('sends an INTEGRATOR exactly the anomalies its filter matches, each loaded from the database', async () => {
    const prisma = t.app.db.prisma;
    const [watched, other] = [await makeDevice(prisma), await makeDevice(prisma)];
    const probe = await makeAnomaly(prisma, watched, 'crack', 0.99);
    const { client } = connect(t.app, await bearer(Role.INTEGRATOR));
    const feed = new Feed(client, ANOMALIES, {
      f: { deviceIds: [toGlobalId('Device', watched.id)], types: ['crack', 'corrosion'], minConfidence: 0.5 },
    });
    try {
      await untilLive(feed, () => publishAnomaly(t, probe));
      const wrongDevice = await makeAnomaly(prisma, other, 'crack', 0.9);
      const wrongType = await makeAnomaly(prisma, watched, 'missing-cap', 0.9);
      const tooUnsure = await makeAnomaly(prisma, watched, 'crack', 0.49);
      const first = await makeAnomaly(prisma, watched, 'crack', 0.5);
      const last = await makeAnomaly(prisma, watched, 'corrosion', 0.8);
      // Events arrive in order: anything let through wrongly would come before `last`.
      for (const a of [wrongDevice, wrongType, tooUnsure, first, last]) await publishAnomaly(t, a);
      const id = (a: Anomaly) => toGlobalId('Anomaly', a.id);
      await eventually(() => feed.values('anomalyDetected').some((v) => v.id === id(last)), 'the last anomaly');

      const heard = feed.values('anomalyDetected').filter((v) => v.id !== id(probe));
      const device = { id: toGlobalId('Device', watched.id) };
      expect(heard).toEqual([
        { id: id(first), type: 'crack', confidence: 0.5, device },
        { id: id(last), type: 'corrosion', confidence: 0.8, device },
      ]);
      expect(feed.results.every((r) => r.errors === undefined)).toBe(true);
    } finally {
      await client.dispose();
    }
  });

  it.each([
    ['a device id that is not one', { deviceIds: ['bm9wZQ'] }, 'filter.deviceIds[0]'],
    ['minConfidence above 1', { minConfidence: 1.5 }, 'filter.minConfidence'],
  ])('refuses %s with BAD_USER_INPUT when subscribing', async (_name, filter, field) => {
    const { client } = connect(t.app, await bearer(Role.INTEGRATOR));
    const feed = new Feed(client, ANOMALIES, { f: filter });
    try {
      await feed.ended();
      expect(feed.results[0].errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    } finally {
      await client.dispose();
    }
  });
});

describe('inspectionUpdated', () => {
  it('sends the inspection asked about, as it is now, and no other', async () => {
    const prisma = t.app.db.prisma;
    const device = await makeDevice(prisma);
    const [watched, other] = [await makeInspection(prisma, device), await makeInspection(prisma, device)];
    const { client } = connect(t.app, await bearer(Role.OPERATOR));
    const feed = new Feed(client, INSPECTION, { id: toGlobalId('Inspection', watched.id) });
    try {
      await untilLive(feed, () => publishInspection(watched, 'PENDING'));
      await prisma.inspection.update({ where: { id: other.id }, data: { status: 'FAILED' } });
      await publishInspection(other, 'FAILED');
      await prisma.inspection.update({ where: { id: watched.id }, data: { status: 'COMPLETED' } });
      await publishInspection(watched, 'COMPLETED');
      await eventually(() => feed.values('inspectionUpdated').some((v) => v.status === 'COMPLETED'), 'the completed inspection');

      const heard = feed.values('inspectionUpdated');
      expect(new Set(heard.map((v) => v.id))).toEqual(new Set([toGlobalId('Inspection', watched.id)]));
      expect(heard.at(-1)).toEqual({ id: toGlobalId('Inspection', watched.id), status: 'COMPLETED' });
    } finally {
      await client.dispose();
    }
  });

  it('is NOT_FOUND for an inspection that does not exist', async () => {
    const { client } = connect(t.app, await bearer(Role.ADMIN));
    const feed = new Feed(client, INSPECTION, { id: toGlobalId('Inspection', crypto.randomUUID()) });
    try {
      await feed.ended();
      expect(feed.results[0].errors?.[0].extensions?.code).toBe('NOT_FOUND');
    } finally {
      await client.dispose();
    }
  });
});

describe('deviceStatusChanged', () => {
  it('sends exactly the devices whose id, type and new status match', async () => {
    const prisma = t.app.db.prisma;
    const setStatus = (d: Device, status: 'OK' | 'NEEDS_ATTENTION') => prisma.device.update({ where: { id: d.id }, data: { status } });
    const [probe, calm, alarmed, last, unlisted] = await Promise.all([1, 2, 3, 4, 5].map(() => makeDevice(prisma, 'insulator')));
    const pole = await makeDevice(prisma, 'pole');
    const listed = [probe, calm, alarmed, last, pole].map((d) => toGlobalId('Device', d.id));
    const { client } = connect(t.app, await bearer(Role.INTEGRATOR));
    const feed = new Feed(client, DEVICES, { f: { deviceIds: listed, types: ['insulator'], statuses: ['NEEDS_ATTENTION'] } });
    try {
      await setStatus(probe, 'NEEDS_ATTENTION');
      await untilLive(feed, () => publishDevice(probe, 'NEEDS_ATTENTION'));
      for (const d of [pole, alarmed, last, unlisted]) await setStatus(d, 'NEEDS_ATTENTION');
      await setStatus(calm, 'OK');
      await publishDevice(pole, 'NEEDS_ATTENTION');
      await publishDevice(unlisted, 'NEEDS_ATTENTION');
      await publishDevice(calm, 'OK');
      await publishDevice(alarmed, 'NEEDS_ATTENTION');
      await publishDevice(last, 'NEEDS_ATTENTION', 'OK');
      const id = (d: Device) => toGlobalId('Device', d.id);
      await eventually(() => feed.values('deviceStatusChanged').some((v) => v.id === id(last)), 'the last device');

      const heard = feed.values('deviceStatusChanged').filter((v) => v.id !== id(probe));
      expect(heard).toEqual([
        { id: id(alarmed), status: 'NEEDS_ATTENTION' },
        { id: id(last), status: 'NEEDS_ATTENTION' },
      ]);
    } finally {
      await client.dispose();
    }
  });
});

describe('deviceStatusChanged from the API', () => {
  it('is announced by updateDevice(status) and decommissionDevice, once each, and not by changes that keep the status', async () => {
    const [probe, device] = await Promise.all([1, 2].map(() => makeDevice(t.app.db.prisma, 'insulator')));
    const { client } = connect(t.app, await bearer(Role.INTEGRATOR));
    const feed = new Feed(client, DEVICES, { f: { deviceIds: [probe, device].map((d) => toGlobalId('Device', d.id)) } });
    const id = toGlobalId('Device', device.id);
    try {
      await untilLive(feed, () => publishDevice(probe, 'UNKNOWN'));
      const update = 'mutation($id: ID!, $i: UpdateDeviceInput!) { updateDevice(id: $id, input: $i) { status } }';
      ok(await t.gql(update, { id, i: { status: 'NEEDS_ATTENTION' } }));
      ok(await t.gql(update, { id, i: { name: 'renamed, same status' } }));
      const decommission = 'mutation($id: ID!) { decommissionDevice(id: $id) { status } }';
      await Promise.all([t.gql(decommission, { id }), t.gql(decommission, { id })]);
      await eventually(() => feed.values('deviceStatusChanged').filter((v) => v.id === id).length >= 2, 'both changes');
      await new Promise((r) => setTimeout(r, 100));
      expect(feed.values('deviceStatusChanged').filter((v) => v.id === id)).toEqual([
        { id, status: 'NEEDS_ATTENTION' },
        { id, status: 'DECOMMISSIONED' },
      ]);
    } finally {
      await client.dispose();
    }
  });
});

const { ADMIN, OPERATOR, REVIEWER, INTEGRATOR } = Role;

/** Every subscription with the roles that may make it and an event it hears (like auth.test.ts's OPERATIONS). */
const SUBSCRIPTIONS: Record<
  string,
  { roles: Role[]; start: () => Promise<{ query: string; variables: Record<string, unknown>; probe: () => Promise<void> }> }
> = {
  anomalyDetected: {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    async start() {
      const a = await makeAnomaly(t.app.db.prisma, await makeDevice(t.app.db.prisma), 'crack', 0.9);
      return { query: ANOMALIES, variables: {}, probe: () => publishAnomaly(t, a) };
    },
  },
  inspectionUpdated: {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    async start() {
      const i = await makeInspection(t.app.db.prisma, await makeDevice(t.app.db.prisma));
      return { query: INSPECTION, variables: { id: toGlobalId('Inspection', i.id) }, probe: () => publishInspection(i, 'PENDING') };
    },
  },
  deviceStatusChanged: {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    async start() {
      const d = await makeDevice(t.app.db.prisma);
      return { query: DEVICES, variables: {}, probe: () => publishDevice(d, 'UNKNOWN') };
    },
  },
  reviewTaskCreated: {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    async start() {
      const a = await makeAnomaly(t.app.db.prisma, await makeDevice(t.app.db.prisma), 'crack', 0.9);
      const task = await t.app.db.prisma.reviewTask.create({
        data: { imageId: a.imageId, inspectionId: a.inspectionId, reason: 'LOW_CONFIDENCE', uncertainty: 0.4 },
      });
      return {
        query: 'subscription { reviewTaskCreated { id reason uncertainty } }',
        variables: {},
        probe: () => t.app.events.publish('REVIEW_TASK_CREATED', { reviewTaskId: task.id, imageId: task.imageId, reason: task.reason }),
      };
    },
  },
  reviewCompleted: {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    async start() {
      const a = await makeAnomaly(t.app.db.prisma, await makeDevice(t.app.db.prisma), 'crack', 0.9);
      const task = await t.app.db.prisma.reviewTask.create({
        data: {
          imageId: a.imageId,
          inspectionId: a.inspectionId,
          reason: 'SAMPLED_QA',
          uncertainty: 0.1,
          status: 'COMPLETED',
          verdict: 'NORMAL',
          completedAt: new Date(),
        },
      });
      return {
        query: 'subscription { reviewCompleted { id status verdict } }',
        variables: {},
        probe: () =>
          t.app.events.publish('REVIEW_COMPLETED', {
            reviewTaskId: task.id,
            imageId: task.imageId,
            reason: task.reason,
            verdict: 'NORMAL',
          }),
      };
    },
  },
  modelDrift: {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    async start() {
      return {
        query: 'subscription($t: String) { modelDrift(deviceType: $t) { deviceType precision recall samples floor at } }',
        variables: { t: 'drift-probe' },
        probe: () =>
          t.app.events.publish('MODEL_DRIFT', {
            deviceType: 'drift-probe',
            modelVersionIds: [],
            precision: 0.5,
            recall: 0.6,
            samples: 40,
            floor: 0.8,
            at: new Date().toISOString(),
          }),
      };
    },
  },
};

/** A defect (and a work order of it) made through the services, for the repair subscriptions' probes. */
async function repairProbe() {
  const device = await makeDevice(t.app.db.prisma);
  await makeAnomaly(t.app.db.prisma, device, 'crack', 0.9);
  await t.app.services.defectTracker.track(device.id);
  const defect = await t.app.db.prisma.defect.findFirstOrThrow({ where: { deviceId: device.id } });
  const order = await t.app.services.workOrders.create({ apiKeyId: 'sub', name: 'sub', role: Role.ADMIN }, { defectIds: [defect.id] });
  return { defect, order };
}
SUBSCRIPTIONS.defectChanged = {
  roles: [ADMIN, OPERATOR, INTEGRATOR],
  async start() {
    const { defect } = await repairProbe();
    const event = {
      defectId: defect.id,
      deviceId: defect.deviceId,
      type: defect.type,
      status: defect.status,
      severity: defect.severity,
      change: 'OPENED',
    };
    return {
      query: 'subscription { defectChanged { id status } }',
      variables: {},
      probe: () => t.app.events.publish('DEFECT_CHANGED', event),
    };
  },
};
SUBSCRIPTIONS.workOrderChanged = {
  roles: [ADMIN, OPERATOR, INTEGRATOR],
  async start() {
    const { order } = await repairProbe();
    const event = { workOrderId: order.id, deviceId: order.deviceId, status: order.status, change: 'CREATED' };
    return {
      query: 'subscription { workOrderChanged { id status } }',
      variables: {},
      probe: () => t.app.events.publish('WORK_ORDER_CHANGED', event),
    };
  },
};

describe('who may subscribe', () => {
  it('covers every subscription in the schema', () => {
    expect(Object.keys(SUBSCRIPTIONS).sort()).toEqual(Object.keys(buildVigilSchema().getSubscriptionType()!.getFields()).sort());
  });

  describe.each(Object.keys(SUBSCRIPTIONS))('%s', (name) => {
    it.each([ADMIN, OPERATOR, REVIEWER, INTEGRATOR])('as %s: allowed roles hear events, the others are FORBIDDEN', async (role) => {
      const { query, variables, probe } = await SUBSCRIPTIONS[name].start();
      const { client } = connect(t.app, await bearer(role));
      const feed = new Feed(client, query, variables);
      try {
        if (SUBSCRIPTIONS[name].roles.includes(role)) {
          await untilLive(feed, probe);
          expect(feed.results[0].errors).toBeUndefined();
          expect(feed.results[0].data?.[name]).toBeTruthy();
        } else {
          await feed.ended();
          const [error] = feed.results[0].errors!;
          expect(error.extensions?.code).toBe('FORBIDDEN');
          expect(error.message).toContain(role);
        }
      } finally {
        await client.dispose();
      }
    });
  });

  it('accepts the bare key as { apiKey }', async () => {
    const device = await makeDevice(t.app.db.prisma);
    const { client } = connect(t.app, { apiKey: await t.keyFor(Role.INTEGRATOR) });
    const feed = new Feed(client, DEVICES, { f: { deviceIds: [toGlobalId('Device', device.id)] } });
    try {
      await untilLive(feed, () => publishDevice(device, 'UNKNOWN'));
      expect(feed.results[0].data).toEqual({ deviceStatusChanged: { id: toGlobalId('Device', device.id), status: 'UNKNOWN' } });
    } finally {
      await client.dispose();
    }
  });

  it.each([
    ['no key', undefined, 'connection_init must carry { "authorization": "Bearer <API key>" }'],
    [
      'a header of another form',
      { authorization: 'Basic YWRtaW46YWRtaW4=' },
      'connection_init must carry { "authorization": "Bearer <API key>" }',
    ],
    ['an unknown key', { authorization: 'Bearer vgl_not-a-real-key' }, 'unknown or revoked API key'],
  ])('closes the socket with 4401 for %s', async (_name, params, reason) => {
    const { client, closed } = connect(t.app, params);
    const feed = new Feed(client, DEVICES, {});
    try {
      expect(await closed).toMatchObject({ code: 4401, reason });
      await feed.ended();
      expect(feed.error).toMatchObject({ code: 4401 });
      expect(feed.results).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  it('closes the socket of a revoked key with 4403, running subscriptions and all', async () => {
    const { apiKey, secret } = await t.app.services.apiKeys.create('soon revoked', Role.INTEGRATOR);
    const device = await makeDevice(t.app.db.prisma);
    const { client, closed } = connect(t.app, { authorization: `Bearer ${secret}` });
    const running = new Feed(client, DEVICES, { f: { deviceIds: [toGlobalId('Device', device.id)] } });
    try {
      await untilLive(running, () => publishDevice(device, 'UNKNOWN'));
      await t.app.services.apiKeys.revoke(apiKey.id);
      // The key is checked again on every sweep (API_KEY_CACHE_MS, at least once a second).
      expect(await closed).toMatchObject({ code: 4403, reason: 'the API key was revoked' });
      await running.ended();
      const heard = running.results.length;
      await publishDevice(device, 'UNKNOWN');
      await new Promise((r) => setTimeout(r, 100));
      expect(running.results).toHaveLength(heard);
    } finally {
      await client.dispose();
    }
  });

  it('refuses a revoked key', async () => {
    const { apiKey, secret } = await t.app.services.apiKeys.create('revoked subscriber', Role.INTEGRATOR);
    await t.app.services.apiKeys.revoke(apiKey.id);
    const { client, closed } = connect(t.app, { authorization: `Bearer ${secret}` });
    new Feed(client, DEVICES, {});
    try {
      expect(await closed).toMatchObject({ code: 4401, reason: 'unknown or revoked API key' });
    } finally {
      await client.dispose();
    }
  });
});

describe('the WebSocket endpoint', () => {
  it('upgrades only on /graphql: elsewhere the answer is 404', async () => {
    const ws = new WebSocket(`${t.app.url.replace(/^http/, 'ws')}/elsewhere`, 'graphql-transport-ws');
    const status = await new Promise<number>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('upgraded on /elsewhere')));
      ws.on('error', reject);
    });
    ws.terminate();
    expect(status).toBe(404);
  });

  it('closes connected clients with 1001 when the app stops, and then ends the event bus', async () => {
    const other = await startTestApp();
    const device = await makeDevice(other.app.db.prisma);
    const { client, closed } = connect(other.app, { authorization: `Bearer ${await other.keyFor(Role.INTEGRATOR)}` });
    const feed = new Feed(client, DEVICES, { f: { deviceIds: [toGlobalId('Device', device.id)] } });
    try {
      await untilLive(feed, () =>
        other.app.events.publish('DEVICE_STATUS_CHANGED', {
          deviceId: device.id,
          status: 'UNKNOWN',
          previousStatus: 'UNKNOWN',
          deviceType: device.type,
        }),
      );
      await other.stop();
      expect(await closed).toEqual(expect.objectContaining<Closed>({ code: 1001, reason: 'server shutting down' }));
      await feed.ended();
      // The bus is closed too: a new subscriber's iterator is finished at once.
      expect(await other.app.events.subscribe('DEVICE_STATUS_CHANGED')[Symbol.asyncIterator]().next()).toEqual({
        done: true,
        value: undefined,
      });
    } finally {
      await client.dispose();
      await other.stop();
    }
  });
});

// Two instances must share one database, and an in-memory PGlite lives inside one app.

describeOnPostgres('live events through Redis', 'two instances need one shared database, which needs PostgreSQL (DATABASE_URL)', () => {
  it('a subscriber on instance A hears an anomaly published on instance B', async () => {
    // A channel prefix of their own keeps other test runs on the same Redis out.
    const options = { eventChannelPrefix: `vigil-test-${crypto.randomUUID()}:` };
    const a = await startTestApp({ REDIS_URL: REDIS }, options);
    const b = await startTestApp({ REDIS_URL: REDIS }, options, a.db);
    const { client } = connect(a.app, { authorization: `Bearer ${await a.keyFor(Role.INTEGRATOR)}` });
    try {
      // B writes the rows and publishes; A loads them from the database they share.
      const device = await makeDevice(b.app.db.prisma);
      const probe = await makeAnomaly(b.app.db.prisma, device, 'crack', 0.9);
      const feed = new Feed(client, ANOMALIES, { f: { deviceIds: [toGlobalId('Device', device.id)] } });
      await untilLive(feed, () => publishAnomaly(b, probe));
      const found = await makeAnomaly(b.app.db.prisma, device, 'corrosion', 0.7);
      await publishAnomaly(b, found);
      const id = toGlobalId('Anomaly', found.id);
      await eventually(() => feed.values('anomalyDetected').some((v) => v.id === id), 'the anomaly from instance B');
      expect(feed.values('anomalyDetected').find((v) => v.id === id)).toEqual({
        id,
        type: 'corrosion',
        confidence: 0.7,
        device: { id: toGlobalId('Device', device.id) },
      });
    } finally {
      await client.dispose();
      await b.stop();
      await a.stop();
    }
  });
});
