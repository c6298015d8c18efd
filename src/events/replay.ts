import { Repeater } from '@graphql-yoga/subscription';

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
