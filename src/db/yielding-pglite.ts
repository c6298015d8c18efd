import { setImmediate as nextTurn } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';

/**
 * PGlite runs every statement synchronously on this thread, and its statement lock hands over to
 * the next waiter in a promise callback: while statements are queued, one runs after the other
 * without the event loop ever polling its sockets. Under load the server then read new requests
 * about once a second, in bursts, so requests waited unread (and unseen by admission) for seconds.
 * Each statement here first lets the event loop turn once, holding the lock: sockets are read and
 * timers run between statements, and admission sees the real queue.
 */
export class YieldingPGlite extends PGlite {
  override _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T> {
    return super._runExclusiveQuery(async () => {
      await nextTurn();
      return fn();
    });
  }
}
