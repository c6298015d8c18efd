import { Redis } from 'ioredis';
import { type Logger } from 'pino';
import { type EventBus, type QueueBudget, type Topic, type VigilEvents } from './event-bus.port';
import { InProcessEventBus } from './in-process.driver';
import { type Listener, LocalEventTarget } from './local-event-target';

/**
 * createPubSub's event target across instances: events go out as JSON on `<prefix><topic>`, and
 * what arrives there reaches this process's listeners. Redis subscribes to a topic while it has listeners.
 */
export class RedisEventTarget extends LocalEventTarget {
  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    log: Logger,
  ) {
    super(log);
    subscriber.on('message', (channel: string, message: string) => this.receive(channel, message));
  }

  /** Resolves once Redis has the event; failures are logged, never thrown. */
  async publish(topic: string, payload: unknown): Promise<void> {
    try {
      await this.publisher.publish(this.prefix + topic, JSON.stringify(payload));
    } catch (err) {
      this.log.error({ err, topic }, 'could not publish an event to Redis; its subscribers miss it');
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
