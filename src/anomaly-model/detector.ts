import crypto from 'node:crypto';
import sharp from 'sharp';
import { type Backbone } from '../adapters/backbone/backbone.port';
import { ARTIFACT_FORMAT, ARTIFACT_FORMAT_VERSION, assertBackbone, type Manifest, METHOD, type ModelArtifact, type Payload, payloadHash, type Scaler, type ScoreMode } from './artifact';
import { type Dataset, type DatasetItem } from './dataset';
import { fitProjection, type ImageFeatures, imageFeatures, nearestDistances, type PatchHead, project, type Projection, rawFeatures, standardisedRows } from './features';
import { heatmapPng, regionsOf } from './heatmap';
import {
  auroc,
  bestF1Threshold,
  confusion,
  histogramAuroc,
  percentile,
  precisionRecallF1,
  prCurve,
  reviewBand,
  rocCurve,
  type Scored,
  thresholdForRecall,
} from './metrics';
import { applyScaler, fitLogistic, fitScaler, greedyCoreset, type LinearModel, linearScore, seededRandom, shuffle, sigmoid } from './numeric';
import { type EvaluationReport, type PredictResult, type Profile, type ScoredImage, type Thresholds } from './types';

export interface ProfileConfig {
  /** Pixels the backbone sees (the aspect ratio is kept): the cost of a forward pass. */
  area: number;
  /** At most this many numbers per patch descriptor (more channels are randomly projected). */
  dim: number;
  /** Rows of the memory of normal patches. */
  bankSize: number;
}

/** screen: a small picture, as cheap as possible, tuned for recall; inspect: the full picture, tuned for F1. */
export const PROFILES: Record<Profile, ProfileConfig> = {
  screen: { area: 128 * 128, dim: 128, bankSize: 1500 },
  inspect: { area: 160 * 160, dim: 128, bankSize: 3000 },
};

/** Folds of the cross-validation that picks thresholds, calibration and the score mode. */
const FOLDS = 5;
/** Fewer labelled anomalies than this: the image classifier is not trusted; the memory scores. */
const MIN_CLASSIFIER_ANOMALIES = 5;
/** Normal pictures whose descriptors set the projection's per-channel standardisation. */
const PROJECTION_SAMPLE = 32;
/** Normal patches the coreset is chosen from. */
const CORESET_POOL = 40_000;
/** The image's memory score: the mean of its k most anomalous patches. */
const TOP_K = 3;

export interface TrainOptions {
  profile: Profile;
  seed?: number;
  onProgress?: (phase: string, done: number, total: number) => void;
}

interface TrainingImage {
  item: DatasetItem;
  positive: boolean;
  fold: number;
  f: ImageFeatures;
  /** Share of anomalous pixels per patch (the mask on the patch grid); null without a mask. */
  mask: Float32Array | null;
  /** Distance of each patch to the memory, its own patches left out: an out-of-fold score for normals too. */
  memory: Float32Array;
  /** Standardised descriptors of a few cells and whether each is anomalous: what the patch classifier learns from. */
  cells: { index: number[]; rows: Float32Array[]; labels: number[] };
}

/** Normal pictures give a few random cells; a masked anomaly its mask cells and a few clean ones; an unmasked one waits for the memory. */
function sampleCells(positive: boolean, mask: Float32Array | null, count: number, random: () => number): { cells: number[]; labels: number[] } {
  if (!positive) {
    const cells = shuffle([...Array(count).keys()], random).slice(0, 24);
    return { cells, labels: cells.map(() => 0) };
  }
  if (!mask) return { cells: [], labels: [] };
  const on = [...mask.keys()].filter((c) => mask[c] >= 0.25);
  const off = shuffle([...mask.keys()].filter((c) => mask[c] === 0), random).slice(0, 8);
  return { cells: [...on, ...off], labels: [...on.map(() => 1), ...off.map(() => 0)] };
}

const topMean = (values: ArrayLike<number>, k: number) => {
  const sorted = Float32Array.from(values).sort().reverse();
  const n = Math.max(1, Math.min(k, sorted.length));
  let s = 0;
  for (let i = 0; i < n; i++) s += sorted[i];
  return s / n;
};

/** A mask as the share of anomalous pixels per patch of a cols×rows grid. */
async function maskGrid(mask: Buffer, grid: { cols: number; rows: number }): Promise<Float32Array> {
  const data = await sharp(mask).greyscale().resize(grid.cols, grid.rows, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  return Float32Array.from(data, (v) => v / 255);
}

/** The projected descriptor and its squares: what the local patch scorer reads. */
function expanded(f: ImageFeatures, cell: number, out = new Float32Array(2 * f.dim)): Float32Array {
  for (let d = 0; d < f.dim; d++) {
    const v = f.patches[cell * f.dim + d];
    out[d] = v;
    out[f.dim + d] = Math.min(v * v, 25) - 1;
  }
  return out;
}

/** The image's local score: the mean of its k highest patch logits under a classifier of projected descriptors. */
function localScore(model: LinearModel, f: ImageFeatures): number {
  const logits = new Float32Array(f.rows * f.cols);
  const row = new Float32Array(2 * f.dim);
  for (let c = 0; c < logits.length; c++) logits[c] = linearScore(model, expanded(f, c, row));
  return topMean(logits, TOP_K);
}

/** 3c. The local scorer: a patch classifier on projected descriptors (cheap on every patch), out-of-fold image scores, then the model on all pictures. */
function fitLocalScorer(images: TrainingImage[], progress: NonNullable<TrainOptions['onProgress']>) {
  const fit = (part: TrainingImage[]) => {
    const rows = part.flatMap((x) => x.cells.index.map((c) => expanded(x.f, c)));
    const labels = part.flatMap((x) => x.cells.labels);
    const dim = rows[0].length;
    const flat = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => flat.set(r, i * dim));
    return fitLogistic(flat, Uint8Array.from(labels), dim, { epochs: 200, l2: 1e-3 });
  };
  const oof = new Array<number>(images.length);
  for (let k = 0; k < FOLDS; k++) {
    const model = fit(images.filter((x) => x.fold !== k));
    images.forEach((x, i) => {
      if (x.fold === k) oof[i] = localScore(model, x.f);
    });
    progress('local scorer', k + 1, FOLDS + 1);
  }
  const model = fit(images);
  progress('local scorer', FOLDS + 1, FOLDS + 1);
  return { model, oof };
}

function imageLogit(model: LinearModel, scaler: Scaler, pooled: Float32Array): number {
  let z = model.bias;
  for (let d = 0; d < model.weights.length; d++) z += (model.weights[d] * (pooled[d] - scaler.mean[d])) / scaler.scale[d];
  return z;
}

/** Stratified, seeded fold numbers: each label (and anomaly type) spread evenly over the folds. */
function assignFolds(items: DatasetItem[], folds: number, random: () => number): number[] {
  const out = new Array<number>(items.length);
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => groups.set(`${item.label}/${item.type ?? ''}`, [...(groups.get(`${item.label}/${item.type ?? ''}`) ?? []), i]));
  let next = 0;
  for (const key of [...groups.keys()].sort()) {
    for (const i of shuffle(groups.get(key)!, random)) out[i] = next++ % folds;
  }
  return out;
}

/** 1. The projection from a few normal pictures, then every picture's features (and mask) once. */
async function extractAll(backbone: Backbone, items: DatasetItem[], config: ProfileConfig, seed: number, progress: NonNullable<TrainOptions['onProgress']>) {
  const random = seededRandom(seed);
  const normals = shuffle(items.filter((i) => i.label === 'normal'), random).slice(0, PROJECTION_SAMPLE);
  const samples = [];
  let select: number[] | null = null;
  for (const [n, item] of normals.entries()) {
    const raw = await rawFeatures(backbone, await item.load(), config.area);
    samples.push(raw.aggregated);
    if (backbone.memoryTaps) select = raw.taps.filter((t) => backbone.memoryTaps!.includes(t.tap)).flatMap((t) => [...Array(t.count).keys()].map((i) => t.start + i));
    progress('projection', n + 1, normals.length);
  }
  const projection = await fitProjection(samples, config.dim, seed, select?.length ? select : null);
  samples.forEach((s) => s.dispose());
  const folds = assignFolds(items, FOLDS, random);
  const hashes: string[] = [];
  const images: Omit<TrainingImage, 'memory'>[] = [];
  for (const [n, item] of items.entries()) {
    const bytes = await item.load();
    hashes.push(`${item.label}\t${item.type ?? ''}\t${crypto.createHash('sha256').update(bytes).digest('hex')}`);
    const raw = await rawFeatures(backbone, bytes, config.area);
    const positive = item.label === 'anomalous';
    const mask = item.loadMask ? await maskGrid(await item.loadMask(), raw) : null;
    const sample = sampleCells(positive, mask, raw.rows * raw.cols, random);
    const rows = await standardisedRows(raw, projection, sample.cells);
    const f = await project(raw, projection);
    images.push({ item, positive, fold: folds[n], f, mask, cells: { index: sample.cells, rows, labels: sample.labels } });
    progress('features', n + 1, items.length);
  }
  return { projection, images, hashes };
}

/** 2. The memory: a greedy coreset of normal patches, and every training picture's distances to it (its own patches left out). */
async function buildMemory(images: Omit<TrainingImage, 'memory'>[], config: ProfileConfig, random: () => number, progress: NonNullable<TrainOptions['onProgress']>) {
  const normals = images.filter((x) => !x.positive);
  const dim = normals[0].f.dim;
  const rows: { image: number; cell: number }[] = [];
  normals.forEach((x, image) => {
    for (let cell = 0; cell < x.f.rows * x.f.cols; cell++) rows.push({ image, cell });
  });
  const pool = shuffle(rows, random).slice(0, CORESET_POOL);
  const flat = new Float32Array(pool.length * dim);
  pool.forEach((r, k) => flat.set(normals[r.image].f.patches.subarray(r.cell * dim, (r.cell + 1) * dim), k * dim));
  const bankSize = Math.min(config.bankSize, pool.length);
  const chosen = greedyCoreset(flat, dim, bankSize, random, (k) => progress('memory', k, bankSize));
  progress('memory', bankSize, bankSize);
  const bank = new Float32Array(bankSize * dim);
  chosen.forEach((row, k) => bank.set(flat.subarray(row * dim, (row + 1) * dim), k * dim));
  const source = chosen.map((row) => images.indexOf(normals[pool[row].image]));
  const scored: TrainingImage[] = [];
  for (const [n, x] of images.entries()) {
    scored.push({ ...x, memory: await nearestDistances(x.f.patches, bank, dim, (j) => source[j] === n) });
    progress('memory scores', n + 1, images.length);
  }
  return { bank, images: scored };
}

/** 3a. The image classifier on pooled statistics: out-of-fold logits for every picture, then the model on all of them. */
function fitImageClassifier(images: TrainingImage[], progress: NonNullable<TrainOptions['onProgress']>) {
  const dim = images[0].f.pooled.length;
  const fit = (part: TrainingImage[]) => {
    const flat = new Float32Array(part.length * dim);
    part.forEach((x, i) => flat.set(x.f.pooled, i * dim));
    const scaler = fitScaler(flat, dim);
    const model = fitLogistic(applyScaler(flat, dim, scaler), Uint8Array.from(part.map((x) => (x.positive ? 1 : 0))), dim, { epochs: 300, l2: 1e-4 });
    return { scaler, model };
  };
  const oof = new Float64Array(images.length);
  for (let k = 0; k < FOLDS; k++) {
    const { scaler, model } = fit(images.filter((x) => x.fold !== k));
    images.forEach((x, i) => {
      if (x.fold === k) oof[i] = imageLogit(model, scaler, x.f.pooled);
    });
    progress('image classifier', k + 1, FOLDS + 1);
  }
  const final = fit(images);
  progress('image classifier', FOLDS + 1, FOLDS + 1);
  return { ...final, oof: Array.from(oof) };
}

/** 3b. The patch classifier that draws heatmaps, on all channels: mask cells are positive, or without a mask an anomalous picture's least normal patches. */
async function fitPatchClassifier(backbone: Backbone, images: TrainingImage[], projection: Projection, area: number): Promise<{ head: PatchHead; normalLogits: number[] }> {
  for (const x of images.filter((i) => i.positive && !i.mask)) {
    const raw = await rawFeatures(backbone, await x.item.load(), area);
    x.cells.rows = await standardisedRows(raw, projection, x.cells.index);
    raw.aggregated.dispose();
  }
  const rows = images.flatMap((x) => x.cells.rows);
  const labels = images.flatMap((x) => x.cells.labels);
  const dim = projection.channels;
  const flat = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => flat.set(r, i * dim));
  const head = fitLogistic(flat, Uint8Array.from(labels), dim, { epochs: 200, l2: 1e-3 });
  const normalLogits = images.filter((x) => !x.positive).flatMap((x) => x.cells.rows.map((r) => linearScore(head, r)));
  return { head, normalLogits };
}

/** 4. Operating threshold, review band and calibration from out-of-fold scores of the whole training set. */
function chooseThresholds(scored: Scored[], profile: Profile): { operating: number; band: { low: number; high: number }; calibration: { a: number; b: number } } {
  const normal = scored.filter((s) => !s.positive).map((s) => s.score);
  if (scored.some((s) => s.positive)) {
    if (profile === 'screen') {
      // A screen passes on everything at or above its recall-0.99 threshold: no band below it, or it clears little.
      const operating = thresholdForRecall(scored, 0.99);
      return { operating, band: { low: operating, high: reviewBand(scored, operating).high }, calibration: plattScaling(scored) };
    }
    const operating = bestF1Threshold(scored);
    return { operating, band: reviewBand(scored, operating), calibration: plattScaling(scored) };
  }
  // Normal pictures only: the operating point sits in the tail of what normal looks like.
  const low = percentile(normal, profile === 'screen' ? 0.9 : 0.95);
  const operating = percentile(normal, profile === 'screen' ? 0.95 : 0.99);
  const high = Math.max(operating, percentile(normal, 1)) + (operating - low);
  const width = Math.max(1e-6, high - low);
  return { operating, band: { low, high }, calibration: { a: 8 / width, b: (-8 * operating) / width } };
}

/**
 * Learns what normal looks like, and given labelled anomalies what anomalous looks like, from a
 * dataset, on top of the backbone's features. Thresholds, calibration and whether the memory or
 * the classifier scores are chosen on cross-validated predictions of every training picture.
 */
export async function train(backbone: Backbone, dataset: Pick<Dataset, 'items'>, options: TrainOptions): Promise<ModelArtifact> {
  const seed = options.seed ?? 42;
  const config = PROFILES[options.profile];
  const progress = options.onProgress ?? (() => undefined);
  const items = dataset.items;
  if (items.filter((i) => i.label === 'normal').length < 2) throw new Error('training needs at least 2 normal images');
  const random = seededRandom(seed + 1);

  const extracted = await extractAll(backbone, items, config, seed, progress);
  const { bank, images } = await buildMemory(extracted.images, config, random, progress);
  const anomalous = images.filter((x) => x.positive).length;

  // An unmasked anomaly's least normal patches stand for its defect.
  for (const x of images.filter((i) => i.positive && !i.mask)) {
    const cells = [...x.memory.keys()].sort((a, b) => x.memory[b] - x.memory[a]).slice(0, TOP_K);
    x.cells = { index: cells, rows: [], labels: cells.map(() => 1) };
  }
  const memoryScored: Scored[] = images.map((x) => ({ score: topMean(x.memory, TOP_K), positive: x.positive }));
  const memoryAuroc = anomalous ? auroc(memoryScored) : null;
  const classifier = anomalous >= MIN_CLASSIFIER_ANOMALIES ? fitImageClassifier(images, progress) : null;
  const local = anomalous >= MIN_CLASSIFIER_ANOMALIES ? fitLocalScorer(images, progress) : null;
  const classifierScored: Scored[] | null = classifier ? images.map((x, i) => ({ score: classifier.oof[i], positive: x.positive })) : null;
  const classifierAuroc = classifierScored ? auroc(classifierScored) : null;
  // The classifier's logit, the memory score and the local score, weighed by a regression on the out-of-fold values.
  const stackInputs = classifier && local ? images.map((_, i) => [classifier.oof[i], memoryScored[i].score, local.oof[i]]) : null;
  const stack = stackInputs ? fitStack(stackInputs, images.map((x) => x.positive)) : null;
  const stackedScored: Scored[] | null = stack ? stackInputs!.map((v, i) => ({ score: stackScore(stack, v), positive: images[i].positive })) : null;
  const stackedAuroc = stackedScored ? auroc(stackedScored) : null;
  const candidates: [ScoreMode, number | null, Scored[] | null][] = [
    ['memory', memoryAuroc ?? 0, memoryScored],
    ['classifier', classifierAuroc, classifierScored],
    ['stacked', stackedAuroc, stackedScored],
  ];
  const [scoreMode, , scored] = candidates.filter((c) => c[2] && c[1] !== null).reduce((best, c) => (c[1]! > best[1]! + 1e-9 ? c : best)) as [ScoreMode, number, Scored[]];
  progress('patch classifier', 0, 1);
  const patch = anomalous ? await fitPatchClassifier(backbone, images, extracted.projection, config.area) : null;
  progress('patch classifier', 1, 1);

  const { operating, band, calibration } = chooseThresholds(scored, options.profile);
  const normalMaps = patch ? patch.normalLogits : images.filter((x) => !x.positive).flatMap((x) => Array.from(x.memory));
  const thresholds: Thresholds = { operating, reviewBand: band, patch: percentile(normalMaps, 0.995) };
  const { precision, recall, f1 } = precisionRecallF1(confusion(scored, operating));
  const inBand = scored.filter((s) => s.score >= band.low && s.score < band.high).length;
  progress('thresholds', 1, 1);

  const payload: Payload = {
    projection: extracted.projection,
    bank,
    patchModel: patch?.head ?? null,
    imageScaler: classifier ? classifier.scaler : null,
    imageModel: classifier ? classifier.model : null,
    stack: scoreMode === 'stacked' ? stack : null,
    localModel: scoreMode === 'stacked' && local ? local.model : null,
  };
  const hash = payloadHash(payload);
  const manifest: Manifest = {
    format: ARTIFACT_FORMAT,
    formatVersion: ARTIFACT_FORMAT_VERSION,
    version: `${options.profile}-${hash.slice(0, 12)}`,
    method: METHOD,
    profile: options.profile,
    backbone: backbone.identity,
    features: { area: config.area, dim: extracted.projection.dim, channels: extracted.projection.channels, bankSize: bank.length / extracted.projection.dim, pooled: images[0].f.pooled.length },
    scoreMode,
    seed,
    createdAt: new Date().toISOString(),
    trainingSet: {
      hash: crypto.createHash('sha256').update(extracted.hashes.sort().join('\n')).digest('hex'),
      count: items.length,
      normal: items.length - anomalous,
      anomalous,
      types: [...new Set(items.map((i) => i.type).filter((t): t is string => !!t))].sort(),
      supervised: scoreMode !== 'memory' || !!patch,
    },
    thresholds,
    calibration,
    validation: {
      count: scored.length,
      folds: FOLDS,
      imageAuroc: anomalous ? auroc(scored) : null,
      memoryAuroc,
      classifierAuroc,
      stackedAuroc,
      precision,
      recall,
      f1,
      reviewBandShare: scored.length ? inBand / scored.length : 0,
    },
    payloadSha256: hash,
  };
  return { manifest, payload };
}

/** The weights that combine several out-of-fold scores into one (each scaled by its spread first). */
function fitStack(inputs: number[][], positive: boolean[]): LinearModel {
  const k = inputs[0].length;
  const spread = [...Array(k).keys()].map((j) => {
    const v = inputs.map((r) => r[j]);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    return Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length) + 1e-6;
  });
  const rows = Float32Array.from(inputs.flatMap((r) => r.map((v, j) => v / spread[j])));
  const fit = fitLogistic(rows, Uint8Array.from(positive.map((p) => (p ? 1 : 0))), k, { epochs: 400, l2: 1e-3 });
  return { weights: fit.weights.map((w, j) => w / spread[j]), bias: fit.bias };
}

const stackScore = (stack: LinearModel, values: number[]) => linearScore(stack, values);

/** Platt scaling: a one-feature logistic regression from score to P(anomalous). */
function plattScaling(scored: Scored[]): { a: number; b: number } {
  const scores = scored.map((s) => s.score);
  const mean = scores.reduce((s, v) => s + v, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((s, v) => s + (v - mean) ** 2, 0) / scores.length) + 1e-6;
  const fit = fitLogistic(Float32Array.from(scores.map((v) => (v - mean) / sd)), Uint8Array.from(scored.map((s) => (s.positive ? 1 : 0))), 1, { epochs: 400, l2: 1e-3 });
  return { a: fit.weights[0] / sd, b: fit.bias - (fit.weights[0] * mean) / sd };
}

interface Analysis {
  score: number;
  map: Float32Array;
  f: ImageFeatures;
}

async function analyse(backbone: Backbone, model: ModelArtifact, image: Buffer): Promise<Analysis> {
  const { manifest, payload } = model;
  assertBackbone(manifest, backbone.identity);
  const f = await imageFeatures(backbone, image, manifest.features.area, payload.projection as Projection, payload.patchModel);
  const classifier = payload.imageModel && payload.imageScaler ? imageLogit(payload.imageModel, payload.imageScaler, f.pooled) : null;
  if (manifest.scoreMode === 'classifier' && classifier !== null) {
    return { score: classifier, map: f.patchLogits ?? (await nearestDistances(f.patches, payload.bank, f.dim)), f };
  }
  const memory = await nearestDistances(f.patches, payload.bank, f.dim);
  const memoryScore = topMean(memory, TOP_K);
  const score =
    manifest.scoreMode === 'stacked' && classifier !== null && payload.stack && payload.localModel
      ? stackScore(payload.stack, [classifier, memoryScore, localScore(payload.localModel, f)])
      : memoryScore;
  return { score, map: f.patchLogits ?? memory, f };
}

/** Judges one image: verdict, calibrated confidence, raw score, heatmap and regions. */
export async function predict(backbone: Backbone, model: ModelArtifact, image: Buffer, options: { heatmap?: boolean } = {}): Promise<PredictResult> {
  const { manifest } = model;
  const { score, map, f } = await analyse(backbone, model, image);
  const probability = sigmoid(manifest.calibration.a * score + manifest.calibration.b);
  const isAnomalous = score >= manifest.thresholds.operating;
  const grid = { cols: f.cols, rows: f.rows };
  let low = Infinity;
  for (const v of map) if (v < low) low = v;
  const spread = Math.max(1e-3, manifest.thresholds.patch - low);
  return {
    isAnomalous,
    confidence: isAnomalous ? probability : 1 - probability,
    anomalyProbability: probability,
    score,
    uncertain: score >= manifest.thresholds.reviewBand.low && score < manifest.thresholds.reviewBand.high,
    regions: isAnomalous ? regionsOf(map, grid, manifest.thresholds.patch) : [],
    heatmap: options.heatmap === false ? Buffer.alloc(0) : await heatmapPng(map, grid, manifest.thresholds.patch, spread, { width: f.width, height: f.height }),
    map: { ...grid, values: map },
    model: { version: manifest.version, profile: manifest.profile },
  };
}

export interface EvaluateOptions {
  onProgress?: (done: number, total: number) => void;
}

/** Scores a labelled dataset with a model: AUROC (image and, with masks, pixel), P/R/F1 at the operating threshold, review load. */
export async function evaluate(
  backbone: Backbone,
  model: ModelArtifact,
  dataset: Dataset,
  options: EvaluateOptions = {},
): Promise<{ report: EvaluationReport; results: Map<string, PredictResult> }> {
  const { manifest } = model;
  const images: ScoredImage[] = [];
  const results = new Map<string, PredictResult>();
  const latencies: number[] = [];
  const pixelValues: number[] = [];
  const pixelLabels: number[] = [];
  let masked = 0;
  for (const [n, item] of dataset.items.entries()) {
    const bytes = await item.load();
    const started = performance.now();
    const r = await predict(backbone, model, bytes, { heatmap: false });
    latencies.push(performance.now() - started);
    results.set(item.id, r);
    images.push({ id: item.id, label: item.label, type: item.type, score: r.score, anomalyProbability: r.anomalyProbability, isAnomalous: r.isAnomalous, uncertain: r.uncertain });
    const mask = item.loadMask ? await maskGrid(await item.loadMask(), r.map) : item.label === 'normal' ? new Float32Array(r.map.values.length) : null;
    if (mask) {
      if (item.loadMask) masked++;
      mask.forEach((m, i) => {
        pixelValues.push(r.map.values[i]);
        pixelLabels.push(m >= 0.5 ? 1 : 0);
      });
    }
    options.onProgress?.(n + 1, dataset.items.length);
  }
  const scored: Scored[] = images.map((i) => ({ score: i.score, positive: i.label === 'anomalous' }));
  const threshold = manifest.thresholds.operating;
  const c = confusion(scored, threshold);
  const { precision, recall, f1 } = precisionRecallF1(c);
  const outside = images.filter((i) => !i.uncertain);
  const types = [...new Set(images.map((i) => i.type).filter((t): t is string => !!t))].sort();
  const report: EvaluationReport = {
    model: { version: manifest.version, profile: manifest.profile, method: `${manifest.method} (${manifest.scoreMode}, ${manifest.backbone.name})` },
    dataset: { root: dataset.root, count: images.length, normal: images.filter((i) => i.label === 'normal').length, anomalous: images.filter((i) => i.label === 'anomalous').length },
    count: images.length,
    imageAuroc: auroc(scored),
    pixelAuroc: masked ? histogramAuroc(Float32Array.from(pixelValues), Uint8Array.from(pixelLabels)) : null,
    precision,
    recall,
    f1,
    threshold,
    reviewBand: manifest.thresholds.reviewBand,
    reviewBandShare: images.length ? (images.length - outside.length) / images.length : 0,
    accuracyOutsideBand: outside.length ? outside.filter((i) => i.isAnomalous === (i.label === 'anomalous')).length / outside.length : 1,
    confusion: c,
    roc: rocCurve(scored),
    pr: prCurve(scored),
    byType: types.map((type) => {
      const ofType = images.filter((i) => i.type === type);
      return { type, count: ofType.length, caught: ofType.filter((i) => i.isAnomalous).length };
    }),
    images,
    predictLatencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
  };
  return { report, results };
}
