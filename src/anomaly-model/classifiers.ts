import { type Backbone } from '../adapters/backbone/backbone.port';
import { type PatchHead, type Projection, rawFeatures, standardisedRows } from './features';
import { fitLogisticParts, fitLogisticWasm, type LabelledRows } from './logistic';
import { applyScaler, fitLogistic, fitScaler, type LinearModel } from './numeric';
import { FOLDS, type Progress } from './profiles';
import { expanded, imageLogit, localScore } from './scoring';
import { type TrainingImage } from './training-data';

// Training step 3: the supervised scorers, each with out-of-fold scores of every training picture.

/** Rows per part sent to the backend for the patch classifier: ~15 MB of 896 channels, few enough parts that each epoch's ops stay cheap. */
const PART_ROWS = 4096;

/**
 * 3a. The image classifier on pooled statistics: out-of-fold logits for every picture, then the
 * model on all of them. Each view of a picture is a row to learn from; a picture's logit is that of
 * its views' mean statistics (for a linear model, the mean of its views' logits).
 */
export async function fitImageClassifier(images: TrainingImage[], progress: Progress) {
  const dim = images[0].f.pooled.length;
  const fit = async (part: TrainingImage[]) => {
    const views = part.flatMap((x) => x.f.pooledViews.map((pooled) => ({ pooled, positive: x.positive })));
    const flat = new Float32Array(views.length * dim);
    views.forEach((x, i) => flat.set(x.pooled, i * dim));
    const scaler = fitScaler(flat, dim);
    const model = await fitLogisticWasm(applyScaler(flat, dim, scaler), Uint8Array.from(views.map((x) => (x.positive ? 1 : 0))), dim, {
      epochs: 300,
      // 1e-3 over 1e-4: out-of-fold AUROC 0.958 vs 0.945 on one view of the magnetic tiles' training part, 0.981 vs 0.975 on four.
      l2: 1e-3,
    });
    return { scaler, model };
  };
  const oof = new Float64Array(images.length);
  // Each view's logit alone too (the mean of them is `oof`): how far some views stray from all of them.
  const oofViews = images[0].f.pooledViews.map(() => new Float64Array(images.length));
  for (let k = 0; k < FOLDS; k++) {
    const { scaler, model } = await fit(images.filter((x) => x.fold !== k));
    images.forEach((x, i) => {
      if (x.fold !== k) return;
      oof[i] = imageLogit(model, scaler, x.f.pooled);
      x.f.pooledViews.forEach((pooled, v) => (oofViews[v][i] = imageLogit(model, scaler, pooled)));
    });
    progress('image classifier', k + 1, FOLDS + 1);
  }
  const final = await fit(images);
  progress('image classifier', FOLDS + 1, FOLDS + 1);
  return { ...final, oof: Array.from(oof), oofViews: oofViews.map((logits) => Array.from(logits)) };
}

/** 3b. The patch classifier that draws heatmaps, on all channels: mask cells are positive, or without a mask an anomalous picture's least normal patches. */
export async function fitPatchClassifier(
  backbone: Backbone,
  images: TrainingImage[],
  projection: Projection,
  area: number,
): Promise<{ head: PatchHead; normalLogits: number[] }> {
  for (const x of images.filter((i) => i.positive && !i.mask)) {
    const raw = await rawFeatures(backbone, await x.item.load(), area);
    x.cells.rows = await standardisedRows(raw, projection, x.cells.index);
    raw.aggregated.dispose();
  }
  // The rows go to the backend in parts of a few thousand, each image's rows let go of once copied. On 900 pictures they are
  // about 150 MB; held once more in one block for all, training on 932 tiles peaked at 995 MiB, in parts 868 MiB.
  const ofNormal = images.flatMap((x) => x.cells.rows.map(() => !x.positive));
  const { model: head, logits } = await fitLogisticParts(patchRowParts(images, projection.channels), projection.channels, {
    epochs: 200,
    l2: 1e-3,
    logits: true,
  });
  const normalLogits = Array.from(logits ?? []).filter((_, r) => ofNormal[r]);
  return { head, normalLogits };
}

/** The training pictures' patch rows in parts of about PART_ROWS, each picture's rows dropped as they are taken. */
function* patchRowParts(images: TrainingImage[], dim: number): Generator<LabelledRows> {
  let rows: Float32Array[] = [];
  let labels: number[] = [];
  const part = () => {
    const flat = new Float32Array(rows.length * dim);
    rows.forEach((row, i) => flat.set(row, i * dim));
    const out = { rows: flat, labels: Uint8Array.from(labels) };
    rows = [];
    labels = [];
    return out;
  };
  for (const x of images) {
    rows.push(...x.cells.rows);
    labels.push(...x.cells.labels);
    x.cells.rows = [];
    if (rows.length >= PART_ROWS) yield part();
  }
  if (rows.length) yield part();
}

/** 3c. The local scorer: a patch classifier on projected descriptors (cheap on every patch), out-of-fold image scores, then the model on all pictures. */
export async function fitLocalScorer(images: TrainingImage[], progress: Progress) {
  const fit = async (part: TrainingImage[]) => {
    const rows = part.flatMap((x) => x.cells.index.map((c) => expanded(x.f, c)));
    const labels = part.flatMap((x) => x.cells.labels);
    const dim = rows[0].length;
    const flat = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => flat.set(r, i * dim));
    return fitLogisticWasm(flat, Uint8Array.from(labels), dim, { epochs: 200, l2: 1e-3 });
  };
  const oof = new Array<number>(images.length);
  for (let k = 0; k < FOLDS; k++) {
    const model = await fit(images.filter((x) => x.fold !== k));
    images.forEach((x, i) => {
      if (x.fold === k) oof[i] = localScore(model, x.f);
    });
    progress('local scorer', k + 1, FOLDS + 1);
  }
  const model = await fit(images);
  progress('local scorer', FOLDS + 1, FOLDS + 1);
  return { model, oof };
}

/** The weights that combine several out-of-fold scores into one (each scaled by its spread first). */
export function fitStack(inputs: number[][], positive: boolean[]): LinearModel {
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
