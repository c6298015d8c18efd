import { createHttpServer } from '../../src/http/server';
import { loadConfig } from '../../src/config/config';
import { buildVigilSchema, resolverContainer } from '../../src/app/schema';
import { DeviceService } from '../../src/devices/device.service';
import { createLogger } from '../../src/logging/logger';
import { ADMIN_SECRET, failure, ok, startTestApp, type TestApp } from '../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

describe('HTTP surface', () => {
  it('GET /healthz answers while the process is alive', async () => {
    const res = await fetch(`${t.app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz checks the database', async () => {
    const res = await fetch(`${t.app.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { database: 'ok', objectStore: 'ok' } });
  });

  it('echoes a caller-supplied request id and makes one up otherwise', async () => {
    const given = await fetch(`${t.app.url}/healthz`, { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc-123');
    const made = await fetch(`${t.app.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('opens GraphiQL for a browser at GET /graphql, with every asset served locally', async () => {
    const page = await fetch(`${t.app.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('GraphiQL');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBe(4);
    for (const asset of assets) {
      expect(asset.startsWith('/')).toBe(true); // nothing from a CDN
      const res = await fetch(`${t.app.url}${asset}`);
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });

  it('still answers GraphQL GET requests from API clients', async () => {
    const res = await fetch(`${t.app.url}/graphql?query=${encodeURIComponent('{ viewer { role } }')}`, {
      headers: { authorization: `Bearer ${ADMIN_SECRET}`, 'apollo-require-preflight': 'true' },
    });
    expect(ok((await res.json()) as never)).toEqual({ viewer: { role: 'ADMIN' } });
  });

  it('names the route that does not exist', async () => {
    const res = await fetch(`${t.app.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'no route GET /nope; the API is at /graphql' });
  });

  it('refuses a request body over the limit with 413', async () => {
    const res = await fetch(`${t.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_SECRET}` },
      body: JSON.stringify({ query: '{ viewer { role } }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } }),
    });
    expect(res.status).toBe(413);
  });

  it('reports a syntax error as such', async () => {
    const err = failure(await t.gql('{ devices(first: ) }'));
    expect(err.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });
});

describe('unexpected errors', () => {
  async function serverWithBrokenDevices(env: string) {
    const config = loadConfig({ NODE_ENV: env, PORT: '0', LOG_LEVEL: 'silent' });
    const services = {
      ...t.app.services,
      // A DeviceService whose reads fail (the resolvers ask for a DeviceService by its class).
      devices: Object.assign(Object.create(DeviceService.prototype), {
        get: async () => {
          throw new Error('connection reset by peer at db.internal:5432');
        },
      }),
    } as never;
    const logged: Record<string, any>[] = [];
    const log = createLogger({ logLevel: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const http = await createHttpServer({
      config,
      log,
      schema: buildVigilSchema(resolverContainer(services)),
      services,
      events: t.app.events,
      readiness: {},
    });
    await http.listen({ port: 0, host: '127.0.0.1' });
    const port = (http.server.address() as { port: number }).port;
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_SECRET}` },
      body: JSON.stringify({ query: '{ device(id: "RGV2aWNlOjAxOWFhYWFhLWFhYWEtN2FhYS04YWFhLWFhYWFhYWFhYWFhYQ") { name } }' }),
    });
    await http.close();
    const body = (await res.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    return { body, logged, requestId: res.headers.get('x-request-id') };
  }

  it('become INTERNAL_SERVER_ERROR with no stack trace or detail in production', async () => {
    const { body, logged, requestId } = await serverWithBrokenDevices('production');
    expect(body.errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    // The details are in the log, under the request id the client was given.
    const entry = logged.find((l) => l.msg === 'internal error in a GraphQL request');
    expect(entry).toMatchObject({
      reqId: requestId,
      path: ['device'],
      err: { message: expect.stringContaining('connection reset by peer') },
    });
    expect(body.errors[0].message).toBe('internal error; the server log has the details');
    expect(JSON.stringify(body)).not.toContain('db.internal');
  });

  it('carry the message and stack trace in development', async () => {
    const { body } = await serverWithBrokenDevices('development');
    expect(body.errors[0].message).toContain('connection reset by peer');
    expect(body.errors[0].extensions.stacktrace).toEqual(
      expect.arrayContaining([expect.stringContaining('Error: connection reset by peer')]),
    );
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight request finish and then refuses new connections', async () => {
    const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent' });
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const http = await createHttpServer({
      config,
      log: createLogger({ logLevel: 'silent' }),
      schema: buildVigilSchema(resolverContainer(t.app.services)),
      services: t.app.services,
      events: t.app.events,
      readiness: { slow: () => slow },
    });
    await http.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(http.server.address() as { port: number }).port}`;
    const inFlight = fetch(`${url}/readyz`);
    await new Promise((r) => setTimeout(r, 100));
    const closing = http.close();
    setTimeout(release, 200);
    const res = await inFlight;
    expect(res.status).toBe(200);
    await closing;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
