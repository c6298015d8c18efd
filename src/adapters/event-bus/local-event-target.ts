import { type PubSubEventTarget } from '@graphql-yoga/subscription';
import { type Logger } from 'pino';
import { type Topic, type VigilEvents } from './event-bus.port';

/** What createPubSub carries per topic: one payload, no per-id routing. */
export type Channels = { [T in Topic]: [VigilEvents[T]] };

export type Listener = ((event: Event) => void) | { handleEvent(event: Event): void };

/**
 * Delivers events to this process's listeners. Unlike Node's EventTarget, a listener that throws
 * is logged instead of crashing the process or keeping the event from the other listeners.
 */
export class LocalEventTarget implements PubSubEventTarget<Channels> {
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(protected readonly log: Logger) {}

  addEventListener(type: string, listener: Listener | null): void {
    if (!listener) return;
    this.listeners.set(type, (this.listeners.get(type) ?? new Set()).add(listener));
  }

  removeEventListener(type: string, listener: Listener | null): void {
    const listeners = this.listeners.get(type);
    if (!listeners || !listener) return;
    listeners.delete(listener);
    if (listeners.size === 0) this.listeners.delete(type);
  }

  dispatchEvent(event: Event): boolean {
    this.deliver(event);
    return true;
  }

  protected hasListeners(type: string): boolean {
    return this.listeners.has(type);
  }

  protected deliver(event: Event): void {
    for (const listener of [...(this.listeners.get(event.type) ?? [])]) {
      try {
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      } catch (err) {
        this.log.warn({ err, topic: event.type }, 'a subscriber could not take an event; it was dropped for that subscriber');
      }
    }
  }
}
