import { type Backbone } from '../adapters/backbone/backbone.port';
import { assertBackbone, judgingViews, type ModelArtifact } from './artifact';
import { flippedStats, type ImageFeatures, imageFeatures, meanOf, modelImageFor, nearestDistances, type Projection } from './features';
import { heatmapPng, regionsOf } from './heatmap';
import { sigmoid } from './numeric';
import { TOP_K } from './profiles';
import { imageLogit, localScore, stackScore, topMean } from './scoring';
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

/** True when a score lies so far outside the review band that the model's other views could not bring it in. */
function clearlyOutside(score: number, manifest: ModelArtifact['manifest']): boolean {
  const margin = manifest.features.oneViewMargin;
  const band = manifest.thresholds.reviewBand;
  return margin !== undefined && (score < band.low - margin || score >= band.high + margin);
}

/**
 * The image's score in the model's score mode, and the patch map its heatmap is drawn from. A
 * classifier that judges by flipped views looks at the picture as it is first, and takes the other
 * views only when that score is not clearly outside the review band.
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
  const views = judgingViews(manifest);
  const first = scoreOf(f.pooled);
  if (views === 1 || clearlyOutside(first, manifest)) return { score: first, map, grid, f, views: 1 };
  const pooled = meanOf([f.pooled, ...(await flippedStats(backbone, image.input, 1, views))]);
  return { score: scoreOf(pooled), map, grid, f, views };
}

/** Judges one image: verdict, calibrated confidence, raw score, heatmap and regions. */
export async function predict(
  backbone: Backbone,
  model: ModelArtifact,
  image: Buffer,
  options: { heatmap?: boolean } = {},
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
