// npm run bench:pipeline [-- <folder of images>] [--images 500]
//
// End-to-end detection throughput on the embedded defaults, against the ceiling: the same images
// through preprocess + screen + inspect called directly in one process. Also: share of stage-2
// calls avoided, latency from upload-complete (and from the anomaly row) to the anomalyDetected
// event a WebSocket subscriber receives, and peak RSS. The service runs in a process of its own
// (bench/pipeline-service.ts), so its RSS is reported alone and this client does not share its thread.
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config/config';
import { openMobilenetBackbone } from '../src/adapters/backbone/mobilenet.driver';
import { type Backbone } from '../src/adapters/backbone/backbone.port';
import { saveArtifact, type ModelArtifact } from '../src/anomaly-model/artifact';
import { readDatasetFolder } from '../src/anomaly-model/dataset';
import { predict, train } from '../src/anomaly-model/detector';
import { deriveImages } from '../src/image-processing/image-processor';
import { drawDefect, surface, toPng, writeDataset } from '../test/support/textures';
import { GraphQLClient } from './graphql-client';
import { peakRssMb } from './bench-server';
import { type ServiceMessage, type ServiceRequest } from './pipeline-service';
import { type Image, uploadAll } from './uploads';

const ADMIN = 'bench-admin-secret-0123456789abcdef';
const WARMUP_IMAGES = 10;
const IMAGE_EXT = /\.(jpe?g|png)$/i;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const pct = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

async function generated(count: number, firstSeed = 10_000): Promise<{ name: string; bytes: Buffer }[]> {
  const out = [];
  for (let i = 0; i < count; i++) {
    const px = surface(firstSeed + i, 160);
    if (i % 10 === 0) drawDefect(px, 160, i, i % 20 ? 'scratch' : 'blob');
    out.push({ name: `gen-${i}.png`, bytes: await toPng(px, 160) });
  }
  return out;
}

/** Models for the bench device type: trained on generated textures, or on `<folder>/../crops` for a real dataset. */
async function models(backbone: Backbone, root: string, folder: string | null): Promise<Record<'screen' | 'inspect', ModelArtifact>> {
  let dataDir = path.join(root, 'train');
  const crops = folder ? path.join(folder, '..', 'crops') : null;
  if (crops && fs.existsSync(crops)) dataDir = crops;
  else await writeDataset(dataDir, { normal: 40, anomalous: 16, seed: 77 });
  const dataset = await readDatasetFolder(dataDir);
  process.stdout.write(`training screen and inspect models on ${dataDir} (${dataset.items.length} images)…\n`);
  return {
    screen: await train(backbone, dataset, { profile: 'screen', seed: 1 }),
    inspect: await train(backbone, dataset, { profile: 'inspect', seed: 1 }),
  };
}

async function ceiling(
  backbone: Backbone,
  images: { bytes: Buffer }[],
  m: Record<'screen' | 'inspect', ModelArtifact>,
  derivatives: ReturnType<typeof loadConfig>['uploads'],
) {
  const started = performance.now();
  let screened = 0;
  let inspected = 0;
  for (const image of images) {
    const d = await deriveImages(image.bytes, derivatives.limits, derivatives.derivatives);
    const pictures = d.tiles.length ? d.tiles.map((t) => t.image.data) : [d.normalized.data];
    for (const p of pictures) {
      screened++;
      const s = await predict(backbone, m.screen, p, { heatmap: false });
      if (s.isAnomalous || s.uncertain) {
        inspected++;
        await predict(backbone, m.inspect, p);
      }
    }
  }
  return { seconds: (performance.now() - started) / 1000, screened, inspected };
}

type AnomalyEvent = { anomalyId: string; at: number; createdAt: number };
type Ceiling = Awaited<ReturnType<typeof ceiling>>;

/** Listens for anomalyDetected on the device over graphql-ws, recording when each event arrives. */
function subscribeToAnomalies(serverUrl: string, deviceId: string) {
  const events: AnomalyEvent[] = [];
  const ws = createClient({
    url: `${serverUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN}` },
  });
  ws.subscribe(
    {
      query: `subscription($f: AnomalySubscriptionFilter) { anomalyDetected(filter: $f) { id createdAt } }`,
      variables: { f: { deviceIds: [deviceId] } },
    },
    {
      next: (r: any) =>
        events.push({ anomalyId: r.data.anomalyDetected.id, at: Date.now(), createdAt: Date.parse(r.data.anomalyDetected.createdAt) }),
      error: () => {},
      complete: () => {},
    },
  );
  return { events, ws };
}

/** Polls the inspection until its last workflow run is neither QUEUED nor RUNNING; returns the inspection's run, cost and anomaly count. */
async function waitForRun(gql: GraphQLClient, inspectionId: string): Promise<any> {
  let status: any;
  do {
    await new Promise((r) => setTimeout(r, 200));
    status = (
      await gql.request(
        `query($id: ID!) { inspection(id: $id) { workflowRuns { status progress { done total } } cost { inspectCallsAvoided screen { calls } inspect { calls } } anomalies { totalCount } } }`,
        { id: inspectionId },
      )
    ).inspection;
    const run = status.workflowRuns.at(-1);
    if (process.stdout.isTTY && run) process.stdout.write(`\rjudged ${run.progress.done}/${run.progress.total}`);
  } while (!status.workflowRuns.length || ['QUEUED', 'RUNNING'].includes(status.workflowRuns.at(-1).status));
  return status;
}

/** The same images through the running service: upload, wait for the detection run, collect the events. */
async function throughService(serverUrl: string, images: Image[], label = 'bench') {
  const gql = new GraphQLClient(serverUrl, ADMIN);
  const device = (
    await gql.request(`mutation($i: DeviceInput!) { createDevice(input: $i) { id } }`, {
      i: { externalId: `${label}-${Date.now()}`, name: label, type: 'bench' },
    })
  ).createDevice;
  const inspection = (
    await gql.request(`mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }`, {
      i: { deviceId: device.id, source: 'DRONE', capturedAt: new Date().toISOString() },
    })
  ).createInspection;
  const { events, ws } = subscribeToAnomalies(serverUrl, device.id);
  await new Promise((r) => setTimeout(r, 300));

  const started = performance.now();
  const startedAt = Date.now();
  const phases = await uploadAll(gql, inspection.id, images);
  const { completedAt } = phases;
  const probe = probeReads(gql);
  const status = await waitForRun(gql, inspection.id);
  const seconds = (performance.now() - started) / 1000;
  const readLatencies = await probe.stop();
  await new Promise((r) => setTimeout(r, 500));
  await ws.dispose();
  const since = (at: number) => +((at - startedAt) / 1000).toFixed(2);
  return {
    seconds,
    status,
    events,
    completedAt,
    uploadedSeconds: (completedAt - startedAt) / 1000,
    // When the requests, the PUTs and the completions had all answered, in seconds from the start.
    uploadPhases: { requested: since(phases.requestedAt), put: since(phases.putAt), completed: since(phases.completedAt) },
    readLatencies,
  };
}

/**
 * What a person using the API meanwhile sees: one read (a page of 20 devices) after another, 100 ms apart, while the
 * run judges, each one's time to answer in milliseconds.
 */
function probeReads(gql: GraphQLClient) {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await gql.request(`{ devices(first: 20) { nodes { id name status } } }`);
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return latencies;
    },
  };
}

function summary(
  images: Image[],
  folder: string | null,
  direct: Ceiling,
  service: Awaited<ReturnType<typeof throughService>>,
  rssMb: { service: number; bench: number },
) {
  const { seconds, status, events, completedAt, uploadedSeconds, uploadPhases, readLatencies } = service;
  const e2e = images.length / seconds;
  const top = images.length / direct.seconds;
  return {
    images: images.length,
    source: folder ?? 'generated 160×160 textures (1 in 10 defective)',
    run: status.workflowRuns.at(-1).status,
    // uploadedSeconds: until completeImageUploads answered (every image checked and derived); the run judges the rest of the time.
    endToEnd: {
      seconds: +seconds.toFixed(2),
      imagesPerSecond: +e2e.toFixed(2),
      uploadedSeconds: +uploadedSeconds.toFixed(2),
      uploadPhases,
    },
    ceiling: {
      seconds: +direct.seconds.toFixed(2),
      imagesPerSecond: +top.toFixed(2),
      screened: direct.screened,
      inspected: direct.inspected,
    },
    ratio: +(e2e / top).toFixed(3),
    stage2CallsAvoided: +status.cost.inspectCallsAvoided.toFixed(3),
    calls: { screen: status.cost.screen.calls, inspect: status.cost.inspect.calls },
    anomalies: status.anomalies.totalCount,
    anomalyEvents: events.length,
    eventLatencyMs: {
      afterStoredP50: pct(
        events.map((e) => e.at - e.createdAt),
        50,
      ),
      afterStoredP95: pct(
        events.map((e) => e.at - e.createdAt),
        95,
      ),
      afterUploadCompleteP95: pct(
        events.map((e) => e.at - completedAt),
        95,
      ),
    },
    // A page of 20 devices read again and again while the run judged (the models' work shares the service's cores).
    readDuringRunMs: {
      reads: readLatencies.length,
      p50: +pct(readLatencies, 50).toFixed(1),
      p95: +pct(readLatencies, 95).toFixed(1),
      max: +Math.max(...readLatencies).toFixed(1),
    },
    // The service's process alone; this one trained the models, measured the ceiling and was the client.
    peakRssMb: rssMb.service,
    benchPeakRssMb: rssMb.bench,
  };
}

/** Statements per image during the service's run (the client's polling included), all and by kind, most first, with their time. */
function statementTally(statements: [string, number, number][], images: number) {
  const total = statements.reduce((s, [, n]) => s + n, 0);
  const ms = statements.reduce((s, [, , t]) => s + t, 0);
  const byKind = [...statements]
    .sort((a, b) => b[2] - a[2])
    .map(([kind, n, t]) => [kind, { perImage: +(n / images).toFixed(2), msPerImage: +(t / images).toFixed(2) }]);
  return { perImage: +(total / images).toFixed(2), msPerImage: +(ms / images).toFixed(2), byKind: Object.fromEntries(byKind) };
}

async function main() {
  const folder = process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--')) ?? null;
  const images: Image[] = folder
    ? fs
        .readdirSync(folder)
        .filter((f) => IMAGE_EXT.test(f))
        .sort()
        .map((f) => ({ name: f, bytes: fs.readFileSync(path.join(folder, f)) }))
    : await generated(Number(arg('images', '500')));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-pipeline-'));
  const backbone = await openMobilenetBackbone();
  const m = await models(backbone, root, folder);
  fs.mkdirSync(path.join(root, 'data', 'models', 'bench'), { recursive: true });
  await saveArtifact(path.join(root, 'data', 'models', 'bench', 'screen.vgm'), m.screen);
  await saveArtifact(path.join(root, 'data', 'models', 'bench', 'inspect.vgm'), m.inspect);

  const env: Record<string, string> = {
    DATA_DIR: path.join(root, 'data'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    VIGIL_ADMIN_API_KEY: ADMIN,
    API_KEY_CACHE_MS: '60000',
    ...(process.env as Record<string, string>),
  };
  process.stdout.write(`ceiling: ${images.length} images through preprocess + screen + inspect in one process…\n`);
  const direct = await ceiling(backbone, images, m, loadConfig(env).uploads);

  const service = await startService(env);
  try {
    // The ceiling's backbone was loaded and warm from training: the service judges a few other images first, so it
    // is measured warm too (its backbone loaded, its workflow engine built); its first, cold inspection is reported apart.
    const warm = await throughService(service.url, await generated(WARMUP_IMAGES, 20_000), 'warm-up');
    const before = (await service.ask({ kind: 'tally' })) as Extract<ServiceMessage, { kind: 'tally' }>;
    const through = await throughService(service.url, images);
    const after = (await service.ask({ kind: 'tally' })) as Extract<ServiceMessage, { kind: 'tally' }>;
    const earlier = new Map(before.statements.map(([kind, n, ms]) => [kind, [n, ms]]));
    const statements = after.statements
      .map(([kind, n, ms]): [string, number, number] => [kind, n - (earlier.get(kind)?.[0] ?? 0), ms - (earlier.get(kind)?.[1] ?? 0)])
      .filter(([, n]) => n > 0);
    const rssMb = { service: Math.round(peakRssMb(service.child.pid!)), bench: Math.round(peakRss / 1048576) };
    const result = {
      ...summary(images, folder, direct, through, rssMb),
      warmUp: { images: WARMUP_IMAGES, seconds: +warm.seconds.toFixed(2), run: warm.status.workflowRuns.at(-1).status },
      statements: statementTally(statements, images.length),
    };
    process.stdout.write(`\n${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await service.stop();
    clearInterval(sampler);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** bench/pipeline-service.js forked with `env`; answers the requests of ServiceRequest in order. */
async function startService(env: Record<string, string>) {
  const child: ChildProcess = fork(path.join(__dirname, 'pipeline-service.js'), [], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const next = (kind: ServiceMessage['kind']) =>
    Promise.race([
      new Promise<ServiceMessage>((resolve) => {
        const listen = (m: ServiceMessage) => {
          if (m.kind !== kind) return;
          child.off('message', listen);
          resolve(m);
        };
        child.on('message', listen);
      }),
      exited.then((code) => Promise.reject(new Error(`the service exited (${code}) before it answered "${kind}"`))),
    ]);
  const { url } = (await next('ready')) as Extract<ServiceMessage, { kind: 'ready' }>;
  const ask = (request: ServiceRequest) => {
    const answer = next(request.kind === 'stop' ? 'stopped' : request.kind);
    // A send to a child already gone fails here, not as an 'error' event; `next` then rejects when it exits.
    child.send(request, () => undefined);
    return answer;
  };
  return {
    url,
    child,
    ask,
    stop: async () => {
      // A child that is gone (killed, crashed) has no channel to ask on.
      if (child.connected) await ask({ kind: 'stop' }).catch(() => child.kill());
      await exited;
    },
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
