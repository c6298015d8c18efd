import crypto from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { benchDatabase, flag, opt, peakRssMb, rssMb, runBench, seedFleet, startBenchServer, writeResult } from './bench-server';
import { percentile } from '../src/anomaly-model/metrics';
import { GraphQLClient } from './graphql-client';

// npm run bench:soak [-- --pglite] [--duration 60] [--warmup 5] [--connections 200] [--subscribers 100] [--devices 10000]
// 200 connections of mixed reads and updateDevice mutations against the real server while 100
// graphql-ws subscribers listen to deviceStatusChanged. Each mutation moves one device from UNKNOWN
// to OK exactly once, so the events every subscriber must hear are the mutations that succeeded.
// The first --warmup seconds run the same load but are reported apart: every connection starts with the same
// request at the same moment on a server nobody has called yet, which is a burst, not the steady state.
// Prints req/s, p50/p99, errors (503s shed by admission apart), events expected vs received per
// subscriber, the slowest /healthz and the server's RSS; writes bench/results/soak-<db>.json.

const PGLITE = flag('pglite');
const DURATION = opt('duration', 60);
const WARMUP = opt('warmup', 5);
const CONNECTIONS = opt('connections', 200);
const SUBSCRIBERS = opt('subscribers', 100);
// Enough devices that no mutation of a 65 s run finds its device already changed (~450 req/s at most here).
const DEVICES = opt('devices', 10_000);
const PORT = opt('port', 4598);
const SECRET = `bench-admin-secret-${crypto.randomBytes(8).toString('hex')}`;
const MUTATION_EVERY = 5;

const READS = [
  '{ devices(first: 20) { nodes { id name status inspections(last: 1) { nodes { id status anomalies(first: 5) { nodes { id type confidence } } } } } } }',
  '{ anomalies(filter: { status: SUSPECTED }, first: 50) { nodes { id type confidence createdAt } } }',
  '{ devices(first: 50, filter: { status: [NEEDS_ATTENTION] }) { totalCount nodes { id externalId } } }',
  '{ viewer { name role } }',
];
const UPDATE = 'mutation($id: ID!) { updateDevice(id: $id, input: { status: OK }) { id status } }';

/** The q-quantile in whole ms (null in the JSON when there were none). */
const quantileMs = (values: number[], q: number) => Math.round(percentile(values, q));
const slowest = (values: number[]) => Math.round(values.reduce((a, b) => Math.max(a, b), 0));

async function deviceIds(client: GraphQLClient): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: any = await client.request(
      'query($after: String) { devices(first: 500, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }',
      { after },
    );
    ids.push(...page.devices.nodes.map((n: { id: string }) => n.id));
    if (!page.devices.pageInfo.hasNextPage) return ids;
    after = page.devices.pageInfo.endCursor;
  }
}

/** SUBSCRIBERS sockets over keys of at most SOCKETS_PER_KEY (20) each; every one counts the device ids it hears. */
async function subscribe(admin: GraphQLClient, url: string) {
  const heard = Array.from({ length: SUBSCRIBERS }, () => new Set<string>());
  const clients: ReturnType<typeof createClient>[] = [];
  let secret = '';
  for (let i = 0; i < SUBSCRIBERS; i++) {
    if (i % 20 === 0) {
      const made: any = await admin.request('mutation($n: String!) { createApiKey(name: $n, role: INTEGRATOR) { secret } }', {
        n: `soak-${i / 20}`,
      });
      secret = made.createApiKey.secret;
    }
    const client = createClient({
      url: `${url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${secret}` },
      retryAttempts: 0,
    });
    clients.push(client);
    const live = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: 'subscription { deviceStatusChanged { id status } }' },
        { next: (r: any) => void heard[i].add(r.data.deviceStatusChanged.id), error: reject, complete: () => undefined },
      );
      client.on('connected', () => setTimeout(resolve, 50));
    });
    await live;
  }
  return { heard, close: () => Promise.all(clients.map((c) => c.dispose())) };
}

async function main() {
  const db = await benchDatabase({
    pglite: PGLITE,
    seed: (d) => seedFleet(d, DEVICES, 1),
    serverUrl: process.env.VIGIL_BENCH_DATABASE_URL,
  });
  // The limits stay as configured, except the per-key rate limit: one key sends the whole load here.
  const server = await startBenchServer({ ...db.env, RATE_LIMIT_PER_KEY: '0' }, PORT, SECRET);
  const admin = new GraphQLClient(server.url, SECRET);
  try {
    // Every read must succeed on its own first: an error under load should be the load's.
    for (const query of READS) await admin.request(query);
    const ids = await deviceIds(admin);
    const subscribers = await subscribe(admin, server.url);
    let next = 0;
    const changed = new Set<string>();
    // Each kind of request keeps its own latencies (setupRequest runs as autocannon sends it), so the
    // result says which kind waits: the mutation, the nested read, or all of them alike.
    const kinds = ['updateDevice', 'anomalies', 'devices(filter)', 'viewer', 'devices→inspections→anomalies'];
    const samples: { kind: number; sentAt: number; ms: number; shed: boolean }[] = [];
    const readBodies = READS.map((query) => JSON.stringify({ query }));
    const requests = Array.from({ length: MUTATION_EVERY }, (_, k) => ({
      method: 'POST' as const,
      setupRequest: (req: any, context: any) => {
        context.sentAt = performance.now();
        if (k !== 0) return { ...req, body: readBodies[k % READS.length] };
        context.id = ids[next++ % ids.length];
        return { ...req, body: JSON.stringify({ query: UPDATE, variables: { id: context.id } }) };
      },
      onResponse: (status: number, body: string, context: any) => {
        samples.push({ kind: k, sentAt: context.sentAt, ms: performance.now() - context.sentAt, shed: status === 503 });
        if (k === 0 && status === 200 && !body.includes('"errors"')) changed.add(context.id);
      },
    }));
    let slowestHealthz = 0;
    let peakSampled = 0;
    const probe = setInterval(async () => {
      const t0 = performance.now();
      await fetch(`${server.url}/healthz`).catch(() => undefined);
      slowestHealthz = Math.max(slowestHealthz, performance.now() - t0);
      peakSampled = Math.max(peakSampled, rssMb(server.process.pid!));
    }, 500);
    console.log(`soaking for ${WARMUP}+${DURATION}s: ${CONNECTIONS} connections, ${SUBSCRIBERS} subscribers, ${db.label}…`);
    const startedAt = performance.now();
    const r = await autocannon({
      url: `${server.url}/graphql`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
      connections: CONNECTIONS,
      duration: WARMUP + DURATION,
      timeout: 30,
      requests,
    });
    clearInterval(probe);
    // Events still in flight when the load stops have a few seconds to arrive.
    const expected = changed.size;
    const until = Date.now() + 15_000;
    while (Date.now() < until && subscribers.heard.some((h) => [...changed].some((id) => !h.has(id))))
      await new Promise((res) => setTimeout(res, 250));
    const received = subscribers.heard.map((h) => [...changed].filter((id) => h.has(id)).length);
    await subscribers.close();
    const shed = samples.filter((x) => x.shed).length;
    const errors = r.errors + r.timeouts + (r.non2xx - shed);
    const measuredFrom = startedAt + WARMUP * 1000;
    const measured = samples.filter((x) => x.sentAt >= measuredFrom);
    const warmSamples = samples.filter((x) => x.sentAt < measuredFrom);
    const warm = warmSamples.map((x) => x.ms);
    const all = measured.map((x) => x.ms);
    const p99 = quantileMs(all, 0.99);
    const result = {
      database: db.label,
      cores: os.cpus().length,
      durationSeconds: DURATION,
      warmupSeconds: WARMUP,
      connections: CONNECTIONS,
      subscribers: SUBSCRIBERS,
      // After the warm-up, from each request's own send and answer times.
      requestsPerSecond: {
        answered: Math.round(measured.length / DURATION),
        served: Math.round(measured.filter((x) => !x.shed).length / DURATION),
      },
      latencyMs: { p50: quantileMs(all, 0.5), p99, max: slowest(all) },
      requests: measured.length,
      shed503AfterWarmup: measured.filter((x) => x.shed).length,
      warmup: {
        requests: warm.length,
        shed503: warmSamples.filter((x) => x.shed).length,
        p50: quantileMs(warm, 0.5),
        p99: quantileMs(warm, 0.99),
        max: slowest(warm),
      },
      // autocannon's own figures for the whole run, warm-up included.
      wholeRun: { requests: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
      errors,
      shed503: shed,
      eventsExpected: expected,
      eventsReceived: {
        min: Math.min(...received),
        median: received.sort((a, b) => a - b)[received.length >> 1],
        max: Math.max(...received),
      },
      latencyByKindMs: Object.fromEntries(
        kinds.map((kind, k) => {
          const times = measured.filter((x) => x.kind === k).map((x) => x.ms);
          return [kind, { count: times.length, p50: quantileMs(times, 0.5), p99: quantileMs(times, 0.99) }];
        }),
      ),
      subscribersComplete: received.filter((n) => n === expected).length,
      slowestHealthzMs: Math.round(slowestHealthz),
      serverRssMb: { peak: Math.round(peakRssMb(server.process.pid!)), sampledPeak: Math.round(peakSampled) },
    };
    console.log(JSON.stringify(result, null, 2));
    const targets = PGLITE
      ? `embedded: no request over 2 s (served or shed), warm-up included: ${r.latency.max <= 2000 ? 'met' : `NOT met (max ${r.latency.max} ms)`}`
      : `PostgreSQL: 0 errors ${errors === 0 ? 'met' : 'NOT met'}, p99 ≤ 1 s after the warm-up ${p99 <= 1000 ? 'met' : 'NOT met'}`;
    console.log(
      `${targets}; every subscriber heard every event: ${result.subscribersComplete === SUBSCRIBERS ? 'met' : 'NOT met'}; ≥ 1,000 events: ${expected >= 1000 ? 'met' : 'NOT met'}`,
    );
    writeResult(`soak-${PGLITE ? 'pglite' : 'postgres'}`, result);
  } finally {
    await server.stop();
    await db.cleanup();
  }
}

runBench(main);
