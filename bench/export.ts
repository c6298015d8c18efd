import crypto from 'node:crypto';
import os from 'node:os';
import { check } from '@placemarkio/check-geojson';
import { type Database } from '../src/db/database';
import { bar, benchDatabase, flag, opt, peakRssMb, rssMb, runBench, startBenchServer, writeResult } from './bench-server';
import { GraphQLClient } from './graphql-client';

// npm run bench:export [-- --pglite] [--devices 100000] [--keep]
// VIGIL_BENCH_REUSE_URL=<url printed by --keep> measures a seeded PostgreSQL database again.
// Seeds a fleet (about one device in eight with open defects, one in fifty without a position), starts
// the built server, asks createExport for the GeoJSON link and downloads it over HTTP, sampling the
// server's RSS. Target: 100,000 devices in ≤ 10 s with the server's RSS ≤ 300 MB.

const PGLITE = flag('pglite');
const DEVICES = opt('devices', 100_000);
const PORT = opt('port', 4597);
const SECRET = `bench-admin-secret-${crypto.randomBytes(8).toString('hex')}`;
const serverUrl = process.env.VIGIL_BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
// VIGIL_BENCH_NODE_ARGS (e.g. "--max-old-space-size=160 --max-semi-space-size=4") is passed to the server; its result file says so.
const NODE_ARGS = process.env.VIGIL_BENCH_NODE_ARGS ?? '';
const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
const STATUSES = ['OK', 'NEEDS_ATTENTION', 'UNKNOWN'] as const;

async function seedDevices(db: Database) {
  const chunk = 5000;
  for (let start = 0; start < DEVICES; start += chunk) {
    const devices = Array.from({ length: Math.min(chunk, DEVICES - start) }, (_, k) => {
      const i = start + k;
      const placed = i % 50 !== 49;
      return {
        id: crypto.randomUUID(),
        externalId: `bench-${String(i).padStart(6, '0')}`,
        name: `Device ${String(i).padStart(6, '0')}`,
        type: i % 3 ? 'insulator' : 'pole',
        status: i % 8 === 0 ? ('NEEDS_ATTENTION' as const) : STATUSES[i % 3],
        latitude: placed ? 50 + (i % 300) * 0.01 : null,
        longitude: placed ? 4 + Math.floor(i / 300) * 0.01 : null,
      };
    });
    await db.prisma.device.createMany({ data: devices });
    const defects = devices.flatMap((d, k) =>
      (start + k) % 8 === 0
        ? Array.from({ length: 1 + (k % 3) }, (_, j) => ({
            deviceId: d.id,
            type: j ? 'crack' : 'missing-cap',
            severity: SEVERITIES[(k + j) % 4],
            confidence: 0.5 + ((k * 7 + j) % 50) / 100,
            firstSeenAt: new Date(Date.UTC(2026, 0, 1 + (k % 28))),
            lastSeenAt: new Date(Date.UTC(2026, 1, 1 + (k % 28))),
            firstArea: 0.02,
            lastArea: 0.03,
            boxX: 0.2,
            boxY: 0.3,
            boxWidth: 0.1,
            boxHeight: 0.15,
          }))
        : [],
    );
    await db.prisma.defect.createMany({ data: defects });
    bar(start + devices.length, DEVICES, 'seeding devices');
  }
  await db.withSession((s) => s.exec('ANALYZE'));
}

/** Downloads the link, counting bytes and sampling the server's RSS; keeps the text to check it. */
async function download(url: string, pid: number) {
  let sampledPeak = rssMb(pid);
  const probe = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, rssMb(pid));
  }, 50);
  const started = performance.now();
  try {
    const res = await fetch(url);
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
    const firstByteSeconds = (performance.now() - started) / 1000;
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      chunks.push(Buffer.from(chunk));
      bytes += chunk.byteLength;
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      seconds,
      firstByteSeconds,
      bytes,
      text: Buffer.concat(chunks).toString('utf8'),
      sampledPeak,
      contentType: res.headers.get('content-type'),
    };
  } finally {
    clearInterval(probe);
  }
}

/** The whole file parses as JSON with one Feature per device; a sample of features passes the GeoJSON checker. */
function validate(text: string) {
  const collection = JSON.parse(text) as {
    type: string;
    features: { id: string; geometry: unknown; properties: { openDefectCount: number } }[];
  };
  if (collection.type !== 'FeatureCollection') throw new Error('not a FeatureCollection');
  if (collection.features.length !== DEVICES) throw new Error(`${collection.features.length} features for ${DEVICES} devices`);
  if (new Set(collection.features.map((f) => f.id)).size !== DEVICES) throw new Error('a device appears twice');
  // check-geojson builds a syntax tree of the whole input, too large for 100,000 features: it checks every 50th.
  const sample = { type: 'FeatureCollection', features: collection.features.filter((_, i) => i % 50 === 0) };
  check(JSON.stringify(sample));
  return {
    features: collection.features.length,
    withoutGeometry: collection.features.filter((f) => f.geometry === null).length,
    withOpenDefects: collection.features.filter((f) => f.properties.openDefectCount > 0).length,
    checkedBySpecValidator: sample.features.length,
  };
}

async function main() {
  const db = await benchDatabase({
    pglite: PGLITE,
    seed: seedDevices,
    reuseUrl: process.env.VIGIL_BENCH_REUSE_URL,
    keep: flag('keep'),
    serverUrl,
  });
  const server = await startBenchServer(db.env, PORT, SECRET);
  const pid = server.process.pid!;
  try {
    const client = new GraphQLClient(server.url, SECRET);
    const { createExport } = await client.request(`mutation { createExport(input: { kind: DEVICES_GEOJSON }) { url contentType } }`);
    const idleRss = rssMb(pid);
    console.log(`downloading the GeoJSON of ${DEVICES} devices from ${db.label}…`);
    const r = await download(createExport.url, pid);
    const checked = validate(r.text);
    const peak = peakRssMb(pid);
    const result = {
      database: db.label,
      cores: os.cpus().length,
      serverNodeArgs: NODE_ARGS,
      devices: DEVICES,
      contentType: r.contentType,
      seconds: Number(r.seconds.toFixed(2)),
      firstByteSeconds: Number(r.firstByteSeconds.toFixed(3)),
      bytes: r.bytes,
      megabytesPerSecond: Number((r.bytes / 1e6 / r.seconds).toFixed(1)),
      devicesPerSecond: Math.round(DEVICES / r.seconds),
      serverRssMb: { beforeDownload: Math.round(idleRss), sampledPeak: Math.round(r.sampledPeak), peakVmHWM: Math.round(peak) },
      ...checked,
    };
    console.log(JSON.stringify(result, null, 2));
    const met = r.seconds <= 10 && peak <= 300;
    console.log(
      `target ≤ 10 s and server RSS ≤ 300 MB: ${met ? 'met' : 'NOT met'} (${result.seconds} s, peak ${result.serverRssMb.peakVmHWM} MB)`,
    );
    writeResult(`export-${PGLITE ? 'pglite' : 'postgres'}${NODE_ARGS ? '-node-args' : ''}`, result);
  } finally {
    await server.stop();
    await db.cleanup();
  }
}

runBench(main);
