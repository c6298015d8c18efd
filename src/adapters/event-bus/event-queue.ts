import { Repeater, type RepeaterBuffer } from '@graphql-yoga/subscription';
import { type QueueBudget } from './event-bus.port';

const sizes = new WeakMap<object, number>();

/** An event's size as JSON, measured once for all its subscribers. */
function sizeOf(event: object): number {
  let size = sizes.get(event);
  if (size === undefined) {
    size = JSON.stringify(event).length;
    sizes.set(event, size);
  }
  return size;
}

/**
 * Repeater's buffer without a count limit (an unbuffered Repeater throws past 1024 waiting pushes,
 * which lost events): what it holds is charged to the subscriber's budget instead.
 */
class BudgetBuffer<T> implements RepeaterBuffer<T> {
  private readonly values: { value: T; bytes: number }[] = [];
  /** The size of the event being pushed: Repeater adds a promise of it, not the event. */
  incoming = 0;

  constructor(private budget: QueueBudget | undefined) {}

  get empty(): boolean {
    return this.values.length === 0;
  }

  // Never full: the listener checks the budget before pushing, so no push ever waits.
  get full(): boolean {
    return false;
  }

  add(value: T): void {
    this.values.push({ value, bytes: this.incoming });
    if (this.budget) this.budget.queuedBytes += this.incoming;
  }

  remove(): T {
    const { value, bytes } = this.values.shift()!;
    if (this.budget) this.budget.queuedBytes -= bytes;
    return value;
  }

  wouldExceed(bytes: number): boolean {
    return this.budget !== undefined && this.budget.queuedBytes + bytes > this.budget.maxBytes;
  }

  /** Gives back to the budget what is still queued when the subscription ends. */
  release(): void {
    if (this.budget) for (const { bytes } of this.values) this.budget.queuedBytes -= bytes;
    this.budget = undefined;
  }
}

/**
 * The events `listen` delivers, in order, until the consumer returns or `ends` fires. A subscriber
 * over its budget is told (budget.exceeded) and its subscription ends: no event is skipped while it stays open.
 */
export function queuedEvents<T extends object>(
  listen: (deliver: (event: T) => void) => () => void,
  budget: QueueBudget | undefined,
  ends: Set<() => void>,
): AsyncIterable<T> {
  const buffer = new BudgetBuffer<T>(budget);
  return new Repeater<T>(async (push, stop) => {
    ends.add(stop);
    let over = false;
    const unlisten = listen((event) => {
      // The listener goes a turn after stop: nothing reaches an ended subscription.
      if (over) return;
      const bytes = sizeOf(event);
      if (!buffer.wouldExceed(bytes)) {
        buffer.incoming = bytes;
        return void push(event);
      }
      over = true;
      stop();
      budget!.exceeded();
    });
    await stop;
    ends.delete(stop);
    unlisten();
    buffer.release();
  }, buffer);
}
