import { Repeater } from '@graphql-yoga/subscription';
import { type EventBus } from '../adapters/event-bus/event-bus.port';

/**
 * A subscription that resumes: the events a client missed while it was away (read back from the
 * database), then the live ones. The live topic is listened to before the database is read, so
 * nothing falls between the two; a live event the replay already gave (same key) is not sent again.
 * Delivery is at least once around the resume point: a client drops what it already has by its key.
 * The read happens before this resolves, so a refused replay (e.g. too many events) is the
 * subscription's error, not a broken stream.
 */
export async function replayThenLive<E>(
  live: AsyncIterable<E>,
  missed: () => Promise<E[]>,
  key: (event: E) => string,
): Promise<AsyncIterable<E>> {
  const source = live[Symbol.asyncIterator]();
  // The first next() starts the listener: from here on, live events queue up while the replay is read.
  let pending = source.next();
  pending.catch(() => undefined); // awaited below; a failure here is the stream's, not an unhandled one
  let rows: E[];
  try {
    rows = await missed();
  } catch (err) {
    await source.return?.();
    throw err;
  }
  return new Repeater<E>(async (push, stop) => {
    const ended = stop.then(() => ({ done: true as const, value: undefined }));
    void stop.then(() => source.return?.());
    try {
      const replayed = new Set<string>();
      for (const event of rows) {
        replayed.add(key(event));
        await push(event);
      }
      for (;;) {
        const next = await Promise.race([pending, ended]);
        if (next.done) break;
        // A live event that raced the replay comes once more at most: the key is dropped when it is seen again.
        if (!replayed.delete(key(next.value))) await push(next.value);
        pending = source.next();
      }
      stop();
    } catch (err) {
      stop(err);
    }
  });
}

/**
 * Live events, and after each gap in them (EventBus.onGap: the broker lost events for a while) what
 * the database says changed from the gap's start on, so an event the broker lost still arrives: late,
 * and maybe twice (clients drop repeats by key). A read-back that fails (e.g. too many events) ends
 * the subscription with its error, and the client resubscribes with `since`.
 */
export function replayOnGaps<E>(live: AsyncIterable<E>, onGap: EventBus['onGap'], missed: (from: Date) => Promise<E[]>): AsyncIterable<E> {
  return new Repeater<E>(async (push, stop) => {
    const source = live[Symbol.asyncIterator]();
    const ended = stop.then(() => ({ done: true as const, value: undefined }));
    let readingBack = Promise.resolve();
    const stopListening = onGap((from) => {
      readingBack = readingBack
        .then(async () => {
          for (const event of await missed(from)) await push(event);
        })
        .catch((err) => stop(err));
    });
    void stop.then(() => {
      stopListening();
      return source.return?.();
    });
    try {
      for (;;) {
        const next = await Promise.race([source.next(), ended]);
        if (next.done) break;
        await push(next.value);
      }
      stop();
    } catch (err) {
      stop(err);
    }
  });
}
