import { setImmediate as nextTurn } from 'node:timers/promises';
import { PGlite, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite';
import { NamedStatements } from './pglite-named-statements';

/**
 * PGlite runs every statement synchronously on this thread, and its statement lock hands over to
 * the next waiter in a promise callback: while statements are queued, one runs after the other
 * without the event loop ever polling its sockets. Under load the server then read new requests
 * about once a second, in bursts, so requests waited unread (and unseen by admission) for seconds.
 * Each statement here first lets the event loop turn once, holding the lock: sockets are read and
 * timers run between statements, and admission sees the real queue.
 *
 * With `nameStatements`, statement texts run more than once through `query` and a transaction's `tx.query` (what
 * Prisma's adapter calls) run as prepared statements, parsed and planned once (src/db/pglite-named-statements.ts).
 */
export class YieldingPGlite extends PGlite {
  private named: NamedStatements | undefined;

  override _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T> {
    return super._runExclusiveQuery(async () => {
      await nextTurn();
      return fn();
    });
  }

  /** Runs statement texts seen more than once as prepared statements from now on, at most `limit` at a time (0: none). */
  nameStatements(limit: number): this {
    // A second set would not know the names the first left prepared on the connection.
    if (this.named) throw new Error('statements are already named on this database');
    this.named = new NamedStatements(this, limit);
    return this;
  }

  override async query<T>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    const named = this.named;
    const name = named?.nameFor(sql, params, options);
    if (!named || !name) return super.query<T>(sql, params, options);
    await this._checkReady();
    // As PGlite's own query: the transaction lock (no transaction's statements run in between), and the files synced after.
    return this._runExclusiveTransaction(() => named.run<T>(name, sql, params, options, { syncToFs: true }));
  }

  override async transaction<T>(callback: (tx: Transaction) => Promise<T>): Promise<T> {
    const named = this.named;
    if (!named) return super.transaction(callback);
    return super.transaction((tx) => {
      const query = async <R>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<R>> => {
        if (tx.closed) throw new Error('Transaction is closed');
        const name = named.nameFor(sql, params, options);
        return name ? named.run<R>(name, sql, params, options, { syncToFs: false }) : tx.query<R>(sql, params, options);
      };
      return callback(Object.create(tx, { query: { value: query } }) as Transaction);
    });
  }
}
