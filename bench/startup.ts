import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/common/paths';
import { opt, runBench, writeResult } from './bench-server';

// npm run bench:startup [-- --runs 5]
// Starts the built server (node dist/src/main.js) with a fresh DATA_DIR (embedded database) and a free port, and
// times the first 200 from /readyz; the median of several runs. Target (issue 19): ≤ 3 s.
// Then the same with the folder the first start left (a restart), and the server's RSS once ready.

const RUNS = opt('runs', 5);
const TARGET_SECONDS = 3;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Seconds from spawn to the first 200 of /readyz, and the RSS then. */
async function startOnce(dataDir: string): Promise<{ seconds: number; rssMb: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist/src/main.js')], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      if (performance.now() - started > 60_000) throw new Error('the server was not ready within 60 s');
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return { seconds: (performance.now() - started) / 1000, rssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const fresh: number[] = [];
  const restart: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-startup-'));
    try {
      const first = await startOnce(dir);
      const again = await startOnce(dir);
      fresh.push(first.seconds);
      restart.push(again.seconds);
      rss.push(again.rssMb);
      console.log(
        `run ${i + 1}: fresh DATA_DIR ${first.seconds.toFixed(2)} s, restart ${again.seconds.toFixed(2)} s, RSS ${Math.round(again.rssMb)} MB`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const template = fs.existsSync(path.join(PROJECT_ROOT, 'dist/pglite-template/manifest.json'));
  const result = {
    cores: os.cpus().length,
    runs: RUNS,
    template,
    freshDataDirSeconds: { median: Number(median(fresh).toFixed(2)), all: fresh.map((s) => Number(s.toFixed(2))) },
    restartSeconds: { median: Number(median(restart).toFixed(2)), all: restart.map((s) => Number(s.toFixed(2))) },
    readyRssMb: { median: Math.round(median(rss)) },
  };
  console.log(JSON.stringify(result, null, 2));
  const met = result.freshDataDirSeconds.median <= TARGET_SECONDS;
  console.log(
    `target: first 200 from /readyz ≤ ${TARGET_SECONDS} s with a fresh DATA_DIR: ${met ? 'met' : 'NOT met'} (median ${result.freshDataDirSeconds.median} s)`,
  );
  writeResult('startup', result);
}

runBench(main);
