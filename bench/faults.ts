// npm run bench:faults [-- --images 60]
//
// A detection run on PostgreSQL with Redis-backed events, images in S3 and stage 2 on a SageMaker
// endpoint, while things break under it: the server is killed with SIGKILL and started again, S3 answers
// SlowDown and 500s, PostgreSQL restarts, the endpoint throttles and answers 503, Redis stops and comes
// back. S3 is s3rver and the endpoint runs vigil's built-in model, both on loopback behind a fault proxy
// (bench/fault-proxy.ts) that answers with AWS's own errors while a fault is on. Afterwards,
// read straight from the database: every image judged exactly once (one detection per stage and
// model version, one outcome in the last run), no run left QUEUED or RUNNING, no anomaly twice, and
// which anomaly events a subscriber heard (it resumes with `since` after each reconnect, as the API
// asks). Needs root (pg_ctlcluster, redis-server) and the machine's PostgreSQL and Redis, which it
// restarts: run it alone. Writes bench/results/faults.json.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { openMobilenetBackbone } from '../src/adapters/backbone/mobilenet.driver';
import { saveArtifact } from '../src/anomaly-model/artifact';
import { readDatasetFolder } from '../src/anomaly-model/dataset';
import { train } from '../src/anomaly-model/detector';
import { drawDefect, surface, toPng, writeDataset } from '../test/support/textures';
import S3rver from 's3rver';
import { benchDatabase, type BenchServer, startBenchServer, runBench, writeResult } from './bench-server';
import { FaultProxy, S3_INTERNAL_ERROR, S3_SLOW_DOWN, SAGEMAKER_THROTTLED, SAGEMAKER_UNAVAILABLE } from './fault-proxy';
import { GraphQLClient } from './graphql-client';
import { startSageMakerEndpoint } from './sagemaker-endpoint';
import { type Image, uploadAll } from './uploads';

// Without --images, indexOf is -1 and argv[0] (node's path) would be read as the count.
const IMAGES = process.argv.includes('--images') ? Number(process.argv[process.argv.indexOf('--images') + 1]) : 60;
if (!Number.isInteger(IMAGES) || IMAGES < 1) throw new Error('--images takes a whole number of images, at least 1');
const PORT = 4596;
const SECRET = `bench-admin-secret-${crypto.randomBytes(8).toString('hex')}`;
const REDIS_URL = 'redis://127.0.0.1:6379';
const BUCKET = 'vigil-faults';
const ENDPOINT = 'vigil-faults';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function trainModels(modelsDir: string): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-faults-train-'));
  await writeDataset(root, { normal: 30, anomalous: 12, seed: 5 });
  const backbone = await openMobilenetBackbone();
  const dataset = await readDatasetFolder(root);
  fs.mkdirSync(path.join(modelsDir, 'faulty'), { recursive: true });
  for (const profile of ['screen', 'inspect'] as const) {
    await saveArtifact(path.join(modelsDir, 'faulty', `${profile}.vgm`), await train(backbone, dataset, { profile, seed: 1 }));
  }
  await backbone.close?.();
  fs.rmSync(root, { recursive: true, force: true });
}

async function images(count: number): Promise<Image[]> {
  const out: Image[] = [];
  for (let i = 0; i < count; i++) {
    const px = surface(20_000 + i, 160);
    if (i % 4 === 0) drawDefect(px, 160, i, i % 8 ? 'scratch' : 'blob');
    out.push({ name: `fault-${i}.png`, bytes: await toPng(px, 160) });
  }
  return out;
}

function pgCluster(action: 'restart'): void {
  const version = fs.readdirSync('/etc/postgresql')[0];
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { stdio: 'ignore' });
}

function redis(action: 'stop' | 'start'): void {
  if (action === 'stop') execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave'], { stdio: 'ignore' });
  else
    execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
}

async function progress(gql: GraphQLClient, inspectionId: string): Promise<{ status: string; done: number; total: number } | null> {
  try {
    const data: any = await gql.request('query($id: ID!) { inspection(id: $id) { workflowRuns { status progress { done total } } } }', {
      id: inspectionId,
    });
    const run = data.inspection.workflowRuns.at(-1);
    return run ? { status: run.status, ...run.progress } : null;
  } catch {
    return null;
  }
}

/** Waits until the run has judged `share` of its images (or ended). */
async function until(gql: GraphQLClient, inspectionId: string, share: number): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const p = await progress(gql, inspectionId);
    if (p && (p.status === 'SUCCEEDED' || p.status === 'FAILED' || (p.total > 0 && p.done >= share * p.total))) return;
    await sleep(100);
  }
}

function listen(url: string) {
  const heard: string[] = [];
  const seen = new Set<string>();
  let repeats = 0;
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${SECRET}` },
    // The server is killed on purpose: the client reconnects and subscribes again.
    retryAttempts: 1000,
    retryWait: () => sleep(200),
    shouldRetry: () => true,
  });
  // Resubscribing sends this payload again: `since` moves with each anomaly heard, so a reconnect replays what was missed.
  const payload = {
    query: 'subscription($since: DateTimeISO) { anomalyDetected(since: $since) { id updatedAt } }',
    variables: { since: new Date().toISOString() },
  };
  client.subscribe(payload, {
    next: (r: any) => {
      const { id, updatedAt } = r.data.anomalyDetected;
      // What the API asks of a resuming client: drop repeats by id and updatedAt.
      if (seen.has(`${id}@${updatedAt}`)) return void repeats++;
      seen.add(`${id}@${updatedAt}`);
      heard.push(id);
      if (updatedAt > payload.variables.since) payload.variables.since = updatedAt;
    },
    error: () => undefined,
    complete: () => undefined,
  });
  return { heard, repeats: () => repeats, close: () => client.dispose() };
}

async function verify(url: string, globalId: string) {
  const inspectionId = Buffer.from(globalId, 'base64url').toString().split(':')[1];
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return await countProblems(db, inspectionId);
  } finally {
    await db.end();
  }
}

async function countProblems(db: pg.Client, inspectionId: string) {
  const one = async (sql: string) => Number((await db.query(sql, [inspectionId])).rows[0].n);
  return {
    images: await one("SELECT count(*) AS n FROM images WHERE inspection_id = $1 AND status = 'READY'"),
    imagesWithoutScreen: await one(
      "SELECT count(*) AS n FROM images i WHERE i.inspection_id = $1 AND i.status = 'READY' AND NOT EXISTS (SELECT 1 FROM detections d WHERE d.image_id = i.id AND d.stage = 'SCREEN')",
    ),
    detectionsDoubled: await one(
      'SELECT count(*) AS n FROM (SELECT image_id, stage FROM detections d JOIN images i ON i.id = d.image_id WHERE i.inspection_id = $1 GROUP BY 1, 2 HAVING count(*) > 1) x',
    ),
    imagesWithoutOutcome: await one(
      "SELECT count(*) AS n FROM images i WHERE i.inspection_id = $1 AND i.status = 'READY' AND NOT EXISTS (SELECT 1 FROM workflow_run_images r JOIN workflow_runs w ON w.id = r.run_id WHERE r.image_id = i.id AND w.status = 'SUCCEEDED')",
    ),
    runsStuck: await one("SELECT count(*) AS n FROM workflow_runs WHERE inspection_id = $1 AND status IN ('QUEUED', 'RUNNING')"),
    runs: (await db.query('SELECT status, error FROM workflow_runs WHERE inspection_id = $1 ORDER BY created_at', [inspectionId])).rows,
    anomalies: (await db.query('SELECT id::text FROM anomalies WHERE inspection_id = $1', [inspectionId])).rows.map((r) => r.id as string),
    anomaliesDoubled: await one(
      'SELECT count(*) AS n FROM (SELECT detection_id, region_index FROM anomalies WHERE inspection_id = $1 AND detection_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) x',
    ),
  };
}

/** S3 (s3rver) and a SageMaker endpoint on loopback, each behind a fault proxy; the server's environment to reach them. */
async function startAws(modelsDir: string) {
  const s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-faults-s3-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await s3rver.run();
  const s3 = await FaultProxy.start(`http://127.0.0.1:${port}`);
  const endpoint = await startSageMakerEndpoint(ENDPOINT, path.join(modelsDir, 'faulty', 'inspect.vgm'));
  const sagemaker = await FaultProxy.start(endpoint.url);
  return {
    s3,
    sagemaker,
    endpoint,
    env: {
      OBJECT_STORE: 's3',
      S3_BUCKET: BUCKET,
      S3_REGION: 'us-east-1',
      S3_ENDPOINT: s3.url,
      INSPECT_DETECTOR: 'sagemaker',
      SAGEMAKER_ENDPOINT_NAME: ENDPOINT,
      AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: sagemaker.url,
      AWS_REGION: 'us-east-1',
      // s3rver's own key pair; nothing here reaches AWS.
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    close: async () => {
      await Promise.all([s3.close(), sagemaker.close(), endpoint.close()]);
      await s3rver.close();
      fs.rmSync(s3Dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the proxy has failed `n` requests on purpose, or 120 s. */
async function untilFaulted(proxy: FaultProxy, n: number): Promise<void> {
  for (let i = 0; i < 1200 && proxy.injected < n; i++) await sleep(100);
}

async function main() {
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-faults-models-'));
  process.stdout.write('training small models on generated textures…\n');
  await trainModels(modelsDir);
  const aws = await startAws(modelsDir);
  const db = await benchDatabase({ pglite: false, seed: async () => undefined, serverUrl: process.env.VIGIL_BENCH_DATABASE_URL });
  const env = { ...db.env, ...aws.env, VIGIL_MODELS_DIR: modelsDir, REDIS_URL, WORKFLOW_AUTO_START: 'false', RATE_LIMIT_PER_KEY: '0' };
  let server: BenchServer = await startBenchServer(env, PORT, SECRET);
  const faults: string[] = [];
  const gql = new GraphQLClient(server.url, SECRET, { readAttempts: 20, retryDelayMs: 250 });
  const listener = listen(server.url);
  try {
    const device: any = await gql.request(
      'mutation { createDevice(input: { externalId: "faults-1", name: "faults", type: "faulty" }) { id } }',
    );
    const inspection: any = await gql.request(
      'mutation($d: ID!) { createInspection(input: { deviceId: $d, source: DRONE, capturedAt: "2026-06-01T00:00:00Z" }) { id } }',
      { d: device.createDevice.id },
    );
    const inspectionId = inspection.createInspection.id as string;
    await uploadAll(gql, inspectionId, await images(IMAGES));
    await sleep(500);
    // The endpoint's faults are armed before the run: stage 2 calls it only for flagged images, whenever that comes.
    aws.sagemaker.inject(SAGEMAKER_THROTTLED, 2, 6);
    const sageMakerFaults = untilFaulted(aws.sagemaker, 6).then(async () => {
      aws.sagemaker.inject(SAGEMAKER_UNAVAILABLE, 1, 4);
      await untilFaulted(aws.sagemaker, 10);
      faults.push('the SageMaker endpoint throttled every 2nd of its first 12 calls, then answered the next 4 with 503');
    });
    await gql.request('mutation($i: ID!) { startInspection(inspectionId: $i) { id } }', { i: inspectionId });

    await until(gql, inspectionId, 0.2);
    server.process.kill('SIGKILL');
    await server.stop().catch(() => undefined);
    faults.push('SIGKILL of the server at ~20% judged');
    server = await startBenchServer(env, PORT, SECRET);

    await until(gql, inspectionId, 0.3);
    aws.s3.inject(S3_SLOW_DOWN);
    await sleep(1000);
    aws.s3.inject(S3_INTERNAL_ERROR, 3);
    await sleep(4000);
    aws.s3.clear();
    faults.push('S3 answered every request with 503 SlowDown for 1 s, then every 3rd with 500 InternalError for 4 s, at ~30% judged');

    await until(gql, inspectionId, 0.45);
    pgCluster('restart');
    faults.push('PostgreSQL restarted at ~45% judged');

    await until(gql, inspectionId, 0.7);
    redis('stop');
    await sleep(1500);
    redis('start');
    faults.push('Redis stopped for 1.5 s at ~70% judged');

    await until(gql, inspectionId, 1);
    await sageMakerFaults;
    await sleep(2000);
    const found = await verify(db.env.DATABASE_URL, inspectionId);
    const heard = new Set(listener.heard);
    const result = {
      uploaded: IMAGES,
      faults,
      ...found,
      anomalies: found.anomalies.length,
      eventsHeard: listener.heard.length,
      eventsLost: found.anomalies.filter((id) => !heard.has(Buffer.from(`Anomaly:${id}`).toString('base64url'))).length,
      eventsDoubled: listener.heard.length - heard.size,
      eventsRepeatedAtResume: listener.repeats(),
      s3Requests: { forwarded: aws.s3.forwarded, failedOnPurpose: aws.s3.injected },
      sageMakerCalls: { forwarded: aws.sagemaker.forwarded, failedOnPurpose: aws.sagemaker.injected, answered: aws.endpoint.invocations },
    };
    console.log(JSON.stringify(result, null, 2));
    const ok = (v: number) => (v === 0 ? 'met' : 'NOT met');
    console.log(
      `0 lost (images without a judgement): ${ok(result.imagesWithoutScreen + result.imagesWithoutOutcome)}; 0 doubled: ${ok(result.detectionsDoubled + result.anomaliesDoubled)}; 0 stuck: ${ok(result.runsStuck)}; 0 events lost: ${ok(result.eventsLost)}`,
    );
    writeResult('faults', result);
  } finally {
    await listener.close();
    await server.stop();
    await db.cleanup();
    await aws.close();
    fs.rmSync(modelsDir, { recursive: true, force: true });
  }
}

runBench(main);
