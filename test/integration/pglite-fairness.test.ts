import { type Database, openDatabase } from '../../src/db/database';

// PGlite runs statements on the server's own thread. Queued statements used to run back to back in
// promise callbacks, so the event loop did not read a socket until the queue was empty: under load
// the server read new requests about once a second. Each statement now lets the loop turn first.

let db: Database;
beforeAll(async () => {
  db = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
});
afterAll(() => db.close());

it('lets the event loop turn between queued statements', async () => {
  const log: string[] = [];
  const statements = Array.from({ length: 40 }, (_, i) =>
    db.prisma.$queryRawUnsafe('SELECT $1::int AS n', i).then(() => void log.push(`statement ${i}`)),
  );
  setImmediate(() => log.push('event loop'));
  await Promise.all(statements);
  expect(log).toHaveLength(41);
  // Before, every statement finished first (index 40).
  expect(log.indexOf('event loop')).toBeLessThanOrEqual(2);
});

it('lets it turn inside a transaction too, and the transaction still holds the database', async () => {
  const log: string[] = [];
  let outside: Promise<void> | undefined;
  await db.prisma.$transaction(async (tx) => {
    for (let i = 0; i < 5; i++) {
      const turned = new Promise<void>((resolve) => setImmediate(resolve)).then(() => void log.push(`turn ${i}`));
      await tx.$queryRawUnsafe('SELECT $1::int AS n', i);
      log.push(`statement ${i}`);
      await turned;
      outside ??= db.prisma.$queryRawUnsafe('SELECT 1').then(() => void log.push('outside'));
    }
  });
  await outside;
  // Every statement gave the loop a turn before it ran, and the statement outside waited for the commit.
  for (let i = 0; i < 5; i++) expect(log.indexOf(`turn ${i}`)).toBeLessThan(log.indexOf(`statement ${i}`));
  expect(log.indexOf('outside')).toBeGreaterThan(log.indexOf('statement 4'));
});
