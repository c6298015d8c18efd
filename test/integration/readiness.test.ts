import net from 'node:net';
import { startTestApp } from '../support/app';

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
