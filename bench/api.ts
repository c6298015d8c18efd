import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/database';
import { migrate } from '../src/db/migrator';
import { PROJECT_ROOT } from '../src/common/paths';
import { GraphQLClient } from './graphql-client';

// npm run bench:api [-- --pglite] [--devices 10000] [--inspections 5] [--duration 20] [--connections 32] [--keep]
// VIGIL_BENCH_REUSE_URL=<url printed by --keep> measures a seeded PostgreSQL database again.
// Seeds a fleet, starts the real server as a child process and loads it with autocannon.

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
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

function bar(done: number, total: number, label: string) {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stdout.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  if (done === total) process.stdout.write('\n');
}

async function seed(db: Database) {
  const prisma = db.prisma;
  const chunk = 1000;
  for (let start = 0; start < DEVICES; start += chunk) {
    const n = Math.min(chunk, DEVICES - start);
    const devices = Array.from({ length: n }, (_, k) => {
      const i = start + k;
      return {
        id: crypto.randomUUID(),
        externalId: `bench-${String(i).padStart(6, '0')}`,
        name: `Device ${String(i).padStart(6, '0')}`,
        type: i % 3 ? 'insulator' : 'pole',
        latitude: 50 + (i % 100) * 0.01,
        longitude: 4 + Math.floor(i / 100) * 0.01,
      };
    });
    await prisma.device.createMany({ data: devices });
    const inspections = devices.flatMap((d) =>
      Array.from({ length: INSPECTIONS }, (_, j) => ({
        id: crypto.randomUUID(),
        deviceId: d.id,
        source: 'DRONE' as const,
        status: 'COMPLETED' as const,
        capturedAt: new Date(Date.UTC(2026, 0, 1 + j)),
        requestedBy: 'bench',
      })),
    );
    await prisma.inspection.createMany({ data: inspections });
    const images = inspections.map((ins) => {
      const sha256 = crypto.randomBytes(32).toString('hex');
      return {
        id: crypto.randomUUID(),
        inspectionId: ins.id,
        objectKey: `images/${sha256}`,
        sha256,
        contentType: 'image/jpeg',
        bytes: 200_000,
        status: 'READY' as const,
      };
    });
    await prisma.image.createMany({ data: images });
    // Roughly one inspection in three found something; some found two things.
    const anomalies = images.flatMap((img, k) => {
      const ins = inspections[k];
      const count = k % 3 === 0 ? 1 + (k % 2) : 0;
      return Array.from({ length: count }, (_, r) => ({
        imageId: img.id,
        inspectionId: ins.id,
        deviceId: ins.deviceId,
        type: r ? 'crack' : 'missing-cap',
        confidence: ((k * 7919 + r * 104729) % 1000) / 1000,
        boxX: 0.2,
        boxY: 0.3,
        boxWidth: 0.1,
        boxHeight: 0.15,
        status: k % 5 === 0 ? ('CONFIRMED' as const) : ('SUSPECTED' as const),
        source: 'MODEL' as const,
      }));
    });
    await prisma.anomaly.createMany({ data: anomalies });
    bar(start + n, DEVICES, 'seeding devices');
  }
  await db.withSession((s) => s.exec('ANALYZE'));
}

function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function waitReady(url: string, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not become ready');
}

async function main() {
  const usePglite = flag('pglite');
  let env: Record<string, string>;
  let cleanup: () => Promise<void> = async () => undefined;
  let dbLabel: string;
  if (usePglite) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
    const db = await openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'db') });
    await migrate(db);
    await seed(db);
    await db.close();
    env = { DATA_DIR: dir };
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
    dbLabel = 'PGlite (embedded)';
  } else if (process.env.VIGIL_BENCH_REUSE_URL) {
    // An already seeded database from an earlier --keep run: measure again without seeding.
    env = { DATABASE_URL: process.env.VIGIL_BENCH_REUSE_URL };
    dbLabel = `PostgreSQL (${process.env.VIGIL_BENCH_REUSE_URL}, reused)`;
  } else {
    const name = `vigil_bench_${crypto.randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 10 });
    await migrate(db);
    await seed(db);
    await db.close();
    env = { DATABASE_URL: url.toString() };
    cleanup = async () => {
      if (flag('keep')) console.log(`kept the seeded database: VIGIL_BENCH_REUSE_URL=${url}`);
      else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    };
    dbLabel = `PostgreSQL (${serverUrl.replace(/\/[^/]*$/, `/${name}`)})`;
  }

  const nodeArgs = process.env.VIGIL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const server = spawn(process.execPath, [...nodeArgs, path.join(PROJECT_ROOT, 'dist/src/main.js')], {
    env: {
      ...process.env,
      ...env,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      VIGIL_ADMIN_API_KEY: SECRET,
      API_KEY_CACHE_MS: '5000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${PORT}`;
  const client = new GraphQLClient(url, SECRET);
  const results: string[] = [];
  try {
    await waitReady(url);
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
    const rss = peakRssMb(server.pid!);
    console.log(`\nvigil bench:api — ${DEVICES} devices × ${INSPECTIONS} inspections on ${dbLabel}, ${os.cpus().length} cores`);
    for (const line of results) console.log(line);
    console.log(`server peak RSS ${rss.toFixed(0)} MB (target ≤ 300 MB: ${rss <= 300 ? 'met' : 'NOT met'})`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
