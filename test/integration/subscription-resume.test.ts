import crypto from 'node:crypto';
import { type Anomaly, type Device, type PrismaClient } from '../../src/generated/prisma/client';
import { anomalyDetectedEvent } from '../../src/adapters/event-bus/event-bus.port';
import { Role } from '../../src/auth/roles';
import { toGlobalId } from '../../src/common/global-id';
import { startTestApp, type TestApp } from '../support/app';
import { connect, eventually, Feed } from '../support/subscriptions';

// A subscriber that was away (its socket dropped, the server restarted) resumes with `since` and misses nothing.
const RESUME =
  'subscription($f: AnomalySubscriptionFilter, $since: DateTimeISO) { anomalyDetected(filter: $f, since: $since) { id status updatedAt } }';

let t: TestApp;
let seq = 0;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const makeDevice = (prisma: PrismaClient) => {
  const externalId = `resume-${++seq}`;
  return prisma.device.create({ data: { externalId, name: externalId, type: 'insulator' } });
};

/** `count` anomalies on one new image of the device, created in one statement. */
async function makeAnomalies(prisma: PrismaClient, device: Device, count: number): Promise<Anomaly[]> {
  const inspection = await prisma.inspection.create({
    data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' },
  });
  const sha256 = crypto.randomBytes(32).toString('hex');
  const image = await prisma.image.create({
    data: { inspectionId: inspection.id, objectKey: `images/${sha256}`, sha256, contentType: 'image/jpeg', bytes: 1, status: 'READY' },
  });
  return prisma.anomaly.createManyAndReturn({
    data: Array.from({ length: count }, (_, i) => ({
      imageId: image.id,
      inspectionId: inspection.id,
      deviceId: device.id,
      regionIndex: i,
      type: 'crack',
      confidence: 0.9,
      boxX: 0,
      boxY: 0,
      boxWidth: 0.1,
      boxHeight: 0.1,
      source: 'MODEL' as const,
    })),
  });
}

const publish = (a: Anomaly) => t.app.events.publish('ANOMALY_DETECTED', anomalyDetectedEvent(a));
const gid = (a: Anomaly) => toGlobalId('Anomaly', a.id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('anomalyDetected(since:)', () => {
  it('replays what was found or changed while the client was away, oldest first, then goes live, each change once', async () => {
    const prisma = t.app.db.prisma;
    const [watched, other] = [await makeDevice(prisma), await makeDevice(prisma)];
    const [before] = await makeAnomalies(prisma, watched, 1);
    await sleep(20);
    const since = new Date();
    // While away: two new anomalies, one on another device, and a review that confirms the older one.
    const [missed] = await makeAnomalies(prisma, watched, 1);
    await makeAnomalies(prisma, other, 1);
    await sleep(5);
    const confirmed = await prisma.anomaly.update({ where: { id: before.id }, data: { status: 'CONFIRMED' } });

    const { client } = connect(t.app, { authorization: `Bearer ${await t.keyFor(Role.INTEGRATOR)}` });
    const feed = new Feed(client, RESUME, { f: { deviceIds: [toGlobalId('Device', watched.id)] }, since: since.toISOString() });
    try {
      await eventually(() => feed.results.length >= 2, 'the replay');
      // Live now: the event of a change the replay already gave is not sent again; a new one is.
      await publish(confirmed);
      const [live] = await makeAnomalies(prisma, watched, 1);
      await publish(live);
      await eventually(() => feed.values('anomalyDetected').some((v) => v.id === gid(live)), 'the live anomaly');
      expect(feed.results.every((r) => r.errors === undefined)).toBe(true);
      expect(feed.values<{ id: string; status: string }>('anomalyDetected').map((v) => [v.id, v.status])).toEqual([
        [gid(missed), 'SUSPECTED'],
        [gid(before), 'CONFIRMED'],
        [gid(live), 'SUSPECTED'],
      ]);
    } finally {
      await client.dispose();
    }
  });

  it('refuses a replay longer than 1,000 anomalies with BAD_USER_INPUT on since, rather than skip any', async () => {
    const prisma = t.app.db.prisma;
    const device = await makeDevice(prisma);
    const since = new Date(Date.now() - 1000);
    await makeAnomalies(prisma, device, 1001);
    const { client } = connect(t.app, { authorization: `Bearer ${await t.keyFor(Role.INTEGRATOR)}` });
    const feed = new Feed(client, RESUME, { f: { deviceIds: [toGlobalId('Device', device.id)] }, since: since.toISOString() });
    try {
      await feed.ended();
      expect(feed.results[0].errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'since' });
      expect(feed.results[0].errors?.[0].message).toMatch(/more than 1000 anomalies changed since/);
    } finally {
      await client.dispose();
    }
  });
});
