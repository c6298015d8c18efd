// npm run bench:training -- [dataset-dir] [--images 200] [--seconds 10] [--connections 8] [--pglite]
// API latency while the built-in model trains, with the training on the API's thread and on a worker
// thread (MODEL_TRAINING_THREAD=false / true), each on a fresh database in one run. For each mode: the
// same read query is loaded with autocannon while nothing trains (idle), then while an INSPECT
// training runs; the window must end before the training does. Target: p99 while training ≤ 1.5× idle.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Table from 'cli-table3';
import { readDatasetFolder, stratifiedSplit } from '../src/anomaly-model/dataset';
import { PROJECT_ROOT } from '../src/common/paths';
import { benchDatabase, flag, opt, peakRssMb, runBench, seedFleet, startBenchServer, writeResult } from './bench-server';
import { writeFolder } from './dataset-folder';
import { GraphQLClient } from './graphql-client';

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const DATASET = path.resolve(positional[0] ?? path.join(PROJECT_ROOT, '../shared/datasets/magnetic-tile'));
const IMAGES = opt('images', 200);
const SECONDS = opt('seconds', 10);
const CONNECTIONS = opt('connections', 8);
const PGLITE = flag('pglite');
const PORT = opt('port', 4598);
const SECRET = `bench-admin-secret-${crypto.randomBytes(8).toString('hex')}`;
const QUERY = '{ devices(first: 20) { nodes { id name status inspections(last: 1) { nodes { id status } } } } }';

interface Window {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

async function load(url: string, seconds: number): Promise<Window> {
  const r = await autocannon({
    url: `${url}/graphql`,
    method: 'POST',
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: QUERY }),
    connections: CONNECTIONS,
    duration: seconds,
  });
  return {
    requestsPerSecond: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors + r.non2xx + r.timeouts,
  };
}

/** A subset of the dataset (stratified, 30% kept for the test split) written as two import folders. */
async function importFolders(root: string) {
  const dataset = await readDatasetFolder(DATASET);
  const { first: subset } = stratifiedSplit(dataset.items, Math.min(1, IMAGES / dataset.items.length), 11);
  const { first: test, second: train } = stratifiedSplit(subset, 0.3, 12);
  const types = [...new Set(subset.map((i) => i.type).filter((t): t is string => t !== null))].sort();
  return {
    train: writeFolder(dataset.root, path.join(root, 'train'), train),
    test: writeFolder(dataset.root, path.join(root, 'test'), test),
    counts: { train: train.length, test: test.length },
    types,
  };
}

async function measureMode(thread: boolean, importRoot: string, folders: Awaited<ReturnType<typeof importFolders>>) {
  const db = await benchDatabase({ pglite: PGLITE, seed: (d) => seedFleet(d, 500, 2) });
  const server = await startBenchServer(
    {
      ...db.env,
      RATE_LIMIT_PER_KEY: '0',
      IMPORT_ROOT: importRoot,
      DATASET_TEST_SHARE: '0',
      MODEL_RETRAIN_AFTER_LABELS: '0',
      MODEL_AUTO_DEPLOY: 'false',
      ANOMALY_TYPES: folders.types.join(','),
      MODEL_TRAINING_THREAD: String(thread),
    },
    PORT,
    SECRET,
  );
  const pid = server.process.pid!;
  try {
    const gql = new GraphQLClient(server.url, SECRET);
    let datasetId = '';
    for (const [split, folder] of [
      ['TRAIN', folders.train],
      ['TEST', folders.test],
    ] as const) {
      const res = (
        await gql.request(
          `mutation($folder: String!) { importDataset(input: { deviceType: "tile", folder: $folder, split: ${split} }) { dataset { id } imported errors { path message } } }`,
          { folder },
        )
      ).importDataset;
      if (res.errors.length) throw new Error(`importDataset ${split}: ${res.errors[0].path}: ${res.errors[0].message}`);
      datasetId = res.dataset.id;
    }
    // Warm-up, then idle.
    await load(server.url, 2);
    const idle = await load(server.url, SECONDS);

    const started = performance.now();
    const version = (
      await gql.request(`mutation($id: ID!) { trainModel(input: { datasetId: $id, profile: INSPECT }) { id } }`, { id: datasetId })
    ).trainModel;
    // Let the snapshot be taken and the training begin before the window opens.
    await new Promise((r) => setTimeout(r, 1500));
    const training = await load(server.url, SECONDS);
    const statusAfterWindow = await statusOf(gql, version.id);
    let status = statusAfterWindow;
    while (status === 'TRAINING') {
      await new Promise((r) => setTimeout(r, 500));
      status = await statusOf(gql, version.id);
    }
    const trainingSeconds = (performance.now() - started) / 1000;
    return {
      mode: thread ? 'worker thread' : 'API thread',
      database: db.label,
      idle,
      training,
      p99Ratio: Number((training.p99 / Math.max(1, idle.p99)).toFixed(2)),
      windowInsideTraining: statusAfterWindow === 'TRAINING',
      finalStatus: status,
      trainingSeconds: Number(trainingSeconds.toFixed(1)),
      serverPeakRssMb: Math.round(peakRssMb(pid)),
    };
  } finally {
    await server.stop();
    await db.cleanup();
  }
}

async function statusOf(gql: GraphQLClient, id: string): Promise<string> {
  return (await gql.request(`query($id: ID!) { modelVersion(id: $id) { status } }`, { id })).modelVersion.status;
}

async function main() {
  if (!fs.existsSync(DATASET)) throw new Error(`no dataset folder at ${DATASET} (pass one: npm run bench:training -- <dataset-dir>)`);
  const importRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-training-'));
  try {
    const folders = await importFolders(importRoot);
    console.log(
      `${DATASET}: ${folders.counts.train} TRAIN and ${folders.counts.test} TEST images; ${CONNECTIONS} connections, ${SECONDS} s windows`,
    );
    const results = [];
    for (const thread of [false, true]) {
      console.log(`training on the ${thread ? 'worker' : 'API'} thread…`);
      results.push(await measureMode(thread, importRoot, folders));
    }
    const table = new Table({
      head: [
        'training runs on',
        'idle req/s',
        'idle p50 / p99',
        'training req/s',
        'training p50 / p99',
        'p99 ratio',
        'errors',
        'training s',
        'peak RSS',
      ],
    });
    for (const r of results) {
      table.push([
        r.mode,
        r.idle.requestsPerSecond,
        `${r.idle.p50} / ${r.idle.p99} ms`,
        r.training.requestsPerSecond,
        `${r.training.p50} / ${r.training.p99} ms`,
        `${r.p99Ratio}×${r.windowInsideTraining ? '' : ' (window outlived the training)'}`,
        r.idle.errors + r.training.errors,
        r.trainingSeconds,
        `${r.serverPeakRssMb} MB`,
      ]);
    }
    console.log(table.toString());
    const thread = results.find((r) => r.mode === 'worker thread')!;
    const met = thread.p99Ratio <= 1.5 && thread.windowInsideTraining && thread.finalStatus === 'TRAINED';
    console.log(`target: p99 while training ≤ 1.5× idle on the worker thread: ${met ? 'met' : 'NOT met'} (${thread.p99Ratio}×)`);
    writeResult(`training-${PGLITE ? 'pglite' : 'postgres'}`, {
      dataset: DATASET,
      images: folders.counts,
      cores: os.cpus().length,
      results,
    });
  } finally {
    fs.rmSync(importRoot, { recursive: true, force: true });
  }
}

runBench(main);
