import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/database';
import { migrate } from '../src/db/migrator';
import { PROJECT_ROOT } from '../src/common/paths';

// What the server benches share: a seeded database (PGlite or a fresh PostgreSQL database), the real
// server as a child process, its readiness and its peak RSS.

const cliArgs = process.argv.slice(2);
/** `--name` given on the command line. */
export const flag = (name: string) => cliArgs.includes(`--${name}`);
/** The number after `--name`, or the fallback. */
export const opt = (name: string, fallback: number) => {
  const i = cliArgs.indexOf(`--${name}`);
  return i >= 0 ? Number(cliArgs[i + 1]) : fallback;
};

export function bar(done: number, total: number, label: string) {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stdout.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  if (done === total) process.stdout.write('\n');
}

/** DEVICES devices × INSPECTIONS inspections, one image each, anomalies on about a third; bench:api's and bench:soak's fleet. */
export async function seedFleet(db: Database, DEVICES: number, INSPECTIONS: number) {
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

export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export async function waitReady(url: string, timeoutMs = 60_000) {
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

export interface BenchDatabase {
  env: Record<string, string>;
  label: string;
  cleanup(): Promise<void>;
}

/** A migrated database seeded by `seed`: embedded PGlite in a temporary DATA_DIR, or a new database on the PostgreSQL server. */
export async function benchDatabase(options: {
  pglite: boolean;
  seed: (db: Database) => Promise<void>;
  /** An already seeded PostgreSQL database to measure again. */
  reuseUrl?: string;
  keep?: boolean;
  serverUrl?: string;
}): Promise<BenchDatabase> {
  if (options.pglite) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
    const db = await openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'db') });
    await migrate(db);
    await options.seed(db);
    await db.close();
    return { env: { DATA_DIR: dir }, label: 'PGlite (embedded)', cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  if (options.reuseUrl) {
    return { env: { DATABASE_URL: options.reuseUrl }, label: `PostgreSQL (${options.reuseUrl}, reused)`, cleanup: async () => undefined };
  }
  const serverUrl = options.serverUrl ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const name = `vigil_bench_${crypto.randomBytes(4).toString('hex')}`;
  // A client per statement: one kept open would die (and take the bench down) when bench:faults restarts PostgreSQL.
  const adminQuery = async (sql: string) => {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 10 });
  await migrate(db);
  await options.seed(db);
  await db.close();
  return {
    env: { DATABASE_URL: url.toString() },
    label: `PostgreSQL (${serverUrl.replace(/\/[^/]*$/, `/${name}`)})`,
    cleanup: async () => {
      if (options.keep) console.log(`kept the seeded database: VIGIL_BENCH_REUSE_URL=${url}`);
      else await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

export interface BenchServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** dist/src/main.js as a child process on `port`, with an ADMIN key `secret`; ready when /readyz answers. */
export async function startBenchServer(env: Record<string, string>, port: number, secret: string): Promise<BenchServer> {
  const nodeArgs = process.env.VIGIL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const server = spawn(process.execPath, [...nodeArgs, path.join(PROJECT_ROOT, 'dist/src/main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      // VIGIL_BENCH_LOG_LEVEL=info with VIGIL_BENCH_SERVER_LOG keeps the request log (one line per request, with its time).
      LOG_LEVEL: process.env.VIGIL_BENCH_LOG_LEVEL ?? 'warn',
      VIGIL_ADMIN_API_KEY: secret,
      API_KEY_CACHE_MS: '5000',
      ...env,
    },
    // VIGIL_BENCH_SERVER_LOG=<file> keeps the server's log (appended across restarts).
    stdio: ['ignore', process.env.VIGIL_BENCH_SERVER_LOG ? fs.openSync(process.env.VIGIL_BENCH_SERVER_LOG, 'a') : 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((r) => server.once('exit', r));
  await waitReady(url);
  return {
    url,
    process: server,
    stop: async () => {
      server.kill('SIGTERM');
      await exited;
    },
  };
}

/** Writes a bench's figures to bench/results/<name>.json and says where. */
export function writeResult(name: string, result: unknown): void {
  const out = path.join('bench', 'results', `${name}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

/** Runs a bench's main; a failure is printed and the process exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
