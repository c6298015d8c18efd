import { anomalyDetectedEvent } from '../../src/adapters/event-bus/event-bus.port';
import { Role } from '../../src/auth/roles';
import { toGlobalId } from '../../src/common/global-id';
import { type Anomaly } from '../../src/generated/prisma/client';
import { startTestApp, type TestApp } from '../support/app';
import { seedFleet } from '../support/seed';
import { connect, eventually, Feed, untilLive } from '../support/subscriptions';
import { CuttableProxy } from '../support/tcp-proxy';

// Redis keeps no events: one published while it cannot be reached is gone. The server notices, and
// anomalyDetected subscriptions read back from the database what was found meanwhile.
const REDIS = new URL(process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');

let proxy: CuttableProxy;
let t: TestApp;
let seq = 0;
beforeAll(async () => {
  proxy = await CuttableProxy.start({ host: REDIS.hostname, port: Number(REDIS.port || 6379) });
  t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
});
afterAll(async () => {
  await t.stop();
  await proxy.close();
});

/** One new anomaly, written the way a detection writes it. */
async function newAnomaly(): Promise<Anomaly> {
  const prisma = t.app.db.prisma;
  const [device] = await seedFleet(prisma, { devices: 1, inspectionsPerDevice: 1, anomaliesPerInspection: 1, prefix: `gap-${++seq}` });
  return prisma.anomaly.findFirstOrThrow({ where: { deviceId: device.id } });
}

const publish = (a: Anomaly) => t.app.events.publish('ANOMALY_DETECTED', anomalyDetectedEvent(a));

it('sends an anomaly published while Redis was unreachable once it is back, to a subscriber that asked for no replay', async () => {
  const operator = await t.keyFor(Role.OPERATOR);
  const { client } = connect(t.app, { authorization: `Bearer ${operator}` });
  const feed = new Feed(client, 'subscription { anomalyDetected { id } }');
  const heard = () => feed.values<{ id: string }>('anomalyDetected').map((a) => a.id);
  try {
    const probe = await newAnomaly();
    await untilLive(feed, () => publish(probe));

    await proxy.cut();
    const lost = await newAnomaly();
    // Redis cannot take it: the publish is logged, not thrown, and nobody hears it now.
    await expect(publish(lost)).resolves.toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(heard()).not.toContain(toGlobalId('Anomaly', lost.id));

    await proxy.restore();
    // Before, it never came: Redis had dropped it.
    await eventually(() => heard().includes(toGlobalId('Anomaly', lost.id)), 'the anomaly published while Redis was away');
    expect(feed.error).toBeUndefined();

    // Live again: the next anomaly comes as usual.
    const after = await newAnomaly();
    await publish(after);
    await eventually(() => heard().includes(toGlobalId('Anomaly', after.id)), 'the next live anomaly');
  } finally {
    feed.stop();
    await client.dispose();
  }
});
