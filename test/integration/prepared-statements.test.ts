import { type Database, openDatabase } from '../../src/db/database';
import { migrate } from '../../src/db/migrator';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/database';

// On PostgreSQL, statements run more than once are kept prepared on their connection (src/db/prepared-statements.ts).

describeOnPostgres('prepared statements on PostgreSQL', 'they are a PostgreSQL server feature (DATABASE_URL)', () => {
  let target: TestDatabase;
  const opened: Database[] = [];
  beforeAll(async () => {
    target = await createTestDatabase();
  });
  afterAll(async () => {
    for (const db of opened) await db.close();
    await target.drop();
  });

  async function open(preparedStatements: number): Promise<Database> {
    if (target.config.kind !== 'postgres') throw new Error('expected PostgreSQL');
    // One connection, so the statement and pg_prepared_statements are read on the same session.
    const db = await openDatabase({ ...target.config, poolSize: 1, preparedStatements });
    opened.push(db);
    return db;
  }

  const SQL = 'SELECT count(*)::int AS n FROM devices WHERE type = $1';
  const prepared = (db: Database) =>
    db.prisma.$queryRawUnsafe<{ name: string; statement: string }[]>('SELECT name, statement FROM pg_prepared_statements');

  it('a statement run twice is prepared once and answers as before', async () => {
    const db = await open(64);
    await migrate(db);
    await db.prisma.device.create({ data: { externalId: 'p-1', name: 'P 1', type: 'pole', latitude: 52, longitude: 5 } });
    for (let i = 0; i < 3; i++) expect(await db.prisma.$queryRawUnsafe(SQL, 'pole')).toEqual([{ n: 1 }]);
    const statements = (await prepared(db)).filter((s) => s.statement === SQL);
    expect(statements).toHaveLength(1);
    expect(statements[0].name).toMatch(/^vigil_/);
  });

  it('DATABASE_PREPARED_STATEMENTS=0 prepares none', async () => {
    const db = await open(0);
    for (let i = 0; i < 3; i++) expect(await db.prisma.$queryRawUnsafe(SQL, 'pole')).toEqual([{ n: 1 }]);
    expect((await prepared(db)).filter((s) => s.statement === SQL)).toHaveLength(0);
  });
});
