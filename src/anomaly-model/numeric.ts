// Small numeric building blocks of the model: a seeded generator, standardisation,
// greedy coreset selection, and logistic regression.

/** mulberry32: a fast, seedable generator; the same seed gives the same model. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Per-dimension mean and spread of rows of `dim` floats. */
export function fitScaler(rows: Float32Array, dim: number): { mean: Float32Array; scale: Float32Array } {
  const n = rows.length / dim;
  const mean = new Float32Array(dim);
  const scale = new Float32Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += rows[i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= Math.max(1, n);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) {
      const v = rows[i * dim + d] - mean[d];
      scale[d] += v * v;
    }
  }
  for (let d = 0; d < dim; d++) scale[d] = Math.sqrt(scale[d] / Math.max(1, n)) + 1e-6;
  return { mean, scale };
}

export function applyScaler(rows: Float32Array, dim: number, scaler: { mean: Float32Array; scale: Float32Array }): Float32Array {
  // In place: the rows are a training set's (tens of MB), and nobody reads them unscaled afterwards.
  for (let i = 0; i < rows.length; i++) {
    const d = i % dim;
    rows[i] = (rows[i] - scaler.mean[d]) / scaler.scale[d];
  }
  return rows;
}

/** Rows of `dim` floats mapped to `to` numbers by a seeded Gaussian matrix (distances kept about, Johnson–Lindenstrauss). */
export function randomProjection(rows: Float32Array, dim: number, to: number, random: () => number): Float32Array {
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const matrix = Float32Array.from({ length: dim * to }, () => gaussian() / Math.sqrt(to));
  const n = rows.length / dim;
  const out = new Float32Array(n * to);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) {
      const v = rows[i * dim + d];
      if (v === 0) continue;
      for (let e = 0; e < to; e++) out[i * to + e] += v * matrix[d * to + e];
    }
  }
  return out;
}

/** Rows compared in at most this many numbers while the coreset is chosen (PatchCore's projection): half the time of 128, same AUROC measured. */
export const CORESET_SELECTION_DIM = 64;

/**
 * Greedy k-centre coreset (PatchCore): repeatedly take the row farthest from everything taken
 * so far, so `size` rows cover the normal patches with the smallest worst-case gap. Distances
 * are measured on a random projection to CORESET_SELECTION_DIM numbers when rows are longer.
 */
export function greedyCoreset(
  input: Float32Array,
  inputDim: number,
  size: number,
  random: () => number,
  onProgress?: (done: number) => void,
): number[] {
  const n = input.length / inputDim;
  if (n <= size) return [...Array(n).keys()];
  const dim = Math.min(inputDim, CORESET_SELECTION_DIM);
  const rows = dim < inputDim ? randomProjection(input, inputDim, dim, random) : input;
  const nearest = new Float32Array(n).fill(Infinity);
  const chosen: number[] = [Math.floor(random() * n)];
  for (let k = 1; k < size; k++) {
    const c = chosen[k - 1] * dim;
    let far = 0;
    let farIndex = 0;
    for (let i = 0; i < n; i++) {
      const o = i * dim;
      let d2 = 0;
      for (let d = 0; d < dim; d++) {
        const v = rows[o + d] - rows[c + d];
        d2 += v * v;
      }
      if (d2 < nearest[i]) nearest[i] = d2;
      if (nearest[i] > far) {
        far = nearest[i];
        farIndex = i;
      }
    }
    chosen.push(farIndex);
    if (onProgress && k % 64 === 0) onProgress(k);
  }
  return chosen;
}

export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export interface LinearModel {
  weights: number[];
  bias: number;
}

export function linearScore(model: LinearModel, row: ArrayLike<number>, offset = 0): number {
  let z = model.bias;
  for (let d = 0; d < model.weights.length; d++) z += model.weights[d] * row[offset + d];
  return z;
}

/**
 * L2-regularised logistic regression by full-batch Adam; classes are weighted to balance, so a
 * few anomalies among many normal rows still count.
 */
export function fitLogistic(
  rows: Float32Array,
  labels: Uint8Array,
  dim: number,
  options: { l2?: number; epochs?: number; learningRate?: number } = {},
): LinearModel {
  const { l2 = 1e-3, epochs = 300, learningRate = 0.05 } = options;
  const n = labels.length;
  const positives = labels.reduce((s, l) => s + l, 0);
  const wPos = positives ? n / (2 * positives) : 1;
  const wNeg = n - positives ? n / (2 * (n - positives)) : 1;
  const w = new Float64Array(dim);
  let bias = 0;
  const m = new Float64Array(dim + 1);
  const v = new Float64Array(dim + 1);
  const grad = new Float64Array(dim + 1);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const o = i * dim;
      let z = bias;
      for (let d = 0; d < dim; d++) z += w[d] * rows[o + d];
      const err = (sigmoid(z) - labels[i]) * (labels[i] ? wPos : wNeg);
      for (let d = 0; d < dim; d++) grad[d] += err * rows[o + d];
      grad[dim] += err;
    }
    for (let d = 0; d <= dim; d++) {
      const g = grad[d] / n + (d < dim ? l2 * w[d] : 0);
      m[d] = 0.9 * m[d] + 0.1 * g;
      v[d] = 0.999 * v[d] + 0.001 * g * g;
      const step = (learningRate * (m[d] / (1 - 0.9 ** epoch))) / (Math.sqrt(v[d] / (1 - 0.999 ** epoch)) + 1e-8);
      if (d < dim) w[d] -= step;
      else bias -= step;
    }
  }
  return { weights: Array.from(w), bias };
}
