import crypto from 'node:crypto';
import { type Backbone } from '../adapters/backbone/backbone.port';
import {
  ARTIFACT_FORMAT,
  ARTIFACT_FORMAT_VERSION,
  type Manifest,
  METHOD,
  type ModelArtifact,
  type Payload,
  payloadHash,
  type ScoreMode,
} from './artifact';
import { fitImageClassifier, fitLocalScorer, fitPatchClassifier, fitStack } from './classifiers';
import { type Dataset, type DatasetItem } from './dataset';
import { type Projection } from './features';
import { auroc, confusion, percentile, precisionRecallF1, type Scored } from './metrics';
import { seededRandom } from './numeric';
import {
  FOLDS,
  isViewCount,
  MAX_VIEWS,
  MIN_CLASSIFIER_ANOMALIES,
  type ProfileConfig,
  PROFILES,
  type Progress,
  TOP_K,
  type TrainOptions,
} from './profiles';
import { fineCells, stackScore, topMean } from './scoring';
import { chooseLooks, chooseThresholds } from './thresholds';
import { buildMemory, dropPatchDescriptors, extractAll, type TrainingImage } from './training-data';
import { type Profile, type Thresholds } from './types';

/** An unmasked anomaly's least normal patches (those of its least normal memory cells) stand for its defect. */
function markUnmaskedDefects(images: TrainingImage[]): void {
  for (const x of images.filter((i) => i.positive && !i.mask)) {
    const cells = fineCells([...x.memory.keys()].sort((a, b) => x.memory[b] - x.memory[a]).slice(0, TOP_K), x.f);
    x.cells = { index: cells, rows: [], labels: cells.map(() => 1) };
  }
}

/**
 * 3. The scorers and the score mode: the memory alone, the image classifier, or the classifier's logit,
 * the memory score and the local score weighed by a regression on the out-of-fold values; the one
 * whose out-of-fold scores rank best (ties go to the simpler one) scores the model.
 */
async function fitScorers(images: TrainingImage[], anomalous: number, progress: Progress) {
  const memoryScored: Scored[] = images.map((x) => ({ score: topMean(x.memory, TOP_K), positive: x.positive }));
  const memoryAuroc = anomalous ? auroc(memoryScored) : null;
  const classifier = anomalous >= MIN_CLASSIFIER_ANOMALIES ? await fitImageClassifier(images, progress) : null;
  const local = anomalous >= MIN_CLASSIFIER_ANOMALIES ? await fitLocalScorer(images, progress) : null;
  const classifierScored: Scored[] | null = classifier ? images.map((x, i) => ({ score: classifier.oof[i], positive: x.positive })) : null;
  const classifierAuroc = classifierScored ? auroc(classifierScored) : null;
  const stackInputs = classifier && local ? images.map((_, i) => [classifier.oof[i], memoryScored[i].score, local.oof[i]]) : null;
  const stack = stackInputs
    ? fitStack(
        stackInputs,
        images.map((x) => x.positive),
      )
    : null;
  const stackedScored: Scored[] | null = stack
    ? stackInputs!.map((v, i) => ({ score: stackScore(stack, v), positive: images[i].positive }))
    : null;
  const stackedAuroc = stackedScored ? auroc(stackedScored) : null;
  const candidates: [ScoreMode, number | null, Scored[] | null][] = [
    ['memory', memoryAuroc ?? 0, memoryScored],
    ['classifier', classifierAuroc, classifierScored],
    ['stacked', stackedAuroc, stackedScored],
  ];
  const [scoreMode, , scored] = candidates
    .filter((c) => c[2] && c[1] !== null)
    .reduce((best, c) => (c[1]! > best[1]! + 1e-9 ? c : best)) as [ScoreMode, number, Scored[]];
  return { scoreMode, scored, classifier, local, stack, memoryAuroc, classifierAuroc, stackedAuroc };
}

type Scorers = Awaited<ReturnType<typeof fitScorers>>;

/** 4. The thresholds (the patch one from normal pictures' maps) and the figures at the operating one. */
function operatingPoint(scorers: Scorers, profile: Profile, images: TrainingImage[], patchNormalLogits: number[] | null) {
  const { scored } = scorers;
  const { operating, band, calibration } = chooseThresholds(scored, profile);
  const normalMaps = patchNormalLogits ?? images.filter((x) => !x.positive).flatMap((x) => Array.from(x.memory));
  const thresholds: Thresholds = { operating, reviewBand: band, patch: percentile(normalMaps, 0.995) };
  const { precision, recall, f1 } = precisionRecallF1(confusion(scored, operating));
  const inBand = scored.filter((s) => s.score >= band.low && s.score < band.high).length;
  return { thresholds, calibration, precision, recall, f1, reviewBandShare: scored.length ? inBand / scored.length : 0 };
}

interface ManifestParts {
  options: TrainOptions;
  seed: number;
  config: ProfileConfig;
  backbone: Backbone;
  items: DatasetItem[];
  hashes: string[];
  projection: Projection;
  bank: Float32Array;
  pooled: number;
  views: number;
  anomalous: number;
  supervisedPatches: boolean;
  scorers: Scorers;
  point: ReturnType<typeof operatingPoint>;
  hash: string;
}

function manifestOf(p: ManifestParts): Manifest {
  const { scorers, point, items, anomalous } = p;
  const { scoreMode, scored } = scorers;
  return {
    format: ARTIFACT_FORMAT,
    formatVersion: ARTIFACT_FORMAT_VERSION,
    version: `${p.options.profile}-${p.hash.slice(0, 12)}`,
    method: METHOD,
    profile: p.options.profile,
    backbone: p.backbone.identity,
    features: {
      area: p.config.area,
      dim: p.projection.dim,
      channels: p.projection.channels,
      bankSize: p.bank.length / p.projection.dim,
      pooled: p.pooled,
      views: p.views,
      ...(p.views > 1 && scorers.classifier && scorers.scoreMode !== 'memory'
        ? {
            looks: chooseLooks(
              scorers.scored.map((s) => s.score),
              p.point.thresholds.reviewBand,
              scorers.classifier.oofViews,
              scorers.scoreMode === 'stacked' ? scorers.stack!.weights[0] : 1,
            ),
          }
        : {}),
    },
    scoreMode,
    seed: p.seed,
    createdAt: new Date().toISOString(),
    trainingSet: {
      hash: crypto.createHash('sha256').update(p.hashes.sort().join('\n')).digest('hex'),
      count: items.length,
      normal: items.length - anomalous,
      anomalous,
      types: [...new Set(items.map((i) => i.type).filter((t): t is string => !!t))].sort(),
      supervised: scoreMode !== 'memory' || p.supervisedPatches,
    },
    thresholds: point.thresholds,
    calibration: point.calibration,
    validation: {
      count: scored.length,
      folds: FOLDS,
      imageAuroc: anomalous ? auroc(scored) : null,
      memoryAuroc: scorers.memoryAuroc,
      classifierAuroc: scorers.classifierAuroc,
      stackedAuroc: scorers.stackedAuroc,
      precision: point.precision,
      recall: point.recall,
      f1: point.f1,
      reviewBandShare: point.reviewBandShare,
    },
    payloadSha256: p.hash,
  };
}

/**
 * Learns what normal looks like, and given labelled anomalies what anomalous looks like, from a
 * dataset, on top of the backbone's features. Thresholds, calibration and whether the memory or
 * the classifier scores are chosen on cross-validated predictions of every training picture.
 */
export async function train(backbone: Backbone, dataset: Pick<Dataset, 'items'>, options: TrainOptions): Promise<ModelArtifact> {
  const seed = options.seed ?? 42;
  if (options.views !== undefined && !isViewCount(options.views))
    throw new RangeError(`views must be a whole number from 1 to ${MAX_VIEWS}, not ${options.views}`);
  const config = { ...PROFILES[options.profile], views: options.views ?? PROFILES[options.profile].views };
  const progress = options.onProgress ?? (() => undefined);
  const items = dataset.items;
  if (items.filter((i) => i.label === 'normal').length < 2) throw new Error('training needs at least 2 normal images');
  const random = seededRandom(seed + 1);

  const extracted = await extractAll(backbone, items, config, seed, progress, options.openSecondBackbone);
  const { bank, images } = await buildMemory(extracted.images, config, random, progress);
  const anomalous = images.filter((x) => x.positive).length;
  markUnmaskedDefects(images);
  const scorers = await fitScorers(images, anomalous, progress);
  dropPatchDescriptors(images);
  progress('patch classifier', 0, 1);
  const patch = anomalous ? await fitPatchClassifier(backbone, images, extracted.projection, config.area) : null;
  progress('patch classifier', 1, 1);
  const point = operatingPoint(scorers, options.profile, images, patch ? patch.normalLogits : null);
  progress('thresholds', 1, 1);

  const { scoreMode, classifier, local, stack } = scorers;
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
  const manifest = manifestOf({
    options,
    seed,
    config,
    backbone,
    items,
    hashes: extracted.hashes,
    projection: extracted.projection,
    bank,
    pooled: images[0].f.pooled.length,
    views: classifier && scorers.scoreMode !== 'memory' ? extracted.views : 1,
    anomalous,
    supervisedPatches: !!patch,
    scorers,
    point,
    hash,
  });
  return { manifest, payload };
}
