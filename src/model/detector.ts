import crypto from 'node:crypto';
import sharp from 'sharp';
import { ARTIFACT_FORMAT, ARTIFACT_FORMAT_VERSION, type Manifest, METHOD, type ModelArtifact, type Payload, payloadHash, type Scaler } from './artifact';
import { type Dataset, type DatasetItem, stratifiedSplit } from './dataset';
import { DESCRIPTOR, deviationStats, type FeatureConfig, type PatchFeatures, patchFeatures } from './features';
import { heatmapPng, regionsOf } from './heatmap';
import { loadModelImage, type ModelImage } from './image-io';
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
import { applyScaler, fitLogistic, fitScaler, greedyCoreset, linearScore, nearestDistances, seededRandom, shuffle, sigmoid } from './numeric';
import { type EvaluationReport, type PredictResult, type Profile, type ScoredImage, type Thresholds } from './types';

/** screen: low resolution, a small memory, as cheap as possible; inspect: full resolution for F1. */
export const PROFILES: Record<Profile, FeatureConfig & { bankSize: number }> = {
  screen: { side: 128, cell: 8, bankSize: 384 },
  inspect: { side: 256, cell: 8, bankSize: 1024 },
};

export interface TrainOptions {
  profile: Profile;
  seed?: number;
  /** Share of the training images used to fit; the rest chooses thresholds and calibrates. */
  fitShare?: number;
  onProgress?: (phase: string, done: number, total: number) => void;
}

const EXPANDED = 2 * DESCRIPTOR; // standardised descriptor and its squares: a linear model with curvature

interface Analysis {
  /** Nearest-neighbour distance per pooled patch. */
  knn: Float32Array;
  /** Classifier logit per patch; null without a supervised model. */
  logits: Float32Array | null;
  cols: number;
  pooledCols: number;
  /** Per-image deviation statistics at two scales: what the image-level classifier reads. */
  stats: number[];
  width: number;
  height: number;
}

function expand(z: Float32Array, i: number, out: Float32Array): Float32Array {
  for (let d = 0; d < DESCRIPTOR; d++) {
    const v = z[i * DESCRIPTOR + d];
    out[d] = v;
    out[DESCRIPTOR + d] = Math.min(v * v, 25) - 1;
  }
  return out;
}

const topMean = (values: ArrayLike<number>, k: number) => {
  const sorted = Array.from(values).sort((a, b) => b - a);
  const top = sorted.slice(0, Math.max(1, k));
  return top.reduce((s, v) => s + v, 0) / top.length;
};

async function analyse(bytes: Buffer, config: FeatureConfig, payload: Pick<Payload, 'knnScaler' | 'bank' | 'patchScaler' | 'patchModel'>): Promise<Analysis> {
  const image = await loadModelImage(bytes, config.side);
  const f = patchFeatures(image, config);
  const knn = nearestDistances(applyScaler(f.pooled, DESCRIPTOR, payload.knnScaler), payload.bank, DESCRIPTOR);
  let logits: Float32Array | null = null;
  if (payload.patchModel) {
    const z = applyScaler(f.patches, DESCRIPTOR, payload.patchScaler);
    const row = new Float32Array(EXPANDED);
    logits = new Float32Array(f.cols * f.cols);
    for (let i = 0; i < logits.length; i++) logits[i] = linearScore(payload.patchModel, expand(z, i, row));
  }
  const stats = imageStats(image, f, config);
  return { knn, logits, cols: f.cols, pooledCols: f.pooledCols, stats, width: image.width, height: image.height };
}

/** What the image-level classifier reads: deviation statistics at the patch scale and at half of it. */
function imageStats(image: ModelImage, f: PatchFeatures, config: FeatureConfig): number[] {
  return [...deviationStats(f), ...deviationStats(patchFeatures(image, { side: config.side, cell: config.cell / 2 }))];
}

/** The map regions and heatmaps are drawn from, on the patch grid. */
function anomalyMap(a: Analysis): { map: Float32Array; cols: number } {
  if (a.logits) return { map: a.logits, cols: a.cols };
  return { map: a.knn, cols: a.pooledCols };
}

function imageScore(a: Analysis, payload: Pick<Payload, 'imageScaler' | 'imageModel'>): number {
  if (!payload.imageModel || !payload.imageScaler) return topMean(a.knn, 3);
  const z = a.stats.map((v, i) => (v - payload.imageScaler!.mean[i]) / payload.imageScaler!.scale[i]);
  return linearScore(payload.imageModel, z);
}

/** A mask as the share of anomalous pixels per patch of a cols×cols grid. */
async function maskGrid(mask: Buffer, cols: number): Promise<Float32Array> {
  const data = await sharp(mask).greyscale().resize(cols, cols, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  return Float32Array.from(data, (v) => v / 255);
}

/** Learns what normal looks like (and, given labelled anomalies, what anomalous looks like) from a dataset. */
export async function train(dataset: Pick<Dataset, 'items'>, options: TrainOptions): Promise<ModelArtifact> {
  const seed = options.seed ?? 42;
  const config = PROFILES[options.profile];
  const progress = options.onProgress ?? (() => undefined);
  const random = seededRandom(seed);
  const items = dataset.items;
  if (!items.some((i) => i.label === 'normal')) throw new Error('training needs normal images');

  // 1. Descriptors of every image, once.
  const hashes: string[] = [];
  const features: { item: DatasetItem; bytes: Buffer; f: PatchFeatures; stats: number[]; mask: Float32Array | null }[] = [];
  for (const [n, item] of items.entries()) {
    const bytes = await item.load();
    hashes.push(`${item.label}\t${item.type ?? ''}\t${crypto.createHash('sha256').update(bytes).digest('hex')}`);
    const image = await loadModelImage(bytes, config.side);
    const f = patchFeatures(image, config);
    features.push({ item, bytes, f, stats: imageStats(image, f, config), mask: item.loadMask ? await maskGrid(await item.loadMask(), f.cols) : null });
    progress('features', n + 1, items.length);
  }
  const { first: fitPart, second: valPart } = stratifiedSplit(features.map((x) => ({ ...x, label: x.item.label, type: x.item.type })), options.fitShare ?? 0.75, seed);
  const fitNormals = fitPart.filter((x) => x.label === 'normal');

  // 2. Memory bank: pooled normal patches, standardised, thinned by a greedy coreset.
  const per = fitNormals[0].f.pooled.length / DESCRIPTOR;
  const pool = new Float32Array(fitNormals.length * per * DESCRIPTOR);
  fitNormals.forEach((x, i) => pool.set(x.f.pooled, i * per * DESCRIPTOR));
  const knnScaler = fitScaler(pool, DESCRIPTOR);
  const scaled = applyScaler(pool, DESCRIPTOR, knnScaler);
  const sampleRows = shuffle([...Array(scaled.length / DESCRIPTOR).keys()], random).slice(0, 20_000);
  const sample = new Float32Array(sampleRows.length * DESCRIPTOR);
  sampleRows.forEach((r, k) => sample.set(scaled.subarray(r * DESCRIPTOR, (r + 1) * DESCRIPTOR), k * DESCRIPTOR));
  const bankSize = Math.min(config.bankSize, sampleRows.length);
  const bank = greedyCoreset(sample, DESCRIPTOR, bankSize, random, (k) => progress('memory bank', k, bankSize));
  progress('memory bank', bankSize, bankSize);

  // 3. With labelled anomalies: a patch classifier (mask cells, or an anomalous image's most unusual patches, are positive).
  const patchRows = new Float32Array(fitNormals.length * fitNormals[0].f.patches.length);
  fitNormals.forEach((x, i) => patchRows.set(x.f.patches, i * x.f.patches.length));
  const patchScaler: Scaler = fitScaler(patchRows, DESCRIPTOR);
  const fitAnomalous = fitPart.filter((x) => x.label === 'anomalous');
  let patchModel = null;
  if (fitAnomalous.length) {
    const rows: Float32Array[] = [];
    const labels: number[] = [];
    const take = (f: PatchFeatures, cells: number[], label: number) => {
      const z = applyScaler(f.patches, DESCRIPTOR, patchScaler);
      for (const c of cells) {
        rows.push(expand(z, c, new Float32Array(EXPANDED)));
        labels.push(label);
      }
    };
    const cellsPer = fitNormals[0].f.cols ** 2;
    for (const x of fitNormals) take(x.f, shuffle([...Array(cellsPer).keys()], random).slice(0, 24), 0);
    for (const x of fitAnomalous) {
      let positive: number[];
      let negative: number[];
      if (x.mask) {
        positive = [...x.mask.keys()].filter((c) => x.mask![c] >= 0.25);
        negative = shuffle([...x.mask.keys()].filter((c) => x.mask![c] === 0), random).slice(0, 8);
      } else {
        // No mask: the patches the memory finds least normal stand for the defect.
        const knn = nearestDistances(applyScaler(x.f.pooled, DESCRIPTOR, knnScaler), bank, DESCRIPTOR);
        const pc = x.f.pooledCols;
        const ranked = [...knn.keys()].sort((a, b) => knn[b] - knn[a]).slice(0, 2);
        positive = ranked.flatMap((p) => {
          const [py, px] = [Math.floor(p / pc), p % pc];
          return [0, 1, 2, 3].map((k) => (2 * py + (k >> 1)) * x.f.cols + 2 * px + (k & 1));
        });
        negative = [];
      }
      take(x.f, positive, 1);
      take(x.f, negative, 0);
    }
    const flat = new Float32Array(rows.length * EXPANDED);
    rows.forEach((r, i) => flat.set(r, i * EXPANDED));
    progress('classifier', 0, 1);
    patchModel = fitLogistic(flat, Uint8Array.from(labels), EXPANDED, { epochs: 250, l2: 1e-3 });
    progress('classifier', 1, 1);
  }

  // 4. Validation: image-level model, calibration and thresholds, on images the steps above never saw.
  const base = { knnScaler, bank, patchScaler, patchModel };
  const val: { a: Analysis; positive: boolean }[] = [];
  for (const [n, x] of valPart.entries()) {
    val.push({ a: await analyse(x.bytes, config, base), positive: x.label === 'anomalous' });
    progress('validation', n + 1, valPart.length);
  }
  const valAnomalous = val.filter((v) => v.positive).length;
  let imageScaler: Payload['imageScaler'] = null;
  let imageModel: Payload['imageModel'] = null;
  if (fitAnomalous.length) {
    // The image-level classifier learns from the fit part, like the patch classifier; validation stays unseen.
    progress('image classifier', 0, 1);
    const dim = fitPart[0].stats.length;
    const flat = Float32Array.from(fitPart.flatMap((x) => x.stats));
    const scaler = fitScaler(flat, dim);
    imageScaler = { mean: Array.from(scaler.mean), scale: Array.from(scaler.scale) };
    imageModel = fitLogistic(applyScaler(flat, dim, scaler), Uint8Array.from(fitPart.map((x) => (x.label === 'anomalous' ? 1 : 0))), dim, { epochs: 500, l2: 1e-2 });
    progress('image classifier', 1, 1);
  }
  const payload: Payload = { ...base, imageScaler, imageModel };
  const scored: Scored[] = val.map((v) => ({ score: imageScore(v.a, payload), positive: v.positive }));
  const normalScores = scored.filter((s) => !s.positive).map((s) => s.score);

  let operating: number;
  if (valAnomalous) operating = options.profile === 'screen' ? thresholdForRecall(scored, 0.99) : bestF1Threshold(scored);
  else operating = percentile(normalScores, options.profile === 'screen' ? 0.95 : 0.99);
  const band = valAnomalous ? reviewBand(scored, operating) : { low: percentile(normalScores, 0.9), high: Math.max(operating, percentile(normalScores, 1) * 1.2) };
  const calibration = valAnomalous ? plattScaling(scored) : { a: 4 / (Math.abs(band.high - band.low) + 1e-6), b: (-4 * operating) / (Math.abs(band.high - band.low) + 1e-6) };

  const normalMaps = val.filter((v) => !v.positive).flatMap((v) => Array.from(anomalyMap(v.a).map));
  const patchThreshold = percentile(normalMaps, 0.995);
  const thresholds: Thresholds = { operating, reviewBand: band, patch: patchThreshold };
  const { precision, recall, f1 } = precisionRecallF1(confusion(scored, operating));
  const inBand = scored.filter((s) => s.score >= band.low && s.score < band.high).length;

  const hash = payloadHash(payload);
  const trainingTypes = [...new Set(items.map((i) => i.type).filter((t): t is string => !!t))].sort();
  const manifest: Manifest = {
    format: ARTIFACT_FORMAT,
    formatVersion: ARTIFACT_FORMAT_VERSION,
    version: `${options.profile}-${hash.slice(0, 12)}`,
    method: METHOD,
    profile: options.profile,
    features: { side: config.side, cell: config.cell, bankSize, descriptor: DESCRIPTOR },
    seed,
    createdAt: new Date().toISOString(),
    trainingSet: {
      hash: crypto.createHash('sha256').update(hashes.sort().join('\n')).digest('hex'),
      count: items.length,
      normal: items.filter((i) => i.label === 'normal').length,
      anomalous: items.filter((i) => i.label === 'anomalous').length,
      types: trainingTypes,
      supervised: !!patchModel,
    },
    thresholds,
    calibration,
    validation: {
      count: scored.length,
      imageAuroc: valAnomalous ? auroc(scored) : null,
      precision,
      recall,
      f1,
      reviewBandShare: scored.length ? inBand / scored.length : 0,
    },
    payloadSha256: hash,
  };
  return { manifest, payload };
}

/** Platt scaling: a one-feature logistic regression from score to P(anomalous). */
function plattScaling(scored: Scored[]): { a: number; b: number } {
  const scores = scored.map((s) => s.score);
  const mean = scores.reduce((s, v) => s + v, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((s, v) => s + (v - mean) ** 2, 0) / scores.length) + 1e-6;
  const fit = fitLogistic(Float32Array.from(scores.map((v) => (v - mean) / sd)), Uint8Array.from(scored.map((s) => (s.positive ? 1 : 0))), 1, { epochs: 400, l2: 1e-3 });
  return { a: fit.weights[0] / sd, b: fit.bias - (fit.weights[0] * mean) / sd };
}

/** Judges one image: verdict, calibrated confidence, raw score, heatmap and regions. */
export async function predict(model: ModelArtifact, image: Buffer, options: { heatmap?: boolean } = {}): Promise<PredictResult> {
  const { manifest, payload } = model;
  const a = await analyse(image, manifest.features, payload);
  const score = imageScore(a, payload);
  const probability = sigmoid(manifest.calibration.a * score + manifest.calibration.b);
  const isAnomalous = score >= manifest.thresholds.operating;
  const { map, cols } = anomalyMap(a);
  const spread = Math.max(1e-3, manifest.thresholds.patch - Math.min(...map));
  return {
    isAnomalous,
    confidence: isAnomalous ? probability : 1 - probability,
    anomalyProbability: probability,
    score,
    uncertain: score >= manifest.thresholds.reviewBand.low && score < manifest.thresholds.reviewBand.high,
    regions: isAnomalous ? regionsOf(map, cols, manifest.thresholds.patch) : [],
    heatmap: options.heatmap === false ? Buffer.alloc(0) : await heatmapPng(map, cols, manifest.thresholds.patch, spread, { width: a.width, height: a.height }),
    map: { cols, rows: cols, values: map },
    model: { version: manifest.version, profile: manifest.profile },
  };
}

export interface EvaluateOptions {
  onProgress?: (done: number, total: number) => void;
}

/** Scores a labelled dataset with a model: AUROC (image and, with masks, pixel), P/R/F1 at the operating threshold, review load. */
export async function evaluate(model: ModelArtifact, dataset: Dataset, options: EvaluateOptions = {}): Promise<{ report: EvaluationReport; results: Map<string, PredictResult> }> {
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
    const r = await predict(model, bytes, { heatmap: false });
    latencies.push(performance.now() - started);
    results.set(item.id, r);
    images.push({ id: item.id, label: item.label, type: item.type, score: r.score, anomalyProbability: r.anomalyProbability, isAnomalous: r.isAnomalous, uncertain: r.uncertain });
    const mask = item.loadMask ? await maskGrid(await item.loadMask(), r.map.cols) : item.label === 'normal' ? new Float32Array(r.map.values.length) : null;
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
  const band = manifest.thresholds.reviewBand;
  const outside = images.filter((i) => !i.uncertain);
  const types = [...new Set(images.map((i) => i.type).filter((t): t is string => !!t))].sort();
  const report: EvaluationReport = {
    model: { version: manifest.version, profile: manifest.profile, method: manifest.method },
    dataset: { root: dataset.root, count: images.length, normal: images.filter((i) => i.label === 'normal').length, anomalous: images.filter((i) => i.label === 'anomalous').length },
    count: images.length,
    imageAuroc: auroc(scored),
    pixelAuroc: masked ? histogramAuroc(Float32Array.from(pixelValues), Uint8Array.from(pixelLabels)) : null,
    precision,
    recall,
    f1,
    threshold,
    reviewBand: band,
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
