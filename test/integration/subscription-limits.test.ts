import WebSocket from 'ws';
import { Role } from '../../src/auth/roles';
import { ADMIN_SECRET, startTestApp, type TestApp } from '../support/app';
import { connect, eventually, Feed, untilLive, drift } from '../support/subscriptions';

const DRIFT = 'subscription { modelDrift { deviceType samples } }';
const ANOMALIES = 'subscription { anomalyDetected { id type device { id name } } }';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ SUBSCRIPTIONS_PER_SOCKET: '3', SUBSCRIPTIONS_PER_KEY: '5', SOCKETS_PER_KEY: '2' });
});
afterAll(() => t.stop());

const publishDrift = () => t.app.events.publish('MODEL_DRIFT', drift(1));

describe('subscription caps', () => {
  it('refuses a subscription over SUBSCRIPTIONS_PER_SOCKET on that socket, and allows one again when another ends', async () => {
    const { client } = connect(t.app, { authorization: `Bearer ${await t.keyFor(Role.INTEGRATOR)}` });
    try {
      const feeds = [0, 1, 2].map(() => new Feed(client, DRIFT));
      for (const feed of feeds) await untilLive(feed, publishDrift);
      const over = new Feed(client, DRIFT);
      await over.ended();
      expect(over.error).toEqual([
        expect.objectContaining({
          message: 'this socket has 3 subscriptions; the limit is 3 (SUBSCRIPTIONS_PER_SOCKET)',
          extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'SUBSCRIPTIONS_PER_SOCKET', max: 3 },
        }),
      ]);
      feeds[0].stop();
      const again = new Feed(client, DRIFT);
      await untilLive(again, publishDrift);
      expect(again.error).toBeUndefined();
    } finally {
      await client.dispose();
    }
  });

  it('caps sockets and subscriptions per API key; another key is not affected', async () => {
    const secret = await t.keyFor(Role.OPERATOR);
    const first = connect(t.app, { authorization: `Bearer ${secret}` });
    const second = connect(t.app, { authorization: `Bearer ${secret}` });
    const third = connect(t.app, { authorization: `Bearer ${secret}` });
    const other = connect(t.app, { authorization: `Bearer ${await t.keyFor(Role.ADMIN)}` });
    try {
      const feeds = [...[0, 1, 2].map(() => new Feed(first.client, DRIFT)), ...[0, 1].map(() => new Feed(second.client, DRIFT))];
      for (const feed of feeds) await untilLive(feed, publishDrift);
      new Feed(third.client, DRIFT);
      expect(await third.closed).toMatchObject({ code: 1008, reason: 'this API key has 2 sockets open; the limit is 2 (SOCKETS_PER_KEY)' });
      const over = new Feed(second.client, DRIFT);
      await over.ended();
      expect(over.error).toEqual([
        expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'SUBSCRIPTIONS_PER_KEY', max: 5 } }),
      ]);
      const elsewhere = new Feed(other.client, DRIFT);
      await untilLive(elsewhere, publishDrift);
      expect(elsewhere.error).toBeUndefined();
    } finally {
      await Promise.all([first, second, third, other].map((c) => c.client.dispose()));
    }
  });

  it('checks the operation like an HTTP request: depth, aliases and introspection', async () => {
    const { client } = connect(t.app, { authorization: `Bearer ${await t.keyFor(Role.ADMIN)}` });
    try {
      const aliases = new Feed(
        client,
        `subscription { modelDrift { ${Array.from({ length: 31 }, (_, i) => `a${i}: samples`).join(' ')} } }`,
      );
      await aliases.ended();
      expect(aliases.error).toEqual([
        expect.objectContaining({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_ALIASES', max: 30, found: 31 } }),
      ]);
    } finally {
      await client.dispose();
    }
  });
});

describe('one resolution per event', () => {
  it('loads the row an event names once, however many subscribers hear it', async () => {
    const device = await t.app.db.prisma.device.create({ data: { externalId: 'shared-1', name: 'shared', type: 'pole' } });
    const inspection = await t.app.db.prisma.inspection.create({
      data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' },
    });
    const image = await t.app.db.prisma.image.create({
      data: {
        inspectionId: inspection.id,
        objectKey: 'images/shared',
        sha256: 'f'.repeat(64),
        contentType: 'image/jpeg',
        bytes: 1,
        status: 'READY',
      },
    });
    const anomaly = await t.app.db.prisma.anomaly.create({
      data: {
        ...{ imageId: image.id, inspectionId: inspection.id, deviceId: device.id, type: 'crack', confidence: 0.9, source: 'MODEL' },
        ...{ boxX: 0, boxY: 0, boxWidth: 0.5, boxHeight: 0.5 },
      },
    });
    const event = () => ({
      anomalyId: anomaly.id,
      deviceId: device.id,
      inspectionId: inspection.id,
      type: 'crack',
      confidence: 0.9,
      status: 'SUSPECTED',
    });
    const [a, b] = [
      connect(t.app, { authorization: `Bearer ${await t.keyFor(Role.INTEGRATOR)}` }),
      connect(t.app, { authorization: `Bearer ${ADMIN_SECRET}` }),
    ];
    try {
      const feeds = [
        new Feed(a.client, ANOMALIES),
        new Feed(a.client, ANOMALIES),
        new Feed(b.client, ANOMALIES),
        new Feed(b.client, ANOMALIES),
      ];
      for (const feed of feeds) await untilLive(feed, () => t.app.events.publish('ANOMALY_DETECTED', event()));
      const get = jest.spyOn(t.app.services.anomalies, 'get');
      const devices = jest.spyOn(t.app.services.devices, 'byIds');
      const heard = feeds.map((f) => f.results.length);
      await t.app.events.publish('ANOMALY_DETECTED', event());
      await eventually(() => feeds.every((f, i) => f.results.length > heard[i]), 'every subscriber to hear the event');
      expect(get).toHaveBeenCalledTimes(1);
      expect(devices).toHaveBeenCalledTimes(1);
      for (const f of feeds) expect(f.results.at(-1)?.data).toEqual(feeds[0].results.at(-1)?.data);
      get.mockRestore();
      devices.mockRestore();
    } finally {
      await Promise.all([a.client.dispose(), b.client.dispose()]);
    }
  });
});

describe('a client that stops reading', () => {
  it('is dropped with 1013 instead of being buffered without limit', async () => {
    const { secret: slowKey } = await t.app.services.apiKeys.create('slow reader', Role.INTEGRATOR);
    const ws = new WebSocket(`${t.app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: string[] = [];
    ws.on('message', (data) => messages.push(String(data)));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${slowKey}` } }));
    await eventually(() => messages.some((m) => m.includes('connection_ack')), 'the connection_ack');
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: DRIFT } }));
    await eventually(() => {
      void publishDrift();
      return messages.some((m) => m.includes('"next"'));
    }, 'the subscription to go live');
    // Stop reading: the kernel's buffers fill, then the server's.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    // 600 events of 50 kB each: far more than the sockets' buffers hold.
    const big = 'x'.repeat(50_000);
    for (let i = 0; i < 600; i++) await t.app.events.publish('MODEL_DRIFT', drift(i, big));
    // Two sweeps (one a second here) with bytes waiting and none written close the socket.
    await new Promise((r) => setTimeout(r, 3500));
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toEqual({ code: 1013, reason: expect.stringMatching(/^slow consumer: \d+ bytes unread/) });
    // Fewer than all 600 events reached it: the rest were never buffered for it.
    expect(messages.filter((m) => m.includes('"next"')).length).toBeLessThan(600);
  });
});
