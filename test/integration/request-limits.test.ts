import { Role } from '../../src/auth/roles';
import { type GraphQLResponse, startTestApp, type TestApp } from '../support/app';

async function post(t: TestApp, query: string, secret: string | null) {
  const res = await fetch(`${t.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse };
}

describe('rate limits per API key', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_PER_KEY: '5', RATE_LIMIT_ANONYMOUS: '3', RATE_LIMIT_WINDOW_SECONDS: '60' });
  });
  afterAll(() => t.stop());

  it('answers 429 with Retry-After once a key has used its window, and other keys go on', async () => {
    const [a, b] = [await t.keyFor(Role.OPERATOR), await t.keyFor(Role.INTEGRATOR)];
    for (let i = 0; i < 5; i++) expect((await post(t, '{ viewer { role } }', a)).status).toBe(200);
    const refused = await post(t, '{ viewer { role } }', a);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body.errors?.[0]).toMatchObject({
      message: expect.stringContaining('5 requests per 60 s for this API key (RATE_LIMIT_PER_KEY)'),
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) },
    });
    expect((await post(t, '{ viewer { role } }', b)).status).toBe(200);
  });

  it('counts requests without a valid key by client address, so made-up keys share one bucket', async () => {
    for (let i = 0; i < 3; i++) expect((await post(t, '{ __typename }', null)).status).toBe(200);
    for (const made of [null, 'vgl_made-up-1', 'vgl_made-up-2']) {
      const refused = await post(t, '{ __typename }', made);
      expect(refused.status).toBe(429);
      expect(refused.body.errors?.[0].message).toContain('without an API key (RATE_LIMIT_ANONYMOUS)');
    }
  });

  it('does not limit the health checks', async () => {
    for (let i = 0; i < 10; i++) expect((await fetch(`${t.app.url}/healthz`)).status).toBe(200);
  });
});

describe('admission and the execution deadline', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The key is checked once and cached, so only the query itself waits for the held table.
    // A probe waits in line up to 200 ms: if it holds the slot when the slow request arrives, that one waits too.
    t = await startTestApp({ MAX_CONCURRENT_REQUESTS: '1', MAX_QUEUE_WAIT_MS: '200', QUERY_TIMEOUT_MS: '300', API_KEY_CACHE_MS: '60000' });
    const device = await t.app.db.prisma.device.create({ data: { externalId: 'busy-1', name: 'busy-1', type: 'pole' } });
    await t.app.db.prisma.inspection.create({
      data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' },
    });
  });
  afterAll(() => t.stop());

  /** Holds the inspections table for `ms`: a query reading it waits that long. */
  const holdInspections = (ms: number) =>
    t.app.db.prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe('LOCK TABLE inspections IN ACCESS EXCLUSIVE MODE');
        await new Promise((r) => setTimeout(r, ms));
      },
      { timeout: ms + 10_000 },
    );

  it('sheds a request with 503 and Retry-After while every slot is taken, and stops a request past its deadline', async () => {
    const operator = await t.keyFor(Role.OPERATOR);
    await post(t, '{ viewer { role } }', operator);
    const held = holdInspections(3000);
    await new Promise((r) => setTimeout(r, 50));
    const slow = post(
      t,
      // The lists below the devices, and each inspection's device, come in the devices' statement
      // (src/common/pagination/tree.ts); the lists below that device are read after it, past the deadline.
      '{ devices(first: 5) { nodes { id inspections(first: 5) { nodes { id device { name inspections(first: 1) { nodes { id } } } anomalies(first: 5) { nodes { id } } } } } } }',
      operator,
    );
    // Until the slow request holds the one slot, a probe is served (a busy machine may take a while to send it).
    let shed = await post(t, '{ viewer { role } }', operator);
    for (const until = Date.now() + 2500; shed.status === 200 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 50));
      shed = await post(t, '{ viewer { role } }', operator);
    }
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(shed.body.errors?.[0].extensions).toEqual({ code: 'OVERLOADED', retryAfterSeconds: 1 });
    await held;
    // The reads that start after 300 ms are refused: one error says why.
    const { body } = await slow;
    expect(body.errors).toEqual([
      {
        message: expect.stringContaining('ran longer than 300 ms'),
        extensions: { code: 'QUERY_TIMEOUT', limit: 'QUERY_TIMEOUT_MS', max: 300 },
      },
    ]);
    // The slot is free again.
    expect((await post(t, '{ viewer { role } }', operator)).status).toBe(200);
  });
});

describe('admission when clients leave', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MAX_CONCURRENT_REQUESTS: '2', MAX_QUEUE_WAIT_MS: '500', API_KEY_CACHE_MS: '60000' });
  });
  afterAll(() => t.stop());

  it('gives a slot back when its client leaves after sending the request, before the answer', async () => {
    const operator = await t.keyFor(Role.OPERATOR);
    await post(t, '{ viewer { role } }', operator);
    const held = t.app.db.prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe('LOCK TABLE devices IN ACCESS EXCLUSIVE MODE');
        await new Promise((r) => setTimeout(r, 1500));
      },
      { timeout: 15_000 },
    );
    await new Promise((r) => setTimeout(r, 50));
    // Both slots are taken by requests waiting on the held table, whose clients give up (a proxy's timeout, say).
    const controller = new AbortController();
    const abandoned = [1, 2].map(() =>
      fetch(`${t.app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${operator}` },
        body: JSON.stringify({ query: '{ devices(first: 5) { nodes { id } } }' }),
        signal: controller.signal,
      }).then(
        () => 'answered',
        () => 'left',
      ),
    );
    await new Promise((r) => setTimeout(r, 400));
    controller.abort();
    expect(await Promise.all(abandoned)).toEqual(['left', 'left']);
    await held;
    // Once the abandoned requests have run, their slots serve others again (they used to be kept for good: 503 forever).
    let probe = await post(t, '{ viewer { role } }', operator);
    for (const until = Date.now() + 5000; probe.status !== 200 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 200));
      probe = await post(t, '{ viewer { role } }', operator);
    }
    expect(probe.status).toBe(200);
  });
});

describe('stopping while a request runs', () => {
  it('cuts a connection whose request is still running after half of SHUTDOWN_TIMEOUT_MS, so stop() cannot hang on it', async () => {
    const t = await startTestApp({ SHUTDOWN_TIMEOUT_MS: '1000', API_KEY_CACHE_MS: '60000' });
    const operator = await t.keyFor(Role.OPERATOR);
    await post(t, '{ viewer { role } }', operator);
    // The table stays locked for 4 s; stopping closes the database under it, which ends the transaction.
    const held = t.app.db.prisma
      .$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe('LOCK TABLE devices IN ACCESS EXCLUSIVE MODE');
          await new Promise((r) => setTimeout(r, 4000));
        },
        { timeout: 20_000 },
      )
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    const waiting = post(t, '{ devices(first: 5) { nodes { id } } }', operator).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((r) => setTimeout(r, 200));
    const stopped = t.stop();
    // Without the cut, stop() would wait for the lock and the client would get its answer.
    expect(await waiting).toBe('cut');
    await stopped;
    await held;
  });
});
