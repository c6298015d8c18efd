import { type Backbone } from '../adapters/backbone/backbone.port';
import { assertBackbone, judgingViews, type ModelArtifact } from './artifact';
import { type ImageFeatures, imageFeatures, nearestDistances, type Projection } from './features';
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
}

/** The image's score in the model's score mode, and the patch map its heatmap is drawn from. */
async function analyse(backbone: Backbone, model: ModelArtifact, image: Buffer): Promise<Analysis> {
  const { manifest, payload } = model;
  assertBackbone(manifest, backbone.identity);
  const classifies = manifest.scoreMode !== 'memory' && payload.imageModel && payload.imageScaler;
  // The flipped views feed only the image classifier: a memory-scored model looks once.
  const views = classifies ? judgingViews(manifest) : 1;
  const f = await imageFeatures(backbone, image, manifest.features.area, payload.projection as Projection, payload.patchModel, views);
  const classifier = classifies ? imageLogit(payload.imageModel!, payload.imageScaler!, f.pooled) : null;
  const fine = { cols: f.cols, rows: f.rows };
  const coarse = { cols: f.memory.cols, rows: f.memory.rows };
  if (manifest.scoreMode === 'classifier' && classifier !== null) {
    if (f.patchLogits) return { score: classifier, map: f.patchLogits, grid: fine, f };
    return { score: classifier, map: await nearestDistances(f.memory.patches, payload.bank, f.dim), grid: coarse, f };
  }
  const memory = await nearestDistances(f.memory.patches, payload.bank, f.dim);
  const memoryScore = topMean(memory, TOP_K);
  const score =
    manifest.scoreMode === 'stacked' && classifier !== null && payload.stack && payload.localModel
      ? stackScore(payload.stack, [classifier, memoryScore, localScore(payload.localModel, f)])
      : memoryScore;
  return { score, map: f.patchLogits ?? memory, grid: f.patchLogits ? fine : coarse, f };
}

/** Judges one image: verdict, calibrated confidence, raw score, heatmap and regions. */
export async function predict(
  backbone: Backbone,
  model: ModelArtifact,
  image: Buffer,
  options: { heatmap?: boolean } = {},
): Promise<PredictResult> {
  const { manifest } = model;
  const { score, map, grid, f } = await analyse(backbone, model, image);
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
  };
}
