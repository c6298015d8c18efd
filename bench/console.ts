import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import Table from 'cli-table3';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../src/common/paths';
import { type Database } from '../src/db/database';
import { bar, benchDatabase, flag, opt, runBench, startBenchServer, writeResult } from './bench-server';

// npm run bench:console [-- --pglite] [--devices 10000] [--defects 2000] [--loads 5] [--screenshot docs/console-fleet.png]
// Seeds a fleet (devices spread over the Netherlands, open defects of every severity), starts the built server and opens
// /console in Debian's Chromium: time from navigation to the fleet's map and list drawn (first page of devices, then all of
// them), frame times while panning the map, and the JavaScript shipped (gzipped). Targets: drawn ≤ 2 s, JS ≤ 400 KB.

const PGLITE = flag('pglite');
const DEVICES = opt('devices', 10_000);
const DEFECTS = opt('defects', 2_000);
const LOADS = opt('loads', 5);
const PORT = opt('port', 0);
const SECRET = `bench-admin-secret-${crypto.randomBytes(8).toString('hex')}`;
const CHROMIUM = '/usr/bin/chromium';
const shotAt = process.argv.indexOf('--screenshot');
const SCREENSHOT = shotAt > 0 ? process.argv[shotAt + 1] : null;
const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
const STATUSES = ['OK', 'NEEDS_ATTENTION', 'UNKNOWN'] as const;

async function seed(db: Database) {
  const chunk = 2000;
  const ids: string[] = [];
  for (let start = 0; start < DEVICES; start += chunk) {
    const devices = Array.from({ length: Math.min(chunk, DEVICES - start) }, (_, k) => {
      const i = start + k;
      return {
        id: crypto.randomUUID(),
        externalId: `bench-${String(i).padStart(6, '0')}`,
        name: `Device ${String(i).padStart(6, '0')}`,
        type: ['pole', 'insulator', 'pump'][i % 3],
        status: STATUSES[i % 3],
        latitude: 50.8 + ((i * 7919) % 1000) * 0.0026,
        longitude: 3.5 + ((i * 104_729) % 1000) * 0.0037,
      };
    });
    await db.prisma.device.createMany({ data: devices });
    ids.push(...devices.map((d) => d.id));
    bar(start + devices.length, DEVICES, 'seeding devices');
  }
  const defects = Array.from({ length: DEFECTS }, (_, j) => ({
    deviceId: ids[(j * 5) % ids.length],
    type: j % 2 ? 'crack' : 'missing-cap',
    severity: SEVERITIES[j % 4],
    confidence: 0.5 + (j % 50) / 100,
    firstSeenAt: new Date(Date.UTC(2026, 0, 1 + (j % 28))),
    lastSeenAt: new Date(Date.UTC(2026, 1, 1 + (j % 28))),
    firstArea: 0.02,
    lastArea: 0.03,
    boxX: 0.2,
    boxY: 0.3,
    boxWidth: 0.1,
    boxHeight: 0.15,
  }));
  await db.prisma.defect.createMany({ data: defects });
  await db.withSession((s) => s.exec('ANALYZE'));
}

/** A port nothing listens on now (benches of others may hold the usual ones). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** The shipped JavaScript and CSS of dist/console, raw and gzipped. */
function bundleSizes() {
  const dir = path.join(PROJECT_ROOT, 'dist/console/assets');
  const sum = (ext: string) =>
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(ext))
      .reduce(
        (acc, f) => {
          const body = fs.readFileSync(path.join(dir, f));
          return { raw: acc.raw + body.length, gzip: acc.gzip + zlib.gzipSync(body, { level: 9 }).length };
        },
        { raw: 0, gzip: 0 },
      );
  return { js: sum('.js'), css: sum('.css') };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

/** One load of /console#/fleet: ms from navigation start to the first draw of map and list, and to every device drawn. */
async function load(context: BrowserContext, url: string) {
  const page = await context.newPage();
  await page.addInitScript((key) => (globalThis as any).sessionStorage.setItem('vigil.console.key', key), SECRET);
  await page.goto(`${url}/console#/fleet`);
  await page.waitForSelector('[data-testid="device-list"][data-state="ready"]', { timeout: 60_000 });
  await page.waitForFunction(
    (n) => (globalThis as any).document.querySelector('[data-testid="device-count"]')?.textContent === `${n} devices`,
    DEVICES,
  );
  await page.waitForTimeout(100);
  const marks = await page.evaluate(() => performance.getEntriesByName('vigil:fleet-drawn').map((m) => m.startTime));
  return { page, firstDrawnMs: marks[0], allDrawnMs: marks.at(-1)! };
}

/** Drags the map around for a while, recording every frame's interval. */
async function pan(page: Page) {
  const box = (await page.locator('[data-testid="fleet-map"]').boundingBox())!;
  await page.evaluate(() => {
    const w = globalThis as any;
    w.frames_ = [];
    let last = performance.now();
    const tick = (now: number) => {
      w.frames_.push(now - last);
      last = now;
      w.requestAnimationFrame(tick);
    };
    w.requestAnimationFrame(tick);
  });
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.click('.leaflet-control-zoom-in');
  await page.waitForTimeout(400);
  for (let i = 0; i < 8; i++) {
    const dx = (i % 2 ? -1 : 1) * 220;
    const dy = (i % 4 < 2 ? 1 : -1) * 120;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + dx, cy + dy, { steps: 12 });
    await page.mouse.up();
    await page.waitForTimeout(150);
  }
  const frames = await page.evaluate(() => ((globalThis as any).frames_ as number[]).slice(1));
  return {
    frames: frames.length,
    p50: median(frames),
    p95: pct(frames, 0.95),
    max: Math.max(...frames),
    over50: frames.filter((f) => f > 50).length,
  };
}

async function main() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}`);
  if (!fs.existsSync(path.join(PROJECT_ROOT, 'dist/console/index.html'))) throw new Error('dist/console is missing: run npm run build');
  const db = await benchDatabase({ pglite: PGLITE, seed, keep: flag('keep'), serverUrl: process.env.VIGIL_BENCH_DATABASE_URL });
  const server = await startBenchServer(db.env, PORT || (await freePort()), SECRET);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    viewport: { width: 1366, height: 768 },
  });
  try {
    const loads: { firstDrawnMs: number; allDrawnMs: number }[] = [];
    let panning: Awaited<ReturnType<typeof pan>> | null = null;
    for (let i = 0; i < LOADS; i++) {
      const { page, ...times } = await load(context, server.url);
      loads.push(times);
      console.log(
        `load ${i + 1}/${LOADS}: first drawn ${Math.round(times.firstDrawnMs)} ms, every device drawn ${Math.round(times.allDrawnMs)} ms`,
      );
      if (i === 0 && SCREENSHOT) {
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });
      }
      if (i === LOADS - 1) panning = await pan(page);
      await page.close();
    }
    const sizes = bundleSizes();
    const result = {
      database: db.label,
      cores: os.cpus().length,
      devices: DEVICES,
      openDefects: DEFECTS,
      loads: LOADS,
      firstDrawnMs: Math.round(median(loads.map((l) => l.firstDrawnMs))),
      allDrawnMs: Math.round(median(loads.map((l) => l.allDrawnMs))),
      panning,
      jsKb: { raw: Math.round(sizes.js.raw / 1024), gzip: Math.round(sizes.js.gzip / 1024) },
      cssKb: { raw: Math.round(sizes.css.raw / 1024), gzip: Math.round(sizes.css.gzip / 1024) },
    };
    const table = new Table({ head: ['measure', 'value', 'target'], style: process.stdout.isTTY ? {} : { head: [], border: [] } });
    table.push(
      ['navigation → map and list drawn (first page, median)', `${result.firstDrawnMs} ms`, '≤ 2000 ms'],
      [`navigation → all ${DEVICES} devices drawn (median)`, `${result.allDrawnMs} ms`, '≤ 2000 ms'],
      [
        'panning: frame interval p50 / p95 / max',
        `${panning!.p50.toFixed(1)} / ${panning!.p95.toFixed(1)} / ${panning!.max.toFixed(1)} ms`,
        'smooth',
      ],
      ['panning: frames over 50 ms', `${panning!.over50} of ${panning!.frames}`, 'few'],
      ['JavaScript shipped (gzip)', `${result.jsKb.gzip} KB (${result.jsKb.raw} KB raw)`, '≤ 400 KB'],
      ['CSS shipped (gzip)', `${result.cssKb.gzip} KB`, ''],
    );
    console.log(table.toString());
    writeResult(`console-${PGLITE ? 'pglite' : 'postgres'}`, result);
  } finally {
    await context.close().catch(() => undefined);
    fs.rmSync(profile, { recursive: true, force: true });
    await server.stop();
    await db.cleanup();
  }
}

runBench(main);
