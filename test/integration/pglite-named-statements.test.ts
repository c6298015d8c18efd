import { messages } from '@electric-sql/pglite';
import { Prisma } from '../../src/generated/prisma/client';
import { type Database, openDatabase } from '../../src/db/database';
import { migrate } from '../../src/db/migrator';
import { YieldingPGlite } from '../../src/db/yielding-pglite';

// On the embedded database, statements run more than once are run as prepared statements
// (src/db/pglite-named-statements.ts): answers, errors and transactions as PGlite's own unnamed ones.

const preparedOn = async (pg: YieldingPGlite, text: string) =>
  (await pg.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE statement = $1', [text])).rows.map((r) => r.name);

describe('named statements on PGlite', () => {
  // Each PGlite holds about 200 MB: closed after each test.
  const clients: YieldingPGlite[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });

  async function client(limit: number | null): Promise<YieldingPGlite> {
    const pg = new YieldingPGlite('memory://');
    if (limit !== null) pg.nameStatements(limit);
    clients.push(pg);
    await pg.exec(`
      CREATE TYPE mood AS ENUM ('calm', 'loud');
      CREATE TABLE t (id uuid PRIMARY KEY, n int NOT NULL UNIQUE, x float8, at timestamptz, tags text[], doc jsonb, m mood, ok bool, b bytea);
      INSERT INTO t VALUES
        ('0190a000-0000-7000-8000-000000000001', 1, 1.5, '2026-01-02T03:04:05.678Z', '{a,"b c"}', '{"k": [1, null]}', 'calm', true, '\\x0102'),
        ('0190a000-0000-7000-8000-000000000002', 2, null, null, null, null, null, null, null);`);
    return pg;
  }

  const READ = 'SELECT * FROM t WHERE n = ANY($1::int[]) AND ($2::text IS NULL OR m::text = $2) ORDER BY n';
  const UPDATE = 'UPDATE t SET x = $1 WHERE id = $2';

  it('a text run twice is prepared once, and every run answers as an unnamed statement does', async () => {
    const [named, plain] = [await client(64), await client(null)];
    const parsers = { 701: (v: string) => `float8:${v}`, 3802: (v: string) => `jsonb:${v}` };
    for (const options of [undefined, { rowMode: 'array' as const }, { rowMode: 'array' as const, parsers }]) {
      for (let i = 0; i < 3; i++) {
        for (const params of [
          [[1, 2], null],
          [[1], 'calm'],
          [[], null],
        ]) {
          const [a, b] = await Promise.all([named.query(READ, params, options), plain.query(READ, params, options)]);
          expect(a).toEqual(b);
        }
      }
    }
    expect((await named.query(READ, [[1, 2], null])).rows).toHaveLength(2);
    expect((await named.query<unknown[]>(READ, [[1], null], { rowMode: 'array', parsers })).rows[0].slice(1, 3)).toEqual([1, 'float8:1.5']);
    expect(await preparedOn(named, READ)).toEqual([expect.stringMatching(/^vigil_[0-9a-f]{24}$/)]);
    expect(await preparedOn(plain, READ)).toEqual([]);
  });

  it('writes report their affected rows; with limit 0 nothing is prepared', async () => {
    const [named, none] = [await client(64), await client(0)];
    for (const pg of [named, none]) {
      for (let i = 0; i < 3; i++) {
        const result = await pg.query(UPDATE, [i, '0190a000-0000-7000-8000-000000000002']);
        expect(result).toMatchObject({ affectedRows: 1, rows: [] });
      }
      expect((await pg.query<{ x: number }>('SELECT x FROM t WHERE n = 2')).rows).toEqual([{ x: 2 }]);
    }
    expect(await preparedOn(named, UPDATE)).toHaveLength(1);
    // Prepared once: the second and third runs were executions of that one statement.
    const plans = await named.query<{ runs: number }>(
      'SELECT (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE statement = $1',
      [UPDATE],
    );
    expect(plans.rows).toEqual([{ runs: 2 }]);
    expect(await preparedOn(none, UPDATE)).toEqual([]);
  });

  it("a named statement's error is PGlite's DatabaseError with the query, and the next statement runs", async () => {
    const pg = await client(64);
    const INSERT = 'INSERT INTO t (id, n) VALUES ($1, $2)';
    await pg.query(INSERT, ['0190a000-0000-7000-8000-000000000003', 3]);
    await pg.query(INSERT, ['0190a000-0000-7000-8000-000000000004', 4]);
    expect(await preparedOn(pg, INSERT)).toHaveLength(1);
    const err = await pg.query(INSERT, ['0190a000-0000-7000-8000-000000000005', 4]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(messages.DatabaseError);
    expect(err).toMatchObject({ code: '23505', constraint: 't_n_key', query: INSERT, params: ['0190a000-0000-7000-8000-000000000005', 4] });
    await expect(pg.query(INSERT, ['not a uuid', 6])).rejects.toMatchObject({ code: '22P02' });
    await expect(pg.query(INSERT, ['0190a000-0000-7000-8000-000000000005'])).rejects.toThrow(/bind message supplies 1 parameters/);
    await pg.query(INSERT, ['0190a000-0000-7000-8000-000000000005', 5]);
    expect((await pg.query('SELECT n FROM t ORDER BY n')).rows).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
  });

  it('inside a transaction: prepared, rolled back with it, and an error aborts it', async () => {
    const pg = await client(64);
    const id = '0190a000-0000-7000-8000-000000000001';
    await pg.query(UPDATE, [10, id]);
    await pg.transaction(async (tx) => {
      await tx.query(UPDATE, [20, id]);
      expect((await tx.query<{ x: number }>('SELECT x FROM t WHERE id = $1', [id])).rows).toEqual([{ x: 20 }]);
      await tx.rollback();
    });
    expect(await preparedOn(pg, UPDATE)).toHaveLength(1);
    expect((await pg.query<{ x: number }>('SELECT x FROM t WHERE id = $1', [id])).rows).toEqual([{ x: 10 }]);
    const failed = pg.transaction(async (tx) => {
      await tx.query(UPDATE, [30, id]);
      await expect(tx.query(UPDATE, ['not a number', id])).rejects.toMatchObject({ code: '22P02' });
      // The error aborted the transaction: a named statement after it is refused, not run.
      await tx.query(UPDATE, [40, id]);
    });
    await expect(failed).rejects.toMatchObject({ code: '25P02' });
    expect((await pg.query<{ x: number }>('SELECT x FROM t WHERE id = $1', [id])).rows).toEqual([{ x: 10 }]);
    let closed: { query: YieldingPGlite['query'] } | undefined;
    await pg.transaction(async (tx) => {
      closed = tx;
    });
    await expect(closed!.query(UPDATE, [1, id])).rejects.toThrow('Transaction is closed');
  });

  it('past the limit the statement used longest ago is closed to make room, and answers right when it comes back', async () => {
    const pg = await client(2);
    const texts = [1, 2, 3].map((n) => `SELECT n, $1::int AS k FROM t WHERE n = ${n}`);
    const run = async (i: number) => expect((await pg.query(texts[i], [i])).rows).toEqual(i < 2 ? [{ n: i + 1, k: i }] : []);
    for (const i of [0, 0, 1, 1, 2, 2]) await run(i);
    // Read with exec (the simple protocol, never prepared), so that the reading takes no slot itself.
    const prepared = async () => {
      const [{ rows }] = await pg.exec('SELECT statement FROM pg_prepared_statements');
      return texts.map((t) => rows.filter((r) => (r as { statement: string }).statement === t).length);
    };
    expect(await prepared()).toEqual([0, 1, 1]);
    for (const i of [0, 0, 0]) await run(i);
    expect(await prepared()).toEqual([1, 0, 1]);
    // The first call is named when made, and its slot taken by the fifth before it runs: it runs, and is not kept.
    await Promise.all([run(0), run(1), run(1), run(2), run(2)]);
    expect(await prepared()).toEqual([0, 1, 1]);
  });

  it('a statement whose table changed is made again and answers; inside a transaction it fails as PostgreSQL says', async () => {
    const pg = await client(64);
    const ALL = 'SELECT * FROM t WHERE n = $1';
    await pg.query(ALL, [1]);
    await pg.query(ALL, [1]);
    await pg.exec('ALTER TABLE t ADD COLUMN note text');
    expect((await pg.query<{ note: string | null }>(ALL, [1])).rows[0]).toHaveProperty('note', null);
    expect(await preparedOn(pg, ALL)).toHaveLength(1);
    await pg.exec('ALTER TABLE t ADD COLUMN note2 text');
    // The error aborts the transaction, so nothing can be run again inside it.
    await expect(pg.transaction((tx) => tx.query(ALL, [1]))).rejects.toMatchObject({ code: '0A000' });
    expect((await pg.query<{ note2: string | null }>(ALL, [1])).rows[0]).toHaveProperty('note2', null);
  });

  it('a name closed or taken behind its back is prepared again; naming twice on one database is refused', async () => {
    const pg = await client(1);
    const [A, B] = [1, 2].map((n) => `SELECT n FROM t WHERE n = $1 AND ${n} = ${n}`);
    await pg.query(A, [1]);
    await pg.query(A, [1]);
    const [name] = await preparedOn(pg, A);
    // Closed behind its back (26000): outside a transaction it is prepared again and answers.
    await pg.exec(`DEALLOCATE ${name}`);
    expect((await pg.query(A, [1])).rows).toEqual([{ n: 1 }]);
    // B takes A's only slot; then A's name is taken by another statement before A is named again (42P05).
    for (let i = 0; i < 3; i++) await pg.query(B, [2]);
    expect(await preparedOn(pg, A)).toEqual([]);
    await pg.exec(`PREPARE ${name} AS SELECT 42 AS n`);
    for (let i = 0; i < 3; i++) expect((await pg.query(A, [1])).rows).toEqual([{ n: 1 }]);
    expect(await preparedOn(pg, A)).toEqual([name]);
    expect(() => pg.nameStatements(1)).toThrow('statements are already named on this database');
  });
});

describe('named statements under Prisma on the embedded database', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ kind: 'pglite', dataDir: 'memory://', preparedStatements: 64 });
    await migrate(db);
  });
  afterAll(() => db.close());

  const device = (n: number) => ({ externalId: `p-${n}`, name: `P ${n}`, type: 'pole', latitude: 52, longitude: 5 });

  it('answers as before, keeps its unique-key errors, and rolls back a failed transaction', async () => {
    for (let n = 1; n <= 3; n++) await db.prisma.device.create({ data: device(n) });
    const names = await db.prisma.$queryRawUnsafe<{ name: string }[]>(
      `SELECT name FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO "public"."devices"%'`,
    );
    expect(names).toHaveLength(1);
    const duplicate = await db.prisma.device.create({ data: device(2) }).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect((duplicate as Prisma.PrismaClientKnownRequestError).code).toBe('P2002');
    const failed = db.prisma.$transaction(async (tx) => {
      await tx.device.create({ data: device(4) });
      await tx.device.create({ data: device(1) });
    });
    await expect(failed).rejects.toMatchObject({ code: 'P2002' });
    expect((await db.prisma.device.findMany({ orderBy: { externalId: 'asc' } })).map((d) => d.externalId)).toEqual(['p-1', 'p-2', 'p-3']);
  });
});
