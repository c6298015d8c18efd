import crypto from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { benchDatabase, flag, opt, peakRssMb, rssMb, runBench, seedFleet, startBenchServer, writeResult } from './bench-server';
import { GraphQLClient } from './graphql-client';

// npm run bench:abuse [-- --pglite] [--generated 1000] [--seed 7]
// Hostile inputs against the real server: a fixed table of the attacks from the hardening issue
// (cyclic depth, aliases, introspection, huge pages, NUL, foreign cursors, bodies, headers,
// tampered links, aborted uploads, a subscription flood) and `--generated` inputs from fast-check
// (random documents, variables and JSON bodies under random keys). After each: /healthz within
// 1 s, the server alive, its RSS; at the end a database fingerprint taken through the API must be
// unchanged. Writes bench/results/abuse-<db>.json.

const PGLITE = flag('pglite');
const GENERATED = opt('generated', 1000);
const SEED = opt('seed', 7);
const PORT = opt('port', 4597);
const SECRET = `bench-admin-secret-${crypto.randomBytes(8).toString('hex')}`;
const RSS_LIMIT_MB = 600;

interface Attack {
  name: string;
  /** A refusal the issue wants within 100 ms; the subscription flood and uploads take as long as they take. */
  refusal?: boolean;
  /** Sends the input; returns the HTTP status (or a close code) the server answered with. */
  run: () => Promise<number>;
}

type Keys = { integrator: string; reviewer: string; operator: string };

/** The HTTP status; 1500 for a 200 whose body reports an INTERNAL_SERVER_ERROR (a server bug, as much as a 500). */
function post(url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  return fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(async (r) => {
    const text = await r.text();
    return text.includes('INTERNAL_SERVER_ERROR') ? 1500 : r.status;
  });
}

const asKey = (secret: string | null): Record<string, string> => (secret ? { authorization: `Bearer ${secret}` } : {});
const query = (url: string, q: string, secret: string | null, variables?: unknown) =>
  post(url, JSON.stringify({ query: q, variables }), asKey(secret));

function cyclic(levels: number): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `inspections(first: 30) { nodes { device { id ${inner} } } }`;
  return `{ devices(first: 50) { nodes { id ${inner} } } }`;
}

type Ticket = { uploadUrl: string; uploadHeaders: Record<string, string> };

function fixedAttacks(url: string, keys: Keys, uploads: Ticket[]): Attack[] {
  const many = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
  const attacks: Attack[] = [
    { name: 'cyclic nesting, depth 7', run: () => query(url, cyclic(7), keys.integrator) },
    { name: 'cyclic nesting, depth 10', run: () => query(url, cyclic(10), keys.integrator) },
    {
      name: '1,000 aliases of an expensive field',
      run: () => query(url, many(1000, 'anomalies(first: 500) { totalCount }'), keys.integrator),
    },
    { name: '50,000 __typename aliases without a key', run: () => query(url, many(50_000, '__typename'), null) },
    {
      name: 'introspection nested 8 lists deep',
      run: () => query(url, `{ __schema { types { ${'fields { type { '.repeat(8)}name${' } }'.repeat(8)} } } }`, null),
    },
    { name: '10 × __schema', run: () => query(url, many(10, '__schema { types { name } }'), keys.integrator) },
    { name: 'first: 1,000,000', run: () => query(url, '{ devices(first: 1000000) { nodes { id } } }', keys.integrator) },
    {
      name: 'a list of 500 in a list of 500',
      run: () => query(url, '{ devices(first: 500) { nodes { inspections(first: 500) { nodes { id } } } } }', keys.integrator),
    },
    {
      name: 'NUL in a variable',
      run: () => query(url, 'query($s: String) { devices(filter: { search: $s }) { totalCount } }', keys.integrator, { s: 'a\u0000b' }),
    },
    {
      name: 'a garbage cursor',
      run: () => query(url, 'query($a: String) { devices(after: $a) { totalCount } }', keys.integrator, { a: 'x'.repeat(900) }),
    },
    {
      name: 'a cursor of another list',
      run: () =>
        query(url, 'query($a: String) { inspections(after: $a) { totalCount } }', keys.integrator, {
          a: Buffer.from('["x","2026-01-01T00:00:00Z","00000000-0000-7000-8000-000000000000"]').toString('base64url'),
        }),
    },
    {
      name: 'a body over the limit',
      run: () => post(url, JSON.stringify({ query: `{ viewer { name } } #${'x'.repeat(2 * 1024 * 1024)}` }), asKey(keys.integrator)),
    },
    { name: 'malformed JSON', run: () => post(url, '{"query": "{ viewer { name } }"', asKey(keys.integrator)) },
    {
      name: 'a batch of 1,000 operations',
      run: () => post(url, JSON.stringify(Array.from({ length: 1000 }, () => ({ query: '{ viewer { name } }' }))), asKey(keys.integrator)),
    },
    { name: 'a 10,000-token document', run: () => query(url, `{ viewer { ${'name '.repeat(10_000)} } }`, keys.integrator) },
    {
      name: 'a mutation with a REVIEWER key',
      run: () => query(url, 'mutation { createDevice(input: { externalId: "abuse", name: "x", type: "pole" }) { id } }', keys.reviewer),
    },
    { name: 'a made-up key', run: () => query(url, '{ devices { totalCount } }', 'vgl_made-up') },
    {
      name: 'an Authorization header of 8 kB',
      run: () => post(url, JSON.stringify({ query: '{ viewer { name } }' }), { authorization: `Bearer ${'k'.repeat(8000)}` }),
    },
    { name: 'a tampered download link', run: async () => (await fetch(`${url}/objects/not-a-token`)).status },
    { name: 'a path traversal', run: async () => (await fetch(`${url}/objects/..%2F..%2Fetc%2Fpasswd`)).status },
  ].map((a) => ({ ...a, refusal: true }));
  attacks.push({ name: 'a subscription flood on one socket (2,000)', run: () => subscriptionFlood(url, keys.integrator, 2000) });
  for (const [i, ticket] of uploads.entries()) {
    attacks.push({ name: `an upload aborted mid-body (${i + 1})`, run: () => abortedUpload(ticket) });
  }
  return attacks;
}

/** Subscribes `n` times on one socket; returns how many were refused (the cap is SUBSCRIPTIONS_PER_SOCKET). */
async function subscriptionFlood(url: string, secret: string, n: number): Promise<number> {
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${secret}` },
    retryAttempts: 0,
  });
  let refused = 0;
  const settled: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    settled.push(
      new Promise((resolve) => {
        client.subscribe(
          { query: 'subscription { modelDrift { deviceType } }' },
          {
            next: () => undefined,
            error: () => {
              refused++;
              resolve();
            },
            complete: () => resolve(),
          },
        );
        setTimeout(resolve, 3000);
      }),
    );
  }
  await Promise.all(settled);
  await client.dispose();
  return refused >= n - 50 ? 200 : 500;
}

/** Starts a PUT of 1 MB with the ticket's headers, sends 100 kB of it, and hangs up. */
function abortedUpload(ticket: Ticket): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(ticket.uploadUrl, { method: 'PUT', headers: { ...ticket.uploadHeaders, 'content-length': '1000000' } });
    req.on('error', () => resolve(499));
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.write(Buffer.alloc(100_000), () => setTimeout(() => req.destroy(), 50));
  });
}

const TEMPLATES = [
  'query($a: Int, $b: String, $c: String) { devices(first: $a, after: $b, filter: { search: $c }) { totalCount nodes { id name } } }',
  'query($a: ID!, $b: Int) { device(id: $a) { id inspections(first: $b) { nodes { id } } } }',
  'query($a: ID!, $b: Int, $c: String) { inspection(id: $a) { images(first: $b, after: $c) { nodes { id status } } } }',
  'query($a: Float, $b: Int, $c: String) { anomalies(filter: { minConfidence: $a }, first: $b, before: $c) { nodes { id } } }',
  'query($a: Int, $b: String, $c: [ReviewReason!]) { reviewQueue(first: $a, after: $b, reasons: $c) { totalCount } }',
  'query($a: ID!) { node(id: $a) { id } }',
  'mutation($a: String!, $b: String!, $c: String!) { createDevice(input: { externalId: $a, name: $b, type: $c }) { id } }',
  'mutation($a: ID!, $b: String, $c: Float) { updateDevice(id: $a, input: { name: $b, latitude: $c }) { id } }',
  'mutation($a: String!, $b: Role!) { createApiKey(name: $a, role: $b) { secret } }',
  'subscription($a: [ID!]) { anomalyDetected(filter: { deviceIds: $a }) { id } }',
];

function generatedAttacks(url: string, keys: Keys): Attack[] {
  const secret = fc.constantFrom<string | null>(null, keys.integrator, keys.reviewer, 'vgl_made-up');
  const fragment = fc.constantFrom(
    '{',
    '}',
    '(',
    ')',
    ':',
    '$x',
    '...',
    'devices',
    'nodes',
    'id',
    'first: 999999',
    '@include(if: true)',
    '__schema',
    'query',
    'mutation',
    'subscription',
    '"\\u0000"',
    'fragment F on Device',
    '#',
  );
  const document = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.array(fragment, { maxLength: 200 }).map((parts) => parts.join(' ')),
  );
  const variables = fc.oneof(
    fc.constant(undefined),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
  );
  const anyBody = fc.oneof(
    fc.record({ query: document, variables, operationName: fc.option(fc.string({ maxLength: 20 })) }).map((b) => JSON.stringify(b)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
  );
  // Real operations with hostile variables: what a buggy or malicious client sends most.
  const value = fc.oneof(
    fc.integer(),
    fc.constantFrom(-1, 0, 501, 2 ** 31, Number.MAX_SAFE_INTEGER),
    fc.double(),
    fc.string({ maxLength: 50 }),
    fc.fullUnicodeString({ maxLength: 50 }),
    fc.constantFrom('a\u0000b', 'RGV2aWNlOm5vcGU', "x' OR 1=1 --", '../../etc/passwd', '<script>'),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  );
  const templated = fc
    .tuple(fc.constantFrom(...TEMPLATES), value, value, value)
    .map(([q, a, b, c]) => JSON.stringify({ query: q, variables: { a, b, c } }));
  const body = fc.oneof(templated, templated, anyBody);
  return fc.sample(fc.tuple(body, secret), { numRuns: GENERATED, seed: SEED }).map(([b, s], i) => ({
    name: `generated ${i + 1}: ${s ? 'with a key' : 'no key'} ${b.slice(0, 300)}`,
    run: () => post(url, b, asKey(s)),
  }));
}

const FINGERPRINT = `query($i: ID!) { inspection(id: $i) { images(first: 100) { nodes { id status } } } devices(first: 500) { totalCount nodes { id name status } } inspections { totalCount } anomalies { totalCount }
  apiKeys(first: 100) { totalCount } datasets { id } reviewQueue { totalCount } }`;

async function fingerprint(admin: GraphQLClient, inspectionId: string): Promise<string> {
  const data = await admin.request(FINGERPRINT, { i: inspectionId });
  return crypto.createHash('sha256').update(JSON.stringify(data)).digest('hex');
}

/** An inspection with `count` images awaiting their bytes, and their upload tickets. */
async function uploadTickets(admin: GraphQLClient, count: number): Promise<{ inspectionId: string; tickets: Ticket[] }> {
  const device: any = await admin.request(
    'mutation { createDevice(input: { externalId: "abuse-uploads", name: "abuse", type: "pole" }) { id } }',
  );
  const inspection: any = await admin.request(
    'mutation($d: ID!) { createInspection(input: { deviceId: $d, source: DRONE, capturedAt: "2026-01-01T00:00:00Z" }) { id } }',
    { d: device.createDevice.id },
  );
  const files = Array.from({ length: count }, (_, i) => ({
    filename: `f${i}.png`,
    contentType: 'image/png',
    byteSize: 1_000_000,
    sha256: crypto.randomBytes(32).toString('hex'),
  }));
  const tickets: any = await admin.request(
    'mutation($i: ID!, $f: [UploadFileInput!]!) { requestImageUploads(inspectionId: $i, files: $f) { uploadUrl uploadHeaders } }',
    {
      i: inspection.createInspection.id,
      f: files,
    },
  );
  return { inspectionId: inspection.createInspection.id, tickets: tickets.requestImageUploads };
}

async function main() {
  const db = await benchDatabase({ pglite: PGLITE, seed: (d) => seedFleet(d, 300, 2), serverUrl: process.env.VIGIL_BENCH_DATABASE_URL });
  const server = await startBenchServer({ ...db.env, RATE_LIMIT_PER_KEY: '0', RATE_LIMIT_ANONYMOUS: '0' }, PORT, SECRET);
  const admin = new GraphQLClient(server.url, SECRET);
  try {
    const made = async (role: string) =>
      ((await admin.request(`mutation { createApiKey(name: "abuse ${role}", role: ${role}) { secret } }`)) as any).createApiKey
        .secret as string;
    const keys = { integrator: await made('INTEGRATOR'), reviewer: await made('REVIEWER'), operator: await made('OPERATOR') };
    // Each template must be a valid operation: sent without its variables, it may only fail on them.
    for (const template of TEMPLATES) {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
        body: JSON.stringify({ query: template }),
      });
      const codes = (((await res.json()) as any).errors ?? []).map((e: any) => e.extensions?.code);
      if (codes.some((c: string) => c !== 'BAD_USER_INPUT')) throw new Error(`template is not a valid operation (${codes}): ${template}`);
    }
    const { inspectionId, tickets: uploads } = await uploadTickets(admin, 20);
    const before = await fingerprint(admin, inspectionId);
    const attacks = [...fixedAttacks(server.url, keys, uploads), ...generatedAttacks(server.url, keys)];
    const fixed = new Map<string, { status: number; ms: number; refusal: boolean }>();
    const statuses = new Map<number, number>();
    const internal: string[] = [];
    let slowestHealthz = 0;
    let peakRss = 0;
    let crashed = false;
    for (const [i, attack] of attacks.entries()) {
      const t0 = performance.now();
      const status = await attack.run().catch((err) => {
        console.error(`${attack.name}: ${err.message} ${err.cause?.message ?? ''}`);
        return 0;
      });
      const ms = performance.now() - t0;
      if (!attack.name.startsWith('generated')) fixed.set(attack.name, { status, ms: Math.round(ms), refusal: !!attack.refusal });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status === 500 || status === 1500) internal.push(attack.name);
      const h0 = performance.now();
      const healthy = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) })
        .then((r) => r.ok)
        .catch(() => false);
      slowestHealthz = Math.max(slowestHealthz, performance.now() - h0);
      peakRss = Math.max(peakRss, rssMb(server.process.pid!));
      if (!healthy || server.process.exitCode !== null) {
        crashed = true;
        console.error(`the server stopped answering after "${attack.name}"`);
        break;
      }
      if ((i + 1) % 100 === 0) process.stdout.write(`\r${i + 1}/${attacks.length} inputs`);
    }
    process.stdout.write('\n');
    // Aborted uploads are cleaned up as their sockets close.
    await new Promise((r) => setTimeout(r, 1000));
    const after = await fingerprint(admin, inspectionId);
    const result = {
      database: db.label,
      inputs: attacks.length,
      crashed,
      unexpectedChanges: before === after ? 0 : 1,
      internalErrors: (statuses.get(500) ?? 0) + (statuses.get(1500) ?? 0),
      internalErrorInputs: internal.slice(0, 20),
      statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
      slowestHealthzMs: Math.round(slowestHealthz),
      peakRssMb: { sampled: Math.round(peakRss), kernel: Math.round(peakRssMb(server.process.pid!)) },
      fixedAttacks: Object.fromEntries(fixed),
      slowestRefusalMs: Math.max(...[...fixed.values()].filter((f) => f.refusal).map((f) => f.ms)),
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `≥ 1,000 inputs: ${result.inputs >= 1000 ? 'met' : 'NOT met'}; refusals ≤ 100 ms: ${result.slowestRefusalMs <= 100 ? 'met' : 'NOT met'}; no internal error: ${result.internalErrors ? 'NOT met' : 'met'}; 0 crashes: ${crashed ? 'NOT met' : 'met'}; 0 unexpected changes: ${result.unexpectedChanges ? 'NOT met' : 'met'}; /healthz ≤ 1 s: ${slowestHealthz <= 1000 ? 'met' : 'NOT met'}; RSS ≤ ${RSS_LIMIT_MB} MB: ${result.peakRssMb.kernel <= RSS_LIMIT_MB ? 'met' : 'NOT met'}`,
    );
    writeResult(`abuse-${PGLITE ? 'pglite' : 'postgres'}`, result);
  } finally {
    await server.stop();
    await db.cleanup();
  }
}

runBench(main);
