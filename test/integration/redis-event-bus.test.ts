import crypto from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createEventBus } from '../../src/adapters/event-bus/event-bus.factory';
import { type AnomalyDetectedEvent } from '../../src/adapters/event-bus/event-bus.port';
import { RedisEventBus } from '../../src/adapters/event-bus/redis.driver';
import { eventually } from '../support/subscriptions';
import { CuttableProxy } from '../support/tcp-proxy';

// A Redis server runs beside the tests (127.0.0.1:6379), as it does in CI and in docker-compose.
const REDIS = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });

const anomaly = (anomalyId: string): AnomalyDetectedEvent => ({
  anomalyId,
  deviceId: 'd',
  inspectionId: 'i',
  type: 'crack',
  confidence: 0.8,
  status: 'SUSPECTED',
});

let observer: Redis;
beforeAll(() => {
  observer = new Redis(REDIS);
});
afterAll(() => observer.quit());

/** Waits until Redis counts `expected` subscribers on the channel. */
async function subscribersReach(channel: string, expected: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [, count] = (await observer.pubsub('NUMSUB', channel)) as [string, number];
    if (Number(count) === expected) return;
    if (Date.now() > deadline) throw new Error(`${channel} has ${count} subscribers, expected ${expected}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pair = (prefix: string) => [
  new RedisEventBus({ url: REDIS, channelPrefix: prefix }, silent),
  new RedisEventBus({ url: REDIS, channelPrefix: prefix }, silent),
];

describe('the Redis event bus', () => {
  it('is what createEventBus gives when REDIS_URL is set', async () => {
    const bus = createEventBus({ redisUrl: REDIS }, silent);
    expect(bus).toBeInstanceOf(RedisEventBus);
    await bus.close();
  });

  it('carries events as JSON from one instance to the subscribers of another, on <prefix><topic>, while they listen', async () => {
    const prefix = `vigil-test-${crypto.randomUUID()}:`;
    const channel = `${prefix}ANOMALY_DETECTED`;
    const [publisher, listener] = pair(prefix);
    const raw: string[] = [];
    const spy = new Redis(REDIS);
    await spy.subscribe(channel);
    spy.on('message', (_channel: string, message: string) => raw.push(message));
    try {
      const events = listener.subscribe('ANOMALY_DETECTED')[Symbol.asyncIterator]();
      const first = events.next();
      await subscribersReach(channel, 2);
      await publisher.publish('ANOMALY_DETECTED', anomaly('one'));
      await publisher.publish('ANOMALY_DETECTED', anomaly('two'));
      expect(await first).toEqual({ done: false, value: anomaly('one') });
      expect(await events.next()).toEqual({ done: false, value: anomaly('two') });
      await eventually(() => raw.length === 2, 'the spy to see both messages');
      expect(raw.map((m) => JSON.parse(m))).toEqual([anomaly('one'), anomaly('two')]);

      // The last subscriber leaving unsubscribes the instance from the channel.
      await events.return?.();
      await subscribersReach(channel, 1);
    } finally {
      spy.disconnect();
      await Promise.all([publisher.close(), listener.close()]);
    }
  });

  it("closing ends its subscribers' iterators and leaves the channel", async () => {
    const prefix = `vigil-test-${crypto.randomUUID()}:`;
    const bus = new RedisEventBus({ url: REDIS, channelPrefix: prefix }, silent);
    const waiting = bus.subscribe('DEVICE_STATUS_CHANGED')[Symbol.asyncIterator]().next();
    await subscribersReach(`${prefix}DEVICE_STATUS_CHANGED`, 1);
    await bus.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
    await subscribersReach(`${prefix}DEVICE_STATUS_CHANGED`, 0);
  });

  it('logs, and does not throw, when Redis cannot take an event', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((r) => server.close(r));
    const errors: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void errors.push(JSON.parse(line).msg) });
    const bus = new RedisEventBus({ url: `redis://127.0.0.1:${port}`, channelPrefix: 'vigil-test:' }, log);
    await expect(bus.publish('ANOMALY_DETECTED', anomaly('lost'))).resolves.toBeUndefined();
    expect(errors).toContain('could not publish an event to Redis; subscribers will read what they missed once it is back');
    await bus.close();
  });
});

describe('gaps: events Redis lost', () => {
  const redisAddress = () => {
    const url = new URL(REDIS);
    return { host: url.hostname, port: Number(url.port || 6379) };
  };

  it('are noticed by an instance whose subscriber connection dropped, from before the drop, once it listens again', async () => {
    const proxy = await CuttableProxy.start(redisAddress());
    const prefix = `vigil-test-${crypto.randomUUID()}:`;
    const bus = new RedisEventBus({ url: `redis://127.0.0.1:${proxy.port}`, channelPrefix: prefix }, silent);
    const gaps: Date[] = [];
    bus.onGap((from) => void gaps.push(from));
    try {
      const events = bus.subscribe('ANOMALY_DETECTED')[Symbol.asyncIterator]();
      const first = events.next();
      await subscribersReach(`${prefix}ANOMALY_DETECTED`, 1);
      const cutAt = Date.now();
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 300));
      // Published straight to Redis while this instance cannot hear: Redis drops it.
      await observer.publish(`${prefix}ANOMALY_DETECTED`, JSON.stringify(anomaly('lost')));
      expect(gaps).toEqual([]);
      await proxy.restore();
      await eventually(() => gaps.length === 1, 'the gap');
      expect(gaps[0].getTime()).toBeLessThanOrEqual(cutAt);
      // Listening again: live events arrive as before.
      await bus.publish('ANOMALY_DETECTED', anomaly('after'));
      expect(await first).toEqual({ done: false, value: anomaly('after') });
      await events.return?.();
    } finally {
      await bus.close();
      await proxy.close();
    }
  });

  it('are announced to every instance by one that could not publish, once Redis takes its events again', async () => {
    const proxy = await CuttableProxy.start(redisAddress());
    const prefix = `vigil-test-${crypto.randomUUID()}:`;
    const cutOff = new RedisEventBus({ url: `redis://127.0.0.1:${proxy.port}`, channelPrefix: prefix }, silent);
    const other = new RedisEventBus({ url: REDIS, channelPrefix: prefix }, silent);
    const gaps: Date[] = [];
    other.onGap((from) => void gaps.push(from));
    try {
      await subscribersReach(`${prefix}__gap`, 2);
      await proxy.cut();
      const failedAt = Date.now();
      await expect(cutOff.publish('ANOMALY_DETECTED', anomaly('lost'))).resolves.toBeUndefined();
      expect(gaps).toEqual([]);
      await proxy.restore();
      // The other instance's connection never dropped: only the announcement tells it.
      await eventually(() => gaps.length === 1, 'the announced gap');
      expect(gaps[0].getTime()).toBeLessThanOrEqual(failedAt);
    } finally {
      await Promise.all([cutOff.close(), other.close()]);
      await proxy.close();
    }
  });
});
