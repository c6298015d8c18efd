import crypto from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import { benchDatabase, flag, opt, peakRssMb, runBench, seedFleet, startBenchServer } from './bench-server';
import { GraphQLClient } from './graphql-client';

// npm run bench:api [-- --pglite] [--devices 10000] [--inspections 5] [--duration 20] [--connections 32] [--keep]
// VIGIL_BENCH_REUSE_URL=<url printed by --keep> measures a seeded PostgreSQL database again.
// Seeds a fleet, starts the real server as a child process and loads it with autocannon.

const DEVICES = opt('devices', 10_000);
const INSPECTIONS = opt('inspections', 5);
const DURATION = opt('duration', 20);
const CONNECTIONS = opt('connections', 32);
const PORT = opt('port', 4599);
const SECRET = `bench-admin-secret-${crypto.randomBytes(8).toString('hex')}`;
const serverUrl = process.env.VIGIL_BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

const SCENARIOS = {
  'a: devices(first: 50) → latest inspection → anomalies': {
    query: `{ devices(first: 50) { nodes { id externalId name status inspections(last: 1) { nodes { id capturedAt status anomalies(first: 10) { nodes { id type confidence status box { x y width height } } } } } } } }`,
    target: { rps: 1000, p99: 50 },
  },
  'b: anomalies(SUSPECTED, minConfidence 0.5, first: 100)': {
    query: `{ anomalies(filter: { status: SUSPECTED, minConfidence: 0.5 }, first: 100) { nodes { id type confidence createdAt box { x y width height } } } }`,
    target: { rps: 2000, p99: Infinity },
  },
};

async function main() {
  const db = await benchDatabase({
    pglite: flag('pglite'),
    seed: (d) => seedFleet(d, DEVICES, INSPECTIONS),
    reuseUrl: process.env.VIGIL_BENCH_REUSE_URL,
    keep: flag('keep'),
    serverUrl,
  });
  // The rate limit is off: this measures how many requests the server can serve, not how many one key may send.
  const server = await startBenchServer({ ...db.env, RATE_LIMIT_PER_KEY: '0' }, PORT, SECRET);
  const client = new GraphQLClient(server.url, SECRET);
  const results: string[] = [];
  try {
    for (const [name, s] of Object.entries(SCENARIOS)) {
      const body = JSON.stringify({ query: s.query });
      const headers = client.headers;
      try {
        await client.request(s.query);
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`, { cause: err });
      }
      // A short warm-up so JIT and pools are hot before the measured run.
      await autocannon({ url: client.endpoint, method: 'POST', headers, body, connections: CONNECTIONS, duration: 3 });
      console.log(`running ${name} for ${DURATION}s at ${CONNECTIONS} connections…`);
      const r = await autocannon({ url: client.endpoint, method: 'POST', headers, body, connections: CONNECTIONS, duration: DURATION });
      const errors = r.errors + r.non2xx + r.timeouts;
      const ok = r.requests.average >= s.target.rps && r.latency.p99 <= s.target.p99 && errors === 0;
      results.push(
        `${name}\n  req/s mean ${r.requests.average.toFixed(0)}, median ${r.requests.p50.toFixed(0)} | latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms | errors ${errors} | target ≥ ${s.target.rps} req/s${Number.isFinite(s.target.p99) ? `, p99 ≤ ${s.target.p99} ms` : ''}, 0 errors: ${ok ? 'met' : 'NOT met'}`,
      );
    }
    const rss = peakRssMb(server.process.pid!);
    console.log(`\nvigil bench:api — ${DEVICES} devices × ${INSPECTIONS} inspections on ${db.label}, ${os.cpus().length} cores`);
    for (const line of results) console.log(line);
    console.log(`server peak RSS ${rss.toFixed(0)} MB (target ≤ 300 MB: ${rss <= 300 ? 'met' : 'NOT met'})`);
  } finally {
    await server.stop();
    await db.cleanup();
  }
}

runBench(main);
