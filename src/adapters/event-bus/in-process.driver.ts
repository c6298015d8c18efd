import { Repeater } from '@graphql-yoga/subscription';
import { type Logger } from 'pino';
import { type EventBus, type QueueBudget, type Topic, type VigilEvents } from './event-bus.port';
import { queuedEvents } from './event-queue';
import { LocalEventTarget } from './local-event-target';

/**
 * Events to this process's listeners through an event target. The default target keeps them in this
 * process; RedisEventBus passes a target that carries them between instances.
 */
export class InProcessEventBus implements EventBus {
  // Each open subscription's stop, so close() ends every subscriber's iterator.
  private readonly ends = new Set<() => void>();
  private closed = false;

  constructor(
    log: Logger,
    private readonly target: LocalEventTarget = new LocalEventTarget(log),
  ) {}

  async publish<T extends Topic>(topic: T, payload: VigilEvents[T]): Promise<void> {
    // Cannot throw: LocalEventTarget catches what a subscriber throws.
    this.target.dispatchEvent(new CustomEvent(topic, { detail: payload }));
  }

  subscribe<T extends Topic>(topic: T, budget?: QueueBudget): AsyncIterable<VigilEvents[T]> {
    if (this.closed) return new Repeater<VigilEvents[T]>((_push, stop) => stop());
    return queuedEvents<VigilEvents[T]>(
      (deliver) => {
        const listener = (event: Event) => deliver((event as CustomEvent<VigilEvents[T]>).detail);
        this.target.addEventListener(topic, listener);
        return () => this.target.removeEventListener(topic, listener);
      },
      budget,
      this.ends,
    );
  }

  /** Events in one process are never lost between publisher and subscriber. */
  onGap(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stop of [...this.ends]) stop();
  }
}
