import { type Backbone, type BackboneInput } from '../adapters/backbone/backbone.port';
import { assertBackbone, judgingViews, looksOf, type ModelArtifact } from './artifact';
import { type ImageFeatures, imageFeatures, meanOf, modelImageFor, nearestDistances, type Projection, viewStats } from './features';
import { heatmapPng, regionsOf } from './heatmap';
import { sigmoid } from './numeric';
import { TOP_K } from './profiles';
import { imageLogit, localScore, stackScore, topMean } from './scoring';
import { decides } from './thresholds';
import { type PredictResult } from './types';

interface Analysis {
  score: number;
  /** The patch classifier's map (patch grid) or else the memory's distances (its coarser grid). */
  map: Float32Array;
  grid: { cols: number; rows: number };
  f: ImageFeatures;
  /** How many views of the picture the score comes from. */
  views: number;
}

/**
 * The image's score in the model's score mode, and the patch map its heatmap is drawn from. A
 * classifier that judges by flipped views looks at the picture as it is first, and takes more views
 * only while the score is not clearly outside the review band.
 */
async function analyse(backbone: Backbone, model: ModelArtifact, bytes: Buffer): Promise<Analysis> {
  const { manifest, payload } = model;
  assertBackbone(manifest, backbone.identity);
  const image = await modelImageFor(backbone, bytes, manifest.features.area);
  const f = await imageFeatures(backbone, image, payload.projection as Projection, payload.patchModel);
  const fine = { cols: f.cols, rows: f.rows };
  const coarse = { cols: f.memory.cols, rows: f.memory.rows };
  const stacked = manifest.scoreMode === 'stacked' && !!payload.stack && !!payload.localModel;
  const classifies = (manifest.scoreMode === 'classifier' || stacked) && !!payload.imageModel && !!payload.imageScaler;
  if (!classifies) {
    const memory = await nearestDistances(f.memory.patches, payload.bank, f.dim);
    return { score: topMean(memory, TOP_K), map: f.patchLogits ?? memory, grid: f.patchLogits ? fine : coarse, f, views: 1 };
  }
  const memory = stacked || !f.patchLogits ? await nearestDistances(f.memory.patches, payload.bank, f.dim) : null;
  const others = stacked ? [topMean(memory!, TOP_K), localScore(payload.localModel!, f)] : [];
  const scoreOf = (pooled: Float32Array) => {
    const logit = imageLogit(payload.imageModel!, payload.imageScaler!, pooled);
    return stacked ? stackScore(payload.stack!, [logit, ...others]) : logit;
  };
  const map = f.patchLogits ?? memory!;
  const grid = f.patchLogits ? fine : coarse;
  const pooled = await lookedAt(backbone, image.input, f.pooled, manifest, scoreOf);
  return { score: scoreOf(meanOf(pooled)), map, grid, f, views: pooled.length };
}

/**
 * The pooled statistics of the views that judge the picture: each of the model's looks in turn (view
 * 0 first), until one scores far enough outside the review band to decide, else all of its views.
 */
async function lookedAt(
  backbone: Backbone,
  input: BackboneInput,
  first: Float32Array,
  manifest: ModelArtifact['manifest'],
  scoreOf: (pooled: Float32Array) => number,
): Promise<Float32Array[]> {
  const taken = new Map([[0, first]]);
  const take = async (views: number[]) => {
    const missing = views.filter((v) => !taken.has(v));
    (await viewStats(backbone, input, missing)).forEach((stats, k) => taken.set(missing[k], stats));
    return views.map((v) => taken.get(v)!);
  };
  for (const look of looksOf(manifest)) {
    const pooled = await take(look.views);
    if (decides(look, scoreOf(meanOf(pooled)), manifest.thresholds.reviewBand)) return pooled;
  }
  return take(Array.from({ length: judgingViews(manifest) }, (_, v) => v));
}

export interface PredictOptions {
  /** false: no heatmap PNG (an empty buffer), for callers that only want the verdict. */
  heatmap?: boolean;
}

/** Judges one image: verdict, calibrated confidence, raw score, heatmap and regions. */
export async function predict(
  backbone: Backbone,
  model: ModelArtifact,
  image: Buffer,
  options: PredictOptions = {},
): Promise<PredictResult> {
  const { manifest } = model;
  const { score, map, grid, f, views } = await analyse(backbone, model, image);
  const probability = sigmoid(manifest.calibration.a * score + manifest.calibration.b);
  const isAnomalous = score >= manifest.thresholds.operating;
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
    heatmap:
      options.heatmap === false
        ? Buffer.alloc(0)
        : await heatmapPng(map, grid, manifest.thresholds.patch, spread, { width: f.width, height: f.height }),
    map: { ...grid, values: map },
    model: { version: manifest.version, profile: manifest.profile },
    views,
  };
}
