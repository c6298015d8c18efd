import sharp from 'sharp';
import { type Scaler } from './artifact';
import { type ImageFeatures } from './features';
import { type LinearModel, linearScore } from './numeric';
import { MEMORY_POOL, TOP_K } from './profiles';

// The score modes' arithmetic, shared by training (out-of-fold scores) and prediction.

/** The mean of the k highest values. */
export const topMean = (values: ArrayLike<number>, k: number) => {
  const sorted = Float32Array.from(values).sort().reverse();
  const n = Math.max(1, Math.min(k, sorted.length));
  let s = 0;
  for (let i = 0; i < n; i++) s += sorted[i];
  return s / n;
};

/** The cells of the patch grid that a cell of the memory's coarser grid (MEMORY_POOL² patches) covers. */
export function fineCells(coarse: number[], f: Pick<ImageFeatures, 'rows' | 'cols' | 'memory'>): number[] {
  const out: number[] = [];
  for (const cell of coarse) {
    const r0 = Math.floor(cell / f.memory.cols) * MEMORY_POOL;
    const c0 = (cell % f.memory.cols) * MEMORY_POOL;
    for (let r = r0; r < Math.min(f.rows, r0 + MEMORY_POOL); r++)
      for (let c = c0; c < Math.min(f.cols, c0 + MEMORY_POOL); c++) out.push(r * f.cols + c);
  }
  return out;
}

/** A mask as the share of anomalous pixels per patch of a cols×rows grid. */
export async function maskGrid(mask: Buffer, grid: { cols: number; rows: number }): Promise<Float32Array> {
  const data = await sharp(mask).greyscale().resize(grid.cols, grid.rows, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  return Float32Array.from(data, (v) => v / 255);
}

/** The projected descriptor and its squares: what the local patch scorer reads. */
export function expanded(f: ImageFeatures, cell: number, out = new Float32Array(2 * f.dim)): Float32Array {
  for (let d = 0; d < f.dim; d++) {
    const v = f.patches[cell * f.dim + d];
    out[d] = v;
    out[f.dim + d] = Math.min(v * v, 25) - 1;
  }
  return out;
}

/** The image's local score: the mean of its k highest patch logits under a classifier of projected descriptors. */
export function localScore(model: LinearModel, f: ImageFeatures): number {
  const logits = new Float32Array(f.rows * f.cols);
  const row = new Float32Array(2 * f.dim);
  for (let c = 0; c < logits.length; c++) logits[c] = linearScore(model, expanded(f, c, row));
  return topMean(logits, TOP_K);
}

/** The image classifier's logit of pooled statistics. */
export function imageLogit(model: LinearModel, scaler: Scaler, pooled: Float32Array): number {
  let z = model.bias;
  for (let d = 0; d < model.weights.length; d++) z += (model.weights[d] * (pooled[d] - scaler.mean[d])) / scaler.scale[d];
  return z;
}

/** Several scores (classifier logit, memory score, local score) combined into one. */
export const stackScore = (stack: LinearModel, values: number[]) => linearScore(stack, values);
