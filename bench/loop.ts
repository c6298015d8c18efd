// npm run bench:loop -- <dataset-dir> [--seed-normals 30] [--retrain-every 40] [--max-labels 300]
//                       [--batch 60] [--test-share 0.3] [--seed 7] [--out bench/results] [--keep] [--no-training]
//
// The active-learning loop end to end, through the GraphQL API of an in-process app on the
// embedded defaults: a fixed TEST split and a few normal images are imported, both models are
// trained and deployed, then batches of the rest are uploaded as inspections; a scripted reviewer
// answers the review tasks the workflow creates from the ground truth, and every
// --retrain-every labels both models are trained again and offered to the deploy gate.
// Prints one line per training round; writes <out>/loop-<dataset>.{json,svg,png}.
import '../src/runtime-defaults';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import sharp from 'sharp';
import { startApp } from '../src/app/app';
import { loadConfig } from '../src/config/config';
import { readDatasetFolder, stratifiedSplit, type DatasetItem } from '../src/anomaly-model/dataset';
import { seededRandom, shuffle } from '../src/anomaly-model/numeric';
import { writeFolder } from './dataset-folder';
import { GraphQLClient, GraphQLRequestError } from './graphql-client';
import { renderLoopSvg, svgToPng } from './loop-plot';
import { repoRelative } from './repo-paths';

const ADMIN = 'bench-admin-secret-0123456789abcdef';
const POLL_MS = 250;

type Profile = 'SCREEN' | 'INSPECT';
/** As the API takes it (BoxInput): shares of the image from its top-left corner. */
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Metrics {
  auroc: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  reviewBandShare: number | null;
  testCount: number | null;
  threshold: number | null;
  accuracyOutsideBand: number | null;
  splitHash: string | null;
  confusion: { tp: number; fp: number; tn: number; fn: number } | null;
}
interface SplitCounts {
  count: number;
  normal: number;
  anomalous: number;
}
interface TrainedOn {
  entries: number;
  splitHash: string;
  train: SplitCounts;
  test: SplitCounts;
}
interface Deploy {
  outcome: 'accepted' | 'refused' | 'error' | 'skipped';
  message?: string;
  deploymentId?: string;
  previousId?: string | null;
  overridden?: boolean;
  gate?: { passed: boolean; reasons: string[] } | null;
}
interface ProfileRound {
  versionId: string | null;
  /** What detections record as their modelVersion. */
  version: string | null;
  status: string;
  error: string | null;
  cause: string | null;
  metrics: Metrics | null;
  trainedOn: TrainedOn | null;
  trainSeconds: number;
  deploy: Deploy;
}
interface Round {
  round: number;
  labels: number;
  tasks: number;
  imagesUploaded: number;
  at: string;
  seconds: number;
  screen: ProfileRound;
  inspect: ProfileRound;
}
interface Batch {
  batch: number;
  images: number;
  refused: number;
  uploadSeconds: number;
  workflowSeconds: number;
  workflowStatus: string;
  reviewSeconds: number;
  tasks: Record<string, number>;
  /** Images the models decided without a person, and how many of those verdicts were wrong. */
  auto: { decided: number; missed: number; falseAlarms: number; clearedByScreen: number; missedByScreen: number };
  truth: { normal: number; anomalous: number };
}

function parseArgs(argv: string[]) {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--keep' || argv[i] === '--no-training') flags.set(argv[i].slice(2), '1');
    else if (argv[i].startsWith('--')) flags.set(argv[i].slice(2), argv[++i]);
    else positional.push(argv[i]);
  }
  const num = (name: string, fallback: number) => {
    const v = Number(flags.get(name) ?? fallback);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: expected a number, got ${flags.get(name)}`);
    return v;
  };
  if (positional.length !== 1)
    throw new Error(
      'usage: npm run bench:loop -- <dataset-dir> [--seed-normals 30] [--retrain-every 40] [--max-labels 300] [--batch 60] [--test-share 0.3] [--seed 7] [--out dir] [--keep]',
    );
  return {
    folder: positional[0],
    seedNormals: num('seed-normals', 30),
    retrainEvery: Math.max(1, num('retrain-every', 40)),
    maxLabels: num('max-labels', 300),
    batch: Math.max(1, num('batch', 60)),
    testShare: num('test-share', 0.3),
    seed: num('seed', 7),
    out: path.resolve(flags.get('out') ?? path.join(__dirname, '..', '..', 'bench', 'results')),
    keep: flags.has('keep'),
    /** Skip importDataset and training: every image becomes a COLD_START task (checks the upload and review path). */
    noTraining: flags.has('no-training'),
  };
}

/** `…/insulator/crops` → insulator-crops; `…/magnetic-tile` → magnetic-tile. */
function datasetName(folder: string): string {
  const parts = path.resolve(folder).split(path.sep).filter(Boolean);
  const last = parts[parts.length - 1];
  return ['crops', 'frames', 'images'].includes(last) && parts.length > 1 ? `${parts[parts.length - 2]}-${last}` : last;
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
const seconds = (since: number) => (performance.now() - since) / 1000;

/** One box per 8-connected white blob of the mask (largest first, at most `max`); empty when the mask is blank. */
async function maskBoxes(mask: Buffer, max = 20): Promise<Box[]> {
  const { data, info } = await sharp(mask).greyscale().raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h, channels } = info;
  const seen = new Uint8Array(w * h);
  const on = (i: number) => data[i * channels] > 127;
  const blobs: { area: number; box: Box }[] = [];
  const stack: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || !on(start)) continue;
    let [x0, y0, x1, y1, area] = [w, h, 0, 0, 0];
    seen[start] = 1;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % w;
      const y = (p - x) / w;
      area++;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const q = ny * w + nx;
          if (!seen[q] && on(q)) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    if (area >= 4) blobs.push({ area, box: { x: x0 / w, y: y0 / h, width: (x1 - x0 + 1) / w, height: (y1 - y0 + 1) / h } });
  }
  return blobs
    .sort((a, b) => b.area - a.area)
    .slice(0, max)
    .map((b) => b.box);
}

function bar(label: string, total: number): SingleBar {
  const b = new SingleBar(
    { stream: process.stderr, format: `${label.padEnd(22)} {bar} {value}/{total} {extra}`, hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );
  b.start(total, 0, { extra: '' });
  return b;
}

const fixed = (v: number | null | undefined, d = 3) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
const pctOf = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(1)}%`);
const deployMark = (d: Deploy) => ({ accepted: 'yes', refused: 'REFUSED', error: 'error', skipped: '-' })[d.outcome];

const HEAD = [
  'round',
  'labels',
  'train entries',
  'test AUROC',
  'F1',
  'precision',
  'recall',
  'review band',
  'tasks',
  'deployed S/I',
  'train s',
];
const WIDTHS = [5, 6, 13, 10, 6, 9, 6, 11, 6, 16, 7];
function roundCells(r: Round): string[] {
  const m = r.inspect.metrics;
  const failed = r.inspect.status !== 'TRAINED' ? ` (${r.inspect.status})` : '';
  return [
    String(r.round),
    String(r.labels),
    String(r.inspect.trainedOn?.train.count ?? 'n/a') + failed,
    fixed(m?.auroc),
    fixed(m?.f1),
    fixed(m?.precision),
    fixed(m?.recall),
    pctOf(m?.reviewBandShare),
    String(r.tasks),
    `${deployMark(r.screen.deploy)}/${deployMark(r.inspect.deploy)}`,
    r.seconds.toFixed(1),
  ];
}
const line = (cells: string[]) => cells.map((c, i) => c.padStart(WIDTHS[i])).join('  ');

type Options = ReturnType<typeof parseArgs>;
type Config = ReturnType<typeof loadConfig>;
type Counts = { total: number; normal: number; anomalous: number };
type Answer = { verdict: 'NORMAL' | 'ANOMALOUS'; regions: { box: Box; type: string }[] };
type Ticket = {
  uploadUrl: string | null;
  uploadHeaders: Record<string, string> | null;
  image: { id: string } | null;
  problem: { code: string; message: string } | null;
};
type Completed = { id: string; status: string; rejection: { reason: string; message: string } | null };
type Judged = {
  reviewTasks: { reason: string; image: { id: string } }[];
  images: { nodes: { id: string; detections: { stage: string; isAnomalous: boolean }[] }[] };
};

/** Step 1: a fixed test split, a shuffled pool, and a few normal images from the pool as the seed. */
interface Plan {
  name: string;
  deviceType: string;
  datasetRoot: string;
  testItems: DatasetItem[];
  seedItems: DatasetItem[];
  pool: DatasetItem[];
  anomalyTypes: string[];
  counts: Record<'all' | 'test' | 'seed' | 'pool', Counts>;
}

const countOf = (items: DatasetItem[]): Counts => ({
  total: items.length,
  normal: items.filter((i) => i.label === 'normal').length,
  anomalous: items.filter((i) => i.label === 'anomalous').length,
});

async function planDataset(opts: Options): Promise<Plan> {
  const name = datasetName(opts.folder);
  const deviceType = `bench-loop-${name}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 100);
  const dataset = await readDatasetFolder(opts.folder);
  const { first: testItems, second: rest } = stratifiedSplit(dataset.items, opts.testShare, opts.seed);
  const shuffled = shuffle(rest, seededRandom(opts.seed + 1));
  const seedItems = shuffled.filter((i) => i.label === 'normal').slice(0, opts.seedNormals);
  const seedIds = new Set(seedItems.map((i) => i.id));
  const pool = shuffled.filter((i) => !seedIds.has(i.id));
  const types = [...new Set(dataset.items.map((i) => i.type).filter((t): t is string => t !== null))].sort();
  const anomalyTypes = [...new Set([...types.map((t) => t.toLowerCase()), 'other'])];
  const counts = { all: countOf(dataset.items), test: countOf(testItems), seed: countOf(seedItems), pool: countOf(pool) };
  console.log(
    `${name}: ${counts.all.total} images (${counts.all.normal} normal, ${counts.all.anomalous} anomalous; types ${types.join(', ') || 'none'})`,
  );
  console.log(
    `  test ${counts.test.total} (${counts.test.normal}/${counts.test.anomalous}), seed ${counts.seed.total} normal, pool ${counts.pool.total} (${counts.pool.normal}/${counts.pool.anomalous})`,
  );
  console.log(`  batch ${opts.batch}, retrain every ${opts.retrainEvery} labels, at most ${opts.maxLabels} labels, seed ${opts.seed}`);
  return { name, deviceType, datasetRoot: dataset.root, testItems, seedItems, pool, anomalyTypes, counts };
}

function loopConfig(root: string, anomalyTypes: string[]): Config {
  return loadConfig({
    DATA_DIR: path.join(root, 'data'),
    // The seed and test folders are written under root (importDataset reads only under IMPORT_ROOT).
    IMPORT_ROOT: root,
    PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    VIGIL_ADMIN_API_KEY: ADMIN,
    API_KEY_CACHE_MS: '60000',
    // Reviewed labels all go to TRAIN: the test split stays the imported one.
    DATASET_TEST_SHARE: '0',
    // The bench drives retraining itself.
    MODEL_RETRAIN_AFTER_LABELS: '0',
    REVIEW_QA_SHARE: process.env.REVIEW_QA_SHARE ?? '0.05',
    ANOMALY_TYPES: anomalyTypes.join(','),
    // Insulator crops are long and thin (a third are under 80 px across): accept them as the test split does.
    UPLOAD_MIN_SIDE: process.env.UPLOAD_MIN_SIDE ?? '16',
  });
}

/** One run of the loop against the app: what it has done so far, and the steps that do it. */
class LoopBench {
  readonly rounds: Round[] = [];
  readonly batches: Batch[] = [];
  readonly imports: Record<string, unknown> = {};
  readonly tasksByReason: Record<string, number> = {};
  readonly labelsByTruth = { normal: 0, anomalous: 0 };
  labels = 0;
  tasks = 0;
  uploaded = 0;
  private datasetId = '';
  private labelsAtLastTraining = 0;
  /** The dataset item behind each image this bench uploaded. */
  private readonly truthByImage = new Map<string, DatasetItem>();
  private readonly answers = new Map<string, Answer>();

  constructor(
    readonly opts: Options,
    readonly plan: Plan,
    readonly config: Config,
    readonly gql: GraphQLClient,
    readonly started: number,
  ) {}

  /** importDataset, both splits, into the device type's dataset. */
  async importSplits(seedFolder: string, testFolder: string): Promise<void> {
    this.datasetId = await this.importFolder(seedFolder, 'TRAIN');
    const testDatasetId = await this.importFolder(testFolder, 'TEST');
    if (testDatasetId !== this.datasetId)
      console.warn(`warning: the two imports went to different datasets (${this.datasetId}, ${testDatasetId})`);
  }

  private async importFolder(folder: string, split: 'TRAIN' | 'TEST'): Promise<string> {
    const t0 = performance.now();
    const res = (
      await this.gql.request(
        `mutation($deviceType: String!, $folder: String!) { importDataset(input: { deviceType: $deviceType, folder: $folder, split: ${split} }) { dataset { id } imported unchanged errors { path message } } }`,
        { deviceType: this.plan.deviceType, folder },
      )
    ).importDataset;
    this.imports[split] = { ...res, seconds: seconds(t0) };
    console.log(
      `importDataset ${split}: ${res.imported} imported, ${res.unchanged} unchanged, ${res.errors.length} errors in ${seconds(t0).toFixed(1)} s`,
    );
    for (const e of res.errors.slice(0, 5)) console.log(`  ${e.path}: ${e.message}`);
    return res.dataset.id as string;
  }

  /** 3. One training round: both profiles, one after the other, each offered to the deploy gate. */
  async trainRound(): Promise<void> {
    if (this.opts.noTraining) return;
    const t0 = performance.now();
    const screen = await this.trainProfile('SCREEN');
    const inspect = await this.trainProfile('INSPECT');
    const round: Round = {
      round: this.rounds.length,
      labels: this.labels,
      tasks: this.tasks,
      imagesUploaded: this.uploaded,
      at: new Date().toISOString(),
      seconds: seconds(t0),
      screen,
      inspect,
    };
    this.rounds.push(round);
    this.labelsAtLastTraining = this.labels;
    if (round.round === 0) console.log(`\n${line(HEAD)}`);
    console.log(line(roundCells(round)));
    for (const [p, r] of [
      ['screen', screen],
      ['inspect', inspect],
    ] as const) {
      if (r.deploy.outcome === 'refused' || r.deploy.outcome === 'error' || r.status !== 'TRAINED')
        console.log(
          `      ${p}: ${r.status}${r.error ? ` (${r.error}${r.cause ? `: ${r.cause}` : ''})` : ''}; deploy ${r.deploy.outcome}${r.deploy.message ? `: ${r.deploy.message}` : ''}`,
        );
    }
  }

  private async trainProfile(profile: Profile): Promise<ProfileRound> {
    const t0 = performance.now();
    const version = await this.train(profile, t0);
    const trainSeconds = seconds(t0);
    const deploy: Deploy =
      version.status === 'TRAINED' ? await this.deploy(version.id) : { outcome: 'skipped', message: `training ${version.status}` };
    return {
      versionId: version.id,
      version: version.version ?? null,
      status: version.status,
      error: version.error ?? null,
      cause: version.cause ?? null,
      metrics: version.metrics ?? null,
      trainedOn: version.trainedOn ?? null,
      trainSeconds,
      deploy,
    };
  }

  /** trainModel, then modelVersion until TRAINED or FAILED. */
  private async train(profile: Profile, t0: number) {
    let version = (
      await this.gql.request(`mutation($id: ID!) { trainModel(input: { datasetId: $id, profile: ${profile} }) { id status } }`, {
        id: this.datasetId,
      })
    ).trainModel;
    const id = version.id as string;
    const b = bar(`train ${profile.toLowerCase()}`, 1);
    // Poll at least once: metrics and trainedOn come with modelVersion, even when training was synchronous.
    for (let polls = 0; polls === 0 || !['TRAINED', 'FAILED'].includes(version.status); polls++) {
      if (polls) await sleep(1000);
      version = (
        await this.gql.request(
          `query($id: ID!) { modelVersion(id: $id) { id status error cause version metrics { auroc precision recall f1 reviewBandShare accuracyOutsideBand threshold testCount splitHash confusion { tp fp tn fn } } trainedOn { entries splitHash train { count normal anomalous } test { count normal anomalous } } } }`,
          { id },
        )
      ).modelVersion;
      if (!version) throw new Error(`modelVersion(id: ${id}) is null right after trainModel returned it`);
      b.update(0, { extra: `${version.status} ${seconds(t0).toFixed(0)} s` });
    }
    b.update(1, { extra: `${version.status} in ${seconds(t0).toFixed(1)} s` });
    b.stop();
    return version;
  }

  private async deploy(versionId: string): Promise<Deploy> {
    try {
      const d = (
        await this.gql.request(
          `mutation($id: ID!) { deployModel(input: { id: $id }) { id model { id } previous { id } overridden gate { passed reasons } } }`,
          { id: versionId },
        )
      ).deployModel;
      return { outcome: 'accepted', deploymentId: d.id, previousId: d.previous?.id ?? null, overridden: d.overridden, gate: d.gate };
    } catch (err) {
      if (err instanceof GraphQLRequestError && err.code === 'GATE_REFUSED') return { outcome: 'refused', message: err.errors[0].message };
      return { outcome: 'error', message: (err as Error).message };
    }
  }

  /** 4. The loop: one device, one inspection per batch, a scripted reviewer answering from the truth. */
  async run(reviewer: GraphQLClient): Promise<void> {
    const { opts, plan } = this;
    const device = (
      await this.gql.request(`mutation($i: DeviceInput!) { createDevice(input: $i) { id } }`, {
        i: { externalId: `${plan.deviceType}-${Date.now()}`, name: `loop bench ${plan.name}`, type: plan.deviceType },
      })
    ).createDevice;
    let next = 0;
    while (next < plan.pool.length && this.labels < opts.maxLabels) {
      const items = plan.pool.slice(next, next + opts.batch);
      next += items.length;
      await this.runBatch(device.id, reviewer, items);
      if (this.labels - this.labelsAtLastTraining >= opts.retrainEvery) await this.trainRound();
    }
    if (this.labels > this.labelsAtLastTraining) await this.trainRound();
    console.log(
      `\nstopped: ${next >= plan.pool.length ? 'pool used up' : `${this.labels} labels ≥ --max-labels ${opts.maxLabels}`}; ${this.uploaded} images uploaded, ${this.tasks} tasks answered (${Object.entries(
        this.tasksByReason,
      )
        .map(([r, n]) => `${r} ${n}`)
        .join(', ')})`,
    );
  }

  private async runBatch(deviceId: string, reviewer: GraphQLClient, items: DatasetItem[]): Promise<void> {
    const batchNo = this.batches.length + 1;
    const tUpload = performance.now();
    const { inspectionId, ready, refused } = await this.upload(deviceId, batchNo, items);
    const uploadSeconds = seconds(tUpload);
    const tRun = performance.now();
    const workflowStatus = await this.waitForWorkflow(inspectionId, batchNo, ready);
    const workflowSeconds = seconds(tRun);
    const { auto, truth } = await this.judge(inspectionId);
    const tReview = performance.now();
    const tasks = await this.review(reviewer, batchNo);
    this.batches.push({
      batch: batchNo,
      images: items.length,
      refused,
      uploadSeconds,
      workflowSeconds,
      workflowStatus,
      reviewSeconds: seconds(tReview),
      tasks,
      auto,
      truth,
    });
    console.error(
      `batch ${batchNo}: ${items.length} images (${truth.anomalous} anomalous), ${
        Object.entries(tasks)
          .map(([r, n]) => `${n} ${r}`)
          .join(', ') || 'no tasks'
      }; models decided ${auto.decided} (screen cleared ${auto.clearedByScreen}) with ${auto.missed} anomalies missed (${auto.missedByScreen} by the screen), ${auto.falseAlarms} false alarms; labels ${this.labels}`,
    );
  }

  /** Upload: requestImageUploads → PUT → completeImageUploads (which starts the workflow). */
  private async upload(
    deviceId: string,
    batchNo: number,
    items: DatasetItem[],
  ): Promise<{ inspectionId: string; ready: number; refused: number }> {
    const inspection = (
      await this.gql.request(`mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }`, {
        i: { deviceId, source: 'DRONE', capturedAt: new Date().toISOString() },
      })
    ).createInspection;
    const bytes = await Promise.all(items.map((i) => i.load()));
    const files = items.map((item, i) => ({
      filename: path.basename(item.id),
      contentType: /\.png$/i.test(item.id) ? 'image/png' : 'image/jpeg',
      byteSize: bytes[i].length,
      sha256: sha256(bytes[i]),
    }));
    const tickets = (
      await this.gql.request(
        `mutation($i: ID!, $f: [UploadFileInput!]!) { requestImageUploads(inspectionId: $i, files: $f) { uploadUrl uploadHeaders image { id } problem { code message } } }`,
        { i: inspection.id, f: files },
      )
    ).requestImageUploads as Ticket[];
    const up = bar(`batch ${batchNo} upload`, items.length);
    const imageIds: string[] = [];
    let refused = 0;
    for (const [i, t] of tickets.entries()) {
      if (!t.image) {
        refused++;
        console.warn(`\n${items[i].id} refused: ${t.problem?.code} ${t.problem?.message}`);
      } else {
        this.truthByImage.set(t.image.id, items[i]);
        imageIds.push(t.image.id);
        if (t.uploadUrl) {
          const res = await fetch(t.uploadUrl, { method: 'PUT', body: bytes[i], headers: t.uploadHeaders ?? {} });
          if (!res.ok) throw new Error(`PUT ${items[i].id}: HTTP ${res.status} ${await res.text()}`);
        }
      }
      up.increment();
    }
    up.update({ extra: 'completeImageUploads…' });
    const completed = (
      await this.gql.request(`mutation($ids: [ID!]!) { completeImageUploads(imageIds: $ids) { id status rejection { reason message } } }`, {
        ids: imageIds,
      })
    ).completeImageUploads as Completed[];
    const rejected = completed.filter((c) => c.status === 'REJECTED');
    refused += rejected.length;
    up.update({ extra: `${completed.length - rejected.length} READY${rejected.length ? `, ${rejected.length} REJECTED` : ''}` });
    up.stop();
    for (const r of rejected) console.warn(`${this.truthByImage.get(r.id)?.id} rejected: ${r.rejection?.reason} ${r.rejection?.message}`);
    this.uploaded += completed.length - rejected.length;
    return { inspectionId: inspection.id, ready: completed.length - rejected.length, refused };
  }

  /** Waits for the detection run to finish; returns its status. */
  private async waitForWorkflow(inspectionId: string, batchNo: number, images: number): Promise<string> {
    const wf = bar(`batch ${batchNo} workflow`, images);
    let runStatus = 'NONE';
    for (let polls = 0; ; polls++) {
      const insp = (
        await this.gql.request(
          `query($id: ID!) { inspection(id: $id) { status workflowRuns { id status error cause progress { done total } } } }`,
          { id: inspectionId },
        )
      ).inspection;
      const run = insp.workflowRuns.at(-1);
      if (run) {
        wf.setTotal(run.progress.total);
        wf.update(run.progress.done, { extra: run.status });
        runStatus = run.status;
        if (run.status === 'FAILED') console.warn(`\nworkflow run failed: ${run.error} ${run.cause}`);
        if (['SUCCEEDED', 'FAILED'].includes(run.status)) break;
      } else if (polls === 40) {
        // Auto-start did not happen within 10 s: start it ourselves.
        await this.gql.request(`mutation($id: ID!) { startInspection(inspectionId: $id) { id } }`, { id: inspectionId });
      }
      await sleep(POLL_MS);
    }
    wf.stop();
    return runStatus;
  }

  /** What the models decided without a person (no LOW_CONFIDENCE or COLD_START task; QA and active-learning picks are checks of a decision already made), judged against the truth. */
  private async judge(inspectionId: string): Promise<Pick<Batch, 'auto' | 'truth'>> {
    const judged = (
      await this.gql.request(
        `query($id: ID!) { inspection(id: $id) { reviewTasks { reason image { id } } images(first: 500) { nodes { id detections { stage isAnomalous } } } } }`,
        { id: inspectionId },
      )
    ).inspection as Judged;
    const askedPerson = new Set(
      judged.reviewTasks.filter((t) => t.reason !== 'SAMPLED_QA' && t.reason !== 'ACTIVE_LEARNING').map((t) => t.image.id),
    );
    const auto = { decided: 0, missed: 0, falseAlarms: 0, clearedByScreen: 0, missedByScreen: 0 };
    const truth = { normal: 0, anomalous: 0 };
    for (const img of judged.images.nodes) {
      const item = this.truthByImage.get(img.id);
      if (!item) continue;
      truth[item.label]++;
      if (askedPerson.has(img.id)) continue;
      const inspectD = img.detections.filter((d) => d.stage === 'INSPECT').at(-1);
      const screenD = img.detections.filter((d) => d.stage === 'SCREEN').at(-1);
      const verdict = inspectD ? inspectD.isAnomalous : screenD && !screenD.isAnomalous ? false : null;
      if (verdict === null) continue;
      if (!inspectD) auto.clearedByScreen++;
      auto.decided++;
      if (verdict && item.label === 'normal') auto.falseAlarms++;
      if (!verdict && item.label === 'anomalous') auto.missed++;
      if (!inspectD && item.label === 'anomalous') auto.missedByScreen++;
    }
    return { auto, truth };
  }

  /** The scripted reviewer: claim, look up the image (ADMIN), answer from the truth. Returns the batch's tasks by reason. */
  private async review(reviewer: GraphQLClient, batchNo: number): Promise<Record<string, number>> {
    const batchTasks: Record<string, number> = {};
    const pending = (await this.gql.request(`{ reviewStats { pending } }`)).reviewStats.pending as number;
    const rv = bar(`batch ${batchNo} review`, pending);
    const skip: string[] = [];
    while (this.labels < this.opts.maxLabels) {
      const task = (await reviewer.request(`mutation($skip: [ID!]) { claimNextReview(skip: $skip) { id reason } }`, { skip }))
        .claimNextReview;
      if (!task) break;
      const imageId = (await this.gql.request(`query($id: ID!) { reviewTask(id: $id) { image { id } } }`, { id: task.id })).reviewTask.image
        .id as string;
      const item = this.truthByImage.get(imageId);
      if (!item) {
        // Not an image this bench uploaded: give it back and do not take it again.
        await reviewer.request(`mutation($id: ID!) { releaseReview(taskId: $id) { id } }`, { id: task.id });
        skip.push(task.id);
        continue;
      }
      const { verdict, regions } = await this.answerFor(item);
      const done = (
        await reviewer.request(
          `mutation($id: ID!, $v: ReviewVerdict!, $r: [ReviewRegionInput!]) { submitReview(taskId: $id, verdict: $v, regions: $r) { status } }`,
          { id: task.id, v: verdict, r: regions },
        )
      ).submitReview;
      this.tasks++;
      this.tasksByReason[task.reason] = (this.tasksByReason[task.reason] ?? 0) + 1;
      batchTasks[task.reason] = (batchTasks[task.reason] ?? 0) + 1;
      if (done.status === 'COMPLETED') {
        this.labels++;
        this.labelsByTruth[item.label]++;
      }
      if (rv.getTotal() < this.tasks) rv.setTotal(rv.getTotal() + 1);
      rv.increment({ extra: `${this.labels} labels` });
    }
    rv.stop();
    return batchTasks;
  }

  /** The ground truth as a reviewer would give it: the verdict, and one box per blob of the mask (the whole image without one). */
  private async answerFor(item: DatasetItem): Promise<Answer> {
    const cached = this.answers.get(item.id);
    if (cached) return cached;
    const { anomalyTypes } = this.plan;
    const type = item.type && anomalyTypes.includes(item.type.toLowerCase()) ? item.type.toLowerCase() : 'other';
    let boxes: Box[] = [];
    if (item.label === 'anomalous' && item.loadMask) boxes = await maskBoxes(await item.loadMask());
    if (item.label === 'anomalous' && !boxes.length) boxes = [{ x: 0, y: 0, width: 1, height: 1 }];
    const answer = {
      verdict: item.label === 'anomalous' ? ('ANOMALOUS' as const) : ('NORMAL' as const),
      regions: boxes.map((box) => ({ box, type })),
    };
    this.answers.set(item.id, answer);
    return answer;
  }

  /** The summary table and the result files, whatever stopped the run (when it got far enough to have any). */
  async finish(): Promise<void> {
    let finalCounts: unknown = null;
    try {
      finalCounts =
        (await this.gql.request(`{ datasets { id deviceType counts { total test anomalous } } }`)).datasets.find(
          (d: { deviceType: string }) => d.deviceType === this.plan.deviceType,
        ) ?? null;
    } catch {
      // The summary can do without them.
    }
    if (this.rounds.length || this.batches.length) {
      const table = new Table({ head: HEAD, style: process.stdout.isTTY ? {} : { head: [], border: [] } });
      for (const r of this.rounds) table.push(roundCells(r));
      console.log(`\n${table.toString()}`);
      const paths = await this.writeResults(finalCounts);
      console.log(`\ntotal ${seconds(this.started).toFixed(0)} s; results:\n  ${paths.join('\n  ')}`);
    }
  }

  /** <out>/loop-<dataset>.{json,svg,png}; the JSON records paths relative to the repository root. */
  private async writeResults(finalCounts: unknown): Promise<string[]> {
    const { opts, config, plan } = this;
    const { name, counts } = plan;
    fs.mkdirSync(opts.out, { recursive: true });
    const jsonPath = path.join(opts.out, `loop-${name}.json`);
    const svgPath = path.join(opts.out, `loop-${name}.svg`);
    const pngPath = path.join(opts.out, `loop-${name}.png`);
    const result = {
      dataset: {
        name,
        folder: repoRelative(opts.folder),
        deviceType: plan.deviceType,
        anomalyTypes: plan.anomalyTypes,
        counts,
        final: finalCounts,
      },
      config: {
        ...opts,
        folder: repoRelative(opts.folder),
        out: repoRelative(opts.out),
        env: {
          DATASET_TEST_SHARE: 0,
          MODEL_RETRAIN_AFTER_LABELS: 0,
          REVIEW_QA_SHARE: config.reviews.qaShare,
          UPLOAD_MIN_SIDE: config.uploads.limits.minSide,
        },
      },
      totals: {
        labels: this.labels,
        tasks: this.tasks,
        uploaded: this.uploaded,
        tasksByReason: this.tasksByReason,
        labelsByTruth: this.labelsByTruth,
        seconds: seconds(this.started),
      },
      imports: this.imports,
      rounds: this.rounds,
      batches: this.batches,
    };
    fs.writeFileSync(jsonPath, JSON.stringify(result, null, 2));
    const svg = renderLoopSvg({
      title: `vigil active-learning loop — ${name}`,
      subtitle: `test ${counts.test.total} images (${counts.test.anomalous} anomalous) · seed ${counts.seed.total} normal · batch ${opts.batch} · retrain every ${opts.retrainEvery} labels · ${this.tasks} review tasks`,
      points: this.rounds.map((r) => ({
        labels: r.labels,
        auroc: r.inspect.metrics?.auroc ?? null,
        f1: r.inspect.metrics?.f1 ?? null,
        reviewBandShare: r.inspect.metrics?.reviewBandShare ?? null,
        deployed: r.inspect.deploy.outcome === 'accepted',
      })),
    });
    fs.writeFileSync(svgPath, svg);
    fs.writeFileSync(pngPath, await svgToPng(svg));
    return [jsonPath, svgPath, pngPath];
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const plan = await planDataset(opts);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-loop-'));
  const seedFolder = writeFolder(plan.datasetRoot, path.join(root, 'seed'), plan.seedItems);
  const testFolder = writeFolder(plan.datasetRoot, path.join(root, 'test'), plan.testItems);
  const config = loopConfig(root, plan.anomalyTypes);
  const app = await startApp(config);
  const bench = new LoopBench(opts, plan, config, new GraphQLClient(app.url, ADMIN), started);
  try {
    if (!opts.noTraining) await bench.importSplits(seedFolder, testFolder);
    await bench.trainRound();
    const reviewer = bench.gql.withApiKey((await app.services.apiKeys.create('bench loop reviewer', 'REVIEWER')).secret);
    await bench.run(reviewer);
  } catch (err) {
    if (err instanceof GraphQLRequestError)
      console.error(
        `\nGraphQL error: ${err.message}\nquery: ${err.query.replace(/\s+/g, ' ')}\nvariables: ${JSON.stringify(err.variables)}`,
      );
    throw err;
  } finally {
    await bench.finish();
    await app.stop();
    if (opts.keep) console.log(`kept ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof GraphQLRequestError ? '' : err);
  process.exit(1);
});
