import net from 'node:net';
import pg from 'pg';
import { startTestApp } from '../support/app';
import { describeOnPostgres, serverUrl } from '../support/database';

// A Redis server runs beside the tests (127.0.0.1:6379), as it does in CI and in docker-compose.
const REDIS = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('/readyz with REDIS_URL', () => {
  it('checks Redis as well as the database', async () => {
    const t = await startTestApp({ REDIS_URL: REDIS });
    try {
      const res = await fetch(`${t.app.url}/readyz`);
      expect(await res.json()).toEqual({ status: 'ready', checks: { database: 'ok', objectStore: 'ok', redis: 'ok' } });
      expect(res.status).toBe(200);
    } finally {
      await t.stop();
    }
  });

  it('answers 503 naming Redis when it does not answer, while the API keeps serving', async () => {
    const t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    try {
      const res = await fetch(`${t.app.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; checks: Record<string, string> };
      expect(body.status).toBe('not ready');
      expect(body.checks.database).toBe('ok');
      expect(body.checks.redis).toMatch(/ECONNREFUSED|connect/i);
      expect((await t.gql('{ viewer { role } }')).data).toEqual({ viewer: { role: 'ADMIN' } });
    } finally {
      await t.stop();
    }
  });
});

// A server restart drops every connection at once; the one a transaction holds between two
// statements has nobody listening for its error. The process must live through it.

describeOnPostgres('a connection dropped by PostgreSQL', 'it needs a PostgreSQL server (DATABASE_URL)', () => {
  it('fails the statement in flight, not the process, and the next request is served', async () => {
    const t = await startTestApp();
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      const database = new URL(t.db.config.kind === 'postgres' ? t.db.config.url : '').pathname.slice(1);
      const open = t.app.db.prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT 1`;
        // Between two statements: the connection is checked out and idle when it is dropped.
        await new Promise((r) => setTimeout(r, 500));
        await tx.$queryRaw`SELECT 2`;
      });
      await new Promise((r) => setTimeout(r, 200));
      const dropped = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [database],
      );
      expect(dropped.rowCount).toBeGreaterThan(0);
      await expect(open).rejects.toThrow();
      expect((await fetch(`${t.app.url}/healthz`)).status).toBe(200);
      expect((await t.gql('{ devices { totalCount } }')).data).toEqual({ devices: { totalCount: 0 } });
    } finally {
      await admin.end();
      await t.stop();
    }
  });
});
