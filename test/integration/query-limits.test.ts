import { getIntrospectionQuery } from 'graphql';
import { Role } from '../../src/auth/roles';
import { type GraphQLResponse, ok, startTestApp, type TestApp } from '../support/app';

// Limits small enough to reach with a handful of rows; the defaults are in README "Limits and security".
const LIMITS = {
  QUERY_MAX_DEPTH: '12',
  QUERY_MAX_ALIASES: '5',
  QUERY_MAX_DIRECTIVES: '4',
  QUERY_MAX_TOKENS: '3000',
  QUERY_MAX_COST_REVIEWER: '300',
  QUERY_MAX_COST_INTEGRATOR: '20000',
};

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(LIMITS);
  const device = await t.app.db.prisma.device.create({ data: { externalId: 'limit-1', name: 'limit-1', type: 'pole' } });
  await t.app.db.prisma.inspection.create({ data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' } });
});
afterAll(() => t.stop());

async function post(body: unknown, secret: string | null): Promise<{ status: number; body: GraphQLResponse; headers: Headers }> {
  const res = await fetch(`${t.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as GraphQLResponse, headers: res.headers };
}

const only = (res: GraphQLResponse) => {
  expect(res.errors).toHaveLength(1);
  expect(res.data ?? null).toBeNull();
  return res.errors![0];
};

/** devices → inspections → device → inspections … nested `levels` times, as in the attack that took the server down. */
function cyclic(levels: number): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `inspections { nodes { device { id ${inner} } } }`;
  return `{ devices { nodes { id ${inner} } } }`;
}

describe('query cost control', () => {
  it('refuses cyclic nesting before running it, naming the limit', async () => {
    const integrator = await t.keyFor(Role.INTEGRATOR);
    const { status, body } = await post({ query: cyclic(7) }, integrator);
    expect(status).toBe(400);
    expect(only(body)).toMatchObject({
      message: expect.stringContaining('QUERY_MAX_DEPTH'),
      extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_DEPTH', max: 12, found: 24 },
    });
  });

  it("multiplies page sizes down the levels and compares the product with the role's budget", async () => {
    const query = '{ devices(first: 20) { nodes { inspections(first: 50) { nodes { anomalies(first: 10) { nodes { id } } } } } } }';
    // Every object counts 1: 20 devices × (1 + inspections 1 + 50 × (1 + anomalies 1 + 10 × 1)) + the connection = 12,041
    const refused = only((await post({ query }, await t.keyFor(Role.REVIEWER))).body);
    expect(refused.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_COST_REVIEWER', max: 300, found: 12_041 });
    expect(refused.message).toMatch(/about 12041 objects; a REVIEWER key may ask for 300/);
    // The same query fits an INTEGRATOR's budget and runs.
    expect(ok((await post({ query }, await t.keyFor(Role.INTEGRATOR))).body).devices).toBeDefined();
    // Lists of scalars' objects count too: 500 devices × 500 inspections is 250,000 objects.
    const wide = only(
      (
        await post(
          { query: '{ devices(first: 500) { nodes { inspections(first: 500) { nodes { id } } } } }' },
          await t.keyFor(Role.INTEGRATOR),
        )
      ).body,
    );
    expect(wide.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', found: 251_001 });
  });

  it('reads page sizes from variables, and a missing one counts as the default page', async () => {
    const query = 'query($n: Int) { devices(first: $n) { nodes { inspections(first: 5) { nodes { id } } } } }';
    const reviewer = await t.keyFor(Role.REVIEWER);
    // 1 + n × (1 + inspections 1 + 5 × 1) = 1 + 7n
    // n = 2 costs 15: allowed (and then FORBIDDEN, the REVIEWER role does not read the fleet).
    expect(only((await post({ query, variables: { n: 2 } }, reviewer)).body).extensions?.code).toBe('FORBIDDEN');
    expect(only((await post({ query, variables: { n: 400 } }, reviewer)).body).extensions).toMatchObject({ found: 2801 });
    // Unset, the page is the default 50: 351.
    expect(only((await post({ query }, reviewer)).body).extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', found: 351 });
  });

  it('counts aliases, __typename included, with or without a key', async () => {
    const aliases = `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    for (const secret of [null, await t.keyFor(Role.OPERATOR)]) {
      const { status, body } = await post({ query: aliases }, secret);
      expect(status).toBe(400);
      expect(only(body).extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_ALIASES', max: 5, found: 6 });
    }
  });

  it('counts directives and tokens', async () => {
    const operator = await t.keyFor(Role.OPERATOR);
    const directives = `{ viewer { ${Array.from({ length: 5 }, () => 'role @include(if: true)').join(' ')} } }`;
    expect(only((await post({ query: directives }, operator)).body).extensions).toEqual({
      code: 'QUERY_TOO_COMPLEX',
      limit: 'QUERY_MAX_DIRECTIVES',
      max: 4,
      found: 5,
    });
    const tokens = `{ viewer { ${'role '.repeat(3000)} } }`;
    const refused = only((await post({ query: tokens }, operator)).body);
    expect(refused.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_TOKENS', max: 3000 });
    expect(refused.message).toContain('QUERY_MAX_TOKENS');
  });
});

describe('without an API key', () => {
  it("answers GraphiQL's introspection query and nothing else", async () => {
    const schema = ok((await post({ query: getIntrospectionQuery() }, null)).body) as { __schema: { types: unknown[] } };
    expect(schema.__schema.types.length).toBeGreaterThan(50);
    const { body } = await post({ query: '{ devices { totalCount } }' }, null);
    expect(only(body)).toMatchObject({
      message: expect.stringContaining('an API key is required'),
      extensions: { code: 'UNAUTHENTICATED' },
    });
    const made = await post({ query: 'mutation { createDevice(input: { externalId: "x", name: "x", type: "pole" }) { id } }' }, null);
    expect(only(made.body).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await t.app.db.prisma.device.count({ where: { externalId: 'x' } })).toBe(0);
  });

  it("answers a refused key or too much introspection as the client's error, never a 500", async () => {
    const madeUp = await post({ query: '{ devices { totalCount } }' }, 'vgl_made-up');
    expect(madeUp.status).toBe(200);
    expect(only(madeUp.body)).toMatchObject({ message: 'unknown or revoked API key', extensions: { code: 'UNAUTHENTICATED' } });
    const schemas = await post(
      { query: '{ a: __schema { queryType { name } } b: __schema { queryType { name } } c: __schema { queryType { name } } }' },
      null,
    );
    expect(schemas.status).toBe(400);
    expect(only(schemas.body).extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'introspection', max: 2, found: 3 });
  });

  it('refuses a subscription sent over HTTP instead of running its resolver without an event', async () => {
    const { status, body } = await post({ query: 'subscription { anomalyDetected { id } }' }, await t.keyFor(Role.INTEGRATOR));
    expect(status).toBe(400);
    expect(only(body)).toMatchObject({ message: expect.stringContaining('over WebSocket'), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('refuses introspection that nests lists in lists without bound', async () => {
    const nested = '{ __type(name: "Query") { fields { type { fields { type { fields { type { fields { name } } } } } } } } }';
    const { status, body } = await post({ query: nested }, null);
    expect(status).toBe(400);
    // Apollo Server's own rule refuses it during validation; vigil's (tested on the WebSocket path) would next.
    expect(only(body)).toMatchObject({
      message: expect.stringMatching(/introspection depth/i),
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });
});

describe('cursors', () => {
  it('refuses a cursor from another order or another list instead of returning a wrong page', async () => {
    const operator = await t.keyFor(Role.OPERATOR);
    const page = ok((await post({ query: '{ devices(first: 1, orderBy: { field: NAME }) { pageInfo { endCursor } } }' }, operator)).body);
    const cursor = (page as { devices: { pageInfo: { endCursor: string } } }).devices.pageInfo.endCursor;
    for (const query of [
      'query($a: String) { devices(after: $a, orderBy: { field: CREATED_AT }) { totalCount } }',
      'query($a: String) { inspections(after: $a) { totalCount } }',
    ]) {
      const refused = only((await post({ query, variables: { a: cursor } }, operator)).body);
      expect(refused).toMatchObject({
        message: 'after: this cursor belongs to another list or another orderBy; pass a cursor from this connection with the same orderBy',
        extensions: { code: 'BAD_USER_INPUT', field: 'after' },
      });
    }
  });
});
