import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from '../../src/auth/roles';
import { SubscriptionResolver } from '../../src/events/subscription.resolver';
import { startTestApp, type TestApp } from '../support/app';
import { type Closed, connect, drift, eventually, Feed, untilLive } from '../support/subscriptions';

const DRIFT = 'subscription { modelDrift { deviceType samples } }';
const BUFFER_BYTES = 1024 * 1024;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ SUBSCRIPTION_BUFFER_BYTES: String(BUFFER_BYTES), SOCKETS_PER_KEY: '10' });
});
afterAll(() => t.stop());

const publishDrift = () => t.app.events.publish('MODEL_DRIFT', drift(-1));
const samples = (feed: Feed) => feed.values<{ samples: number }>('modelDrift').map((d) => d.samples);
// Probes (samples -1) for other feeds may still arrive: only the events a test publishes count.
const heard = (feed: Feed) => samples(feed).filter((n) => n >= 0);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A client whose WebSocket the test can stop reading from. */
function pausable(secret: string): { client: Client; socket: Promise<WebSocket>; closed: Promise<Closed> } {
  let onSocket!: (ws: WebSocket) => void;
  let onClosed!: (event: Closed) => void;
  const socket = new Promise<WebSocket>((resolve) => (onSocket = resolve));
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${t.app.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${secret}` },
    retryAttempts: 0,
    on: {
      connected: (ws) => onSocket(ws as WebSocket),
      closed: (event) => onClosed({ code: (event as Closed).code, reason: (event as Closed).reason }),
    },
  });
  return { client, socket, closed };
}

describe('event delivery', () => {
  it('delivers a burst of far more than 1024 events, complete and in order', async () => {
    const { client } = connect(t.app, { authorization: `Bearer ${await t.keyFor(Role.INTEGRATOR)}` });
    try {
      const feed = new Feed(client, DRIFT);
      await untilLive(feed, publishDrift);
      // Published in one go: all of them wait in the server's queue for this subscriber at once.
      for (const i of range(3000)) void t.app.events.publish('MODEL_DRIFT', drift(i));
      await eventually(() => heard(feed).length === 3000, 'all 3000 events');
      expect(heard(feed)).toEqual(range(3000));
      expect(feed.error).toBeUndefined();
    } finally {
      await client.dispose();
    }
  });

  it('closes a subscriber that stops reading with 1013 while another keeps receiving every event', async () => {
    const slow = pausable(await t.keyFor(Role.OPERATOR));
    const fast = connect(t.app, { authorization: `Bearer ${await t.keyFor(Role.INTEGRATOR)}` });
    try {
      const slowFeed = new Feed(slow.client, DRIFT);
      const fastFeed = new Feed(fast.client, DRIFT);
      for (const feed of [slowFeed, fastFeed]) await untilLive(feed, publishDrift);
      (await slow.socket).pause();
      // 20 MB of 50 kB events, more than the kernel's buffers hold, a few at a time so the reading
      // subscriber never has a megabyte waiting.
      const big = 'x'.repeat(50_000);
      let published = 0;
      while (published < 400) {
        for (let k = 0; k < 4; k++) await t.app.events.publish('MODEL_DRIFT', drift(published++, big));
        await eventually(() => heard(fastFeed).length === published, `event ${published} at the reading subscriber`);
      }
      // A paused client cannot read the close frame.
      (await slow.socket).resume();
      expect(await slow.closed).toEqual({ code: 1013, reason: expect.stringMatching(/^slow consumer: \d+ bytes unread/) });
      // It was closed, not kept open with events missing.
      expect(heard(slowFeed)).toEqual(range(heard(slowFeed).length));
      for (let k = 0; k < 20; k++) await t.app.events.publish('MODEL_DRIFT', drift(published++));
      await eventually(() => heard(fastFeed).length === published, 'the events after the slow one was dropped');
      expect(heard(fastFeed)).toEqual(range(published));
      expect(fastFeed.error).toBeUndefined();
    } finally {
      (await slow.socket).resume();
      await Promise.all([slow.client.dispose(), fast.client.dispose()]);
    }
  });

  it('resolves each event once per document, variables and role, whatever the number of subscribers', async () => {
    const integrator = await t.keyFor(Role.INTEGRATOR);
    const sockets = [0, 1, 2].map(() => connect(t.app, { authorization: `Bearer ${integrator}` }));
    const admin = connect(t.app, { authorization: `Bearer ${await t.keyFor(Role.ADMIN)}` });
    try {
      const same = sockets.flatMap(({ client }) => [new Feed(client, DRIFT), new Feed(client, DRIFT)]);
      const otherRole = new Feed(admin.client, DRIFT);
      const otherVariables = new Feed(sockets[0].client, 'subscription($t: String) { modelDrift(deviceType: $t) { deviceType samples } }', {
        t: 'pole',
      });
      const feeds = [...same, otherRole, otherVariables];
      for (const feed of feeds) await untilLive(feed, publishDrift);
      const resolved = jest.spyOn(SubscriptionResolver.prototype, 'modelDrift');
      try {
        for (const i of range(10)) await t.app.events.publish('MODEL_DRIFT', drift(i));
        await eventually(() => feeds.every((f) => heard(f).length === 10), 'every subscriber to hear the 10 events');
        // Six identical subscribers share one resolution; another role and other variables get their own.
        expect(resolved.mock.calls.filter(([event]) => event.samples >= 0)).toHaveLength(30);
        for (const feed of feeds) expect(heard(feed)).toEqual(range(10));
      } finally {
        resolved.mockRestore();
      }
    } finally {
      await Promise.all([...sockets, admin].map((s) => s.client.dispose()));
    }
  });
});
