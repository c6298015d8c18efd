import { Redis } from 'ioredis';
import { type Logger } from 'pino';
import { type EventBus, type QueueBudget, type Topic, type VigilEvents } from './event-bus.port';
import { InProcessEventBus } from './in-process.driver';
import { type Listener, LocalEventTarget } from './local-event-target';

/** An event's rows are written just before it is published: a gap reaches back this far before the failure was seen. */
const GAP_MARGIN_MS = 5_000;
/** The channel (after the prefix) on which an instance tells every instance that its events did not reach Redis for a while. */
const GAP_CHANNEL = '__gap';

const marginBefore = (at: number) => new Date(at - GAP_MARGIN_MS);

/**
 * createPubSub's event target across instances: events go out as JSON on `<prefix><topic>`, and
 * what arrives there reaches this process's listeners. Redis subscribes to a topic while it has listeners.
 *
 * Redis keeps no events: one published while it is unreachable, or while a subscriber's connection is
 * down, is gone. Both are noticed and become gaps (see EventBus.onGap): an instance whose subscriber
 * connection dropped has one once it listens again; one that could not publish says so on `<prefix>__gap`
 * once Redis takes events again, and every instance has one.
 */
export class RedisEventTarget extends LocalEventTarget {
  private readonly gapListeners = new Set<(from: Date) => void>();
  /** Since when this instance's events may not have reached Redis. */
  private unpublishedSince: Date | null = null;
  /** Since when this instance's subscriber connection has been down. */
  private deafSince: Date | null = null;
  private listening = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    log: Logger,
  ) {
    super(log);
    subscriber.on('message', (channel: string, message: string) => this.receive(channel, message));
    this.redisCommand('subscribe', GAP_CHANNEL, subscriber.subscribe(prefix + GAP_CHANNEL));
    subscriber.on('close', () => {
      if (this.listening) this.deafSince ??= marginBefore(Date.now());
      this.listening = false;
    });
    subscriber.on('ready', () => void this.listeningAgain());
    publisher.on('ready', () => void this.announceUnpublished());
  }

  /** Resolves once Redis has the event; failures are logged, never thrown. */
  async publish(topic: string, payload: unknown): Promise<void> {
    try {
      await this.publisher.publish(this.prefix + topic, JSON.stringify(payload));
    } catch (err) {
      this.unpublishedSince ??= marginBefore(Date.now());
      this.log.error({ err, topic }, 'could not publish an event to Redis; subscribers will read what they missed once it is back');
      return;
    }
    if (this.unpublishedSince) await this.announceUnpublished();
  }

  onGap(listener: (from: Date) => void): () => void {
    this.gapListeners.add(listener);
    return () => void this.gapListeners.delete(listener);
  }

  /** Tells every instance (this one too) that events from `unpublishedSince` on may be missing. */
  private async announceUnpublished(): Promise<void> {
    const from = this.unpublishedSince;
    if (!from) return;
    try {
      await this.publisher.publish(this.prefix + GAP_CHANNEL, JSON.stringify({ from: from.toISOString() }));
      if (this.unpublishedSince === from) this.unpublishedSince = null;
    } catch {
      // Still unreachable: the next successful publish or reconnection announces it.
    }
  }

  /** The subscriber is back: once Redis has its subscriptions again (the PING answers after them), what it missed is a gap. */
  private async listeningAgain(): Promise<void> {
    try {
      await this.subscriber.ping();
    } catch {
      return; // down again: the next 'ready' tries once more
    }
    this.listening = true;
    const from = this.deafSince;
    this.deafSince = null;
    if (from) this.gap(from);
  }

  private gap(from: Date): void {
    this.log.warn({ from: from.toISOString() }, 'events from Redis may have been missed; subscriptions that can read them back do so');
    for (const listener of [...this.gapListeners]) {
      try {
        listener(from);
      } catch (err) {
        this.log.warn({ err }, 'a subscription could not read back what it missed');
      }
    }
  }

  override dispatchEvent(event: Event): boolean {
    void this.publish(event.type, (event as CustomEvent).detail);
    return true;
  }

  override addEventListener(type: string, listener: Listener | null): void {
    const first = !this.hasListeners(type);
    super.addEventListener(type, listener);
    if (first && listener) this.redisCommand('subscribe', type, this.subscriber.subscribe(this.prefix + type));
  }

  override removeEventListener(type: string, listener: Listener | null): void {
    const had = this.hasListeners(type);
    super.removeEventListener(type, listener);
    if (had && !this.hasListeners(type)) this.redisCommand('unsubscribe', type, this.subscriber.unsubscribe(this.prefix + type));
  }

  private redisCommand(command: string, topic: string, reply: Promise<unknown>) {
    reply.catch((err: Error) => this.log.error({ err, topic }, `redis ${command} failed`));
  }

  private receive(channel: string, message: string) {
    if (!channel.startsWith(this.prefix)) return;
    const topic = channel.slice(this.prefix.length);
    try {
      if (topic === GAP_CHANNEL) return this.gap(new Date(JSON.parse(message).from));
      this.deliver(new CustomEvent(topic, { detail: JSON.parse(message) }));
    } catch (err) {
      this.log.warn({ err, topic }, 'ignored an event from Redis that is not JSON');
    }
  }
}

export interface RedisEventBusOptions {
  url: string;
  /** Channels are `<prefix><topic>`, e.g. vigil:ANOMALY_DETECTED. */
  channelPrefix: string;
}

/** Events shared by every instance connected to the same Redis: one connection publishes, one listens. */
export class RedisEventBus implements EventBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly target: RedisEventTarget;
  private readonly local: InProcessEventBus;

  constructor(options: RedisEventBusOptions, log: Logger) {
    // A publish fails fast while Redis is down; a subscribe waits for it to come back.
    this.publisher = new Redis(options.url, { maxRetriesPerRequest: 1 });
    this.subscriber = new Redis(options.url, { maxRetriesPerRequest: null });
    for (const connection of [this.publisher, this.subscriber]) {
      connection.on('error', (err: Error) => log.warn({ err: err.message }, 'redis unavailable for live events'));
    }
    this.target = new RedisEventTarget(this.publisher, this.subscriber, options.channelPrefix, log);
    this.local = new InProcessEventBus(log, this.target);
  }

  publish<T extends Topic>(topic: T, payload: VigilEvents[T]): Promise<void> {
    return this.target.publish(topic, payload);
  }

  subscribe<T extends Topic>(topic: T, budget?: QueueBudget): AsyncIterable<VigilEvents[T]> {
    return this.local.subscribe(topic, budget);
  }

  onGap(listener: (from: Date) => void): () => void {
    return this.target.onGap(listener);
  }

  async close(): Promise<void> {
    await this.local.close();
    await Promise.all([quit(this.publisher), quit(this.subscriber)]);
  }
}

async function quit(connection: Redis) {
  // quit() waits for the replies to commands already sent; a connection that is down has none coming.
  if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
  else connection.disconnect();
}
