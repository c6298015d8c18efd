import { type PGlite, type QueryOptions, type Results, messages, parse, protocol } from '@electric-sql/pglite';
import { preparedStatementNames, type StatementNames } from './prepared-statements';

type BackendMessage = Awaited<ReturnType<PGlite['execProtocolStream']>>[number];

/** What a statement's Describe said once, for every later execution: its parameters' types and its rows' columns. */
interface Prepared {
  name: string;
  parameterTypes: number[];
  rowDescription: BackendMessage | undefined;
}

/**
 * The statement no longer fits its tables: `0A000` is "cached plan must not change result type" after a table it
 * reads changed; `26000`, it was closed behind this class's back.
 */
const STALE = new Set(['0A000', '26000']);
const isStale = (err: unknown) => err instanceof messages.DatabaseError && STALE.has(err.code ?? '');

/**
 * Runs statements on PGlite by name, each text parsed and planned once: PGlite's own `query` sends every statement
 * unnamed, so the embedded database parsed and planned it again on every execution, which for the statements a
 * workflow step runs cost several times the execution (a step's image read: 0.8–1.2 ms against 0.1 ms prepared).
 * Which texts get a name is decided as on PostgreSQL (src/db/prepared-statements.ts), at most `limit` at a time;
 * past that the one used longest ago is closed to make room, so a long-running server keeps its busy statements
 * prepared (with more texts busy than the limit, they take turns). The others, and any query with options this does
 * not handle, run as PGlite runs them. Mirrors PGlite's `query`: Parse and Describe once, then Bind, Execute and
 * Sync, the results parsed by PGlite's own parser; src/db/yielding-pglite.ts calls it holding the transaction lock,
 * or inside a transaction, and this takes the query lock.
 */
export class NamedStatements {
  private readonly prepared = new Map<string, Prepared>();
  private readonly nameOf: StatementNames;
  /** Texts whose name slot went to another text: closed before the next statement runs. */
  private readonly retired: string[] = [];

  constructor(
    private readonly pg: PGlite,
    limit: number,
  ) {
    this.nameOf = preparedStatementNames(limit, (sql) => this.retired.push(sql));
  }

  /** The name `sql` runs under, or undefined when it runs unnamed. */
  nameFor(sql: string, params: readonly unknown[], options: QueryOptions | undefined): string | undefined {
    if (options?.blob || options?.paramTypes || options?.onNotice) return undefined;
    return this.nameOf({ sql, args: params });
  }

  async run<T>(
    name: string,
    sql: string,
    params: readonly unknown[],
    options: QueryOptions | undefined,
    { syncToFs }: { syncToFs: boolean },
  ): Promise<Results<T>> {
    return this.pg._runExclusiveQuery(async () => {
      await this.closeRetired();
      let received: BackendMessage[];
      try {
        received = await this.execute(name, sql, params, options);
      } catch (err) {
        // A table it reads changed since it was prepared. Outside a transaction nothing ran, so it is prepared again
        // and run once more (PGlite's unnamed statement would have answered); inside, the transaction is aborted.
        if (!syncToFs || !isStale(err)) throw failed(err, sql, params, options);
        received = await this.execute(name, sql, params, options).catch((again: unknown) => {
          throw failed(again, sql, params, options);
        });
      }
      // Outside a transaction PGlite writes its files out after each statement (inside, at its end).
      if (syncToFs) await this.pg.syncToFs();
      return parse.parseResults(received, this.pg.parsers, options)[0] as Results<T>;
    });
  }

  /** Binds and executes the text's statement, prepared first if need be; a stale one is closed, to be prepared again. */
  private async execute(
    name: string,
    sql: string,
    params: readonly unknown[],
    options: QueryOptions | undefined,
  ): Promise<BackendMessage[]> {
    const statement = this.prepared.get(sql) ?? (await this.prepare(name, sql));
    const values = params.map((value, i) => {
      if (value == null) return null;
      const type = statement.parameterTypes[i];
      const serializer = options?.serializers?.[type] ?? this.pg.serializers[type];
      return serializer ? serializer(value) : String(value);
    });
    const received: BackendMessage[] = statement.rowDescription ? [statement.rowDescription] : [];
    let stale = false;
    try {
      received.push(...(await this.send(protocol.serialize.bind({ statement: statement.name, values }))));
      received.push(...(await this.send(protocol.serialize.execute({}))));
    } catch (err) {
      stale = isStale(err);
      throw err;
    } finally {
      await this.send(protocol.serialize.sync());
      // No longer named (its slot was taken while it waited for the lock): run this once, not kept.
      if (stale || !this.nameOf.isNamed(sql)) await this.close(sql, statement.name);
    }
    return received;
  }

  private async prepare(name: string, sql: string, retry = true): Promise<Prepared> {
    const statement: Prepared = { name, parameterTypes: [], rowDescription: undefined };
    let parsed = false;
    let described = false;
    let clash = false;
    try {
      await this.send(protocol.serialize.parse({ name, text: sql }));
      parsed = true;
      for (const message of await this.send(protocol.serialize.describe({ type: 'S', name }))) {
        if (message.name === 'parameterDescription')
          statement.parameterTypes = (message as messages.ParameterDescriptionMessage).dataTypeIDs;
        if (message.name === 'rowDescription') statement.rowDescription = message;
      }
      described = true;
    } catch (err) {
      // `42P05`: the name is still on the connection (a Close that failed): closed, then parsed once more.
      clash = retry && err instanceof messages.DatabaseError && err.code === '42P05';
      if (!clash) throw err;
    } finally {
      await this.send(protocol.serialize.sync());
      // Parsed but not described: the name is taken on the connection and must be freed for the next attempt.
      if (parsed && !described) await this.close(sql, name);
    }
    if (clash) {
      await this.close(sql, name);
      return this.prepare(name, sql, false);
    }
    this.prepared.set(sql, statement);
    return statement;
  }

  private async closeRetired(): Promise<void> {
    // One at a time, each let go once closed: a Close that fails leaves the rest for the next statement.
    while (this.retired.length > 0) {
      const sql = this.retired[0];
      const statement = this.prepared.get(sql);
      if (statement && !this.nameOf.isNamed(sql)) await this.close(sql, statement.name);
      this.retired.shift();
    }
  }

  /** Closes a statement on the connection, so that its name can be parsed again, and forgets it. */
  private async close(sql: string, name: string): Promise<void> {
    try {
      await this.send(protocol.serialize.close({ type: 'S', name }));
    } finally {
      await this.send(protocol.serialize.sync());
    }
    this.prepared.delete(sql);
  }

  private send(message: Uint8Array): Promise<BackendMessage[]> {
    return this.pg.execProtocolStream(message, { syncToFs: false });
  }
}

/** As PGlite reports a failed query: the error carries the query, its parameters and options. */
function failed(err: unknown, sql: string, params: readonly unknown[], options: QueryOptions | undefined): unknown {
  return err instanceof messages.DatabaseError ? Object.assign(err, { query: sql, params, queryOptions: options }) : err;
}
