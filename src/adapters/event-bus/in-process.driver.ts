import { createPubSub, type PubSub, Repeater } from '@graphql-yoga/subscription';
import { type Logger } from 'pino';
import { type EventBus, type Topic, type VigilEvents } from './event-bus.port';
import { type Channels, LocalEventTarget } from './local-event-target';

/**
 * Events through graphql-yoga's pubsub. The default target keeps them in this process;
 * RedisEventBus passes a target that carries them between instances.
 */
export class InProcessEventBus implements EventBus {
  private readonly pubSub: PubSub<Channels>;
  private readonly closed: Promise<void>;
  private endSubscriptions!: () => void;

  constructor(log: Logger, target: LocalEventTarget = new LocalEventTarget(log)) {
    this.pubSub = createPubSub<Channels>({ eventTarget: target });
    this.closed = new Promise((resolve) => (this.endSubscriptions = resolve));
  }

  async publish<T extends Topic>(topic: T, payload: VigilEvents[T]): Promise<void> {
    // Cannot throw: LocalEventTarget catches what a subscriber throws.
    this.pubSub.publish(topic, ...([payload] as Channels[T]));
  }

  subscribe<T extends Topic>(topic: T): AsyncIterable<VigilEvents[T]> {
    const events = this.pubSub.subscribe(topic as Topic) as AsyncIterable<VigilEvents[T]>;
    // Racing the close signal ends every subscriber's iterator when the bus closes.
    return Repeater.race([events, this.closed]) as AsyncIterable<VigilEvents[T]>;
  }

  async close(): Promise<void> {
    this.endSubscriptions();
  }
}
