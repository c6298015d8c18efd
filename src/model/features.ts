import { type ModelImage } from './image-io';

/**
 * Dense local descriptors computed by vigil itself (no pretrained weights can be downloaded):
 * per cell of `cell`×`cell` pixels, intensity statistics (relative to the image's own mean and
 * spread, so lighting does not matter), gradient strength and an 8-way orientation histogram
 * (HOG-like), Laplacian energy (spots and fine cracks) and colour-opponent means. Each patch
 * descriptor is its cell plus the mean of its 3×3 neighbourhood (PatchCore's local
 * aggregation), so a patch is judged with its context.
 */
export const CELL_FEATURES = 16;
export const DESCRIPTOR = 2 * CELL_FEATURES;

export interface FeatureConfig {
  /** Images are squashed to side×side pixels. */
  side: number;
  /** Cell size in pixels; side must be a multiple of 2×cell. */
  cell: number;
}

export interface PatchFeatures {
  /** cols×cols descriptors, row-major, DESCRIPTOR floats each. */
  patches: Float32Array;
  cols: number;
  /** The same, averaged over 2×2 patches: what the nearest-neighbour memory compares. */
  pooled: Float32Array;
  pooledCols: number;
}

export function patchFeatures(image: ModelImage, config: FeatureConfig): PatchFeatures {
  const { side } = image;
  const { cell } = config;
  const cols = side / cell;
  const { gray } = image;
  const n = side * side;

  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    sum += gray[i];
    sumSq += gray[i] * gray[i];
  }
  const mean = sum / n;
  const spread = Math.sqrt(Math.max(0, sumSq / n - mean * mean)) + 0.02;
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = (gray[i] - mean) / spread;

  const cells = new Float32Array(cols * cols * CELL_FEATURES);
  const perCell = cell * cell;
  for (let cy = 0; cy < cols; cy++) {
    for (let cx = 0; cx < cols; cx++) {
      const o = (cy * cols + cx) * CELL_FEATURES;
      let s = 0;
      let s2 = 0;
      let lo = Infinity;
      let hi = -Infinity;
      let mag = 0;
      let lap = 0;
      let rg = 0;
      let by = 0;
      for (let y = cy * cell; y < (cy + 1) * cell; y++) {
        const up = y > 0 ? y - 1 : y;
        const down = y < side - 1 ? y + 1 : y;
        for (let x = cx * cell; x < (cx + 1) * cell; x++) {
          const i = y * side + x;
          const v = g[i];
          s += v;
          s2 += v * v;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          const left = x > 0 ? g[i - 1] : v;
          const right = x < side - 1 ? g[i + 1] : v;
          const above = g[up * side + x];
          const below = g[down * side + x];
          const gx = right - left;
          const gy = below - above;
          const m = Math.sqrt(gx * gx + gy * gy);
          mag += m;
          // The octant of (gx, gy) without atan2.
          const ax = gx < 0 ? -gx : gx;
          const ay = gy < 0 ? -gy : gy;
          const bin = gy >= 0 ? (gx >= 0 ? (ax >= ay ? 0 : 1) : ax >= ay ? 3 : 2) : gx < 0 ? (ax >= ay ? 4 : 5) : ax >= ay ? 7 : 6;
          cells[o + 5 + bin] += m;
          const l = 4 * v - left - right - above - below;
          lap += l < 0 ? -l : l;
          rg += image.redGreen[i];
          by += image.blueYellow[i];
        }
      }
      const m = s / perCell;
      cells[o] = m;
      cells[o + 1] = Math.sqrt(Math.max(0, s2 / perCell - m * m));
      cells[o + 2] = lo;
      cells[o + 3] = hi;
      cells[o + 4] = mag / perCell;
      for (let b = 0; b < 8; b++) cells[o + 5 + b] /= perCell;
      cells[o + 13] = lap / perCell;
      cells[o + 14] = (4 * rg) / perCell;
      cells[o + 15] = (4 * by) / perCell;
    }
  }

  const patches = new Float32Array(cols * cols * DESCRIPTOR);
  for (let cy = 0; cy < cols; cy++) {
    for (let cx = 0; cx < cols; cx++) {
      const o = (cy * cols + cx) * DESCRIPTOR;
      const c = (cy * cols + cx) * CELL_FEATURES;
      for (let f = 0; f < CELL_FEATURES; f++) patches[o + f] = cells[c + f];
      let count = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const y = cy + dy;
        if (y < 0 || y >= cols) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const x = cx + dx;
          if (x < 0 || x >= cols) continue;
          const k = (y * cols + x) * CELL_FEATURES;
          for (let f = 0; f < CELL_FEATURES; f++) patches[o + CELL_FEATURES + f] += cells[k + f];
          count++;
        }
      }
      for (let f = 0; f < CELL_FEATURES; f++) patches[o + CELL_FEATURES + f] /= count;
    }
  }

  const pooledCols = cols / 2;
  const pooled = new Float32Array(pooledCols * pooledCols * DESCRIPTOR);
  for (let py = 0; py < pooledCols; py++) {
    for (let px = 0; px < pooledCols; px++) {
      const o = (py * pooledCols + px) * DESCRIPTOR;
      for (const [dy, dx] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]) {
        const k = ((2 * py + dy) * cols + (2 * px + dx)) * DESCRIPTOR;
        for (let f = 0; f < DESCRIPTOR; f++) pooled[o + f] += patches[k + f] / 4;
      }
    }
  }
  return { patches, cols, pooled, pooledCols };
}

/**
 * How far the most extreme patches stray from the rest of their own image, per descriptor
 * dimension: (max − mean)/sd, (mean − min)/sd, mean and sd. A defect is a patch unlike its
 * neighbours, whatever the tile's overall texture or lighting; this needs no memory at all.
 */
export function deviationStats(f: PatchFeatures): number[] {
  const n = f.patches.length / DESCRIPTOR;
  const out: number[] = [];
  for (let d = 0; d < DESCRIPTOR; d++) {
    let sum = 0;
    let sumSq = 0;
    let hi = -Infinity;
    let lo = Infinity;
    for (let i = 0; i < n; i++) {
      const v = f.patches[i * DESCRIPTOR + d];
      sum += v;
      sumSq += v * v;
      if (v > hi) hi = v;
      if (v < lo) lo = v;
    }
    const mean = sum / n;
    const sd = Math.sqrt(Math.max(0, sumSq / n - mean * mean)) + 1e-3;
    out.push((hi - mean) / sd, (mean - lo) / sd, mean, sd);
  }
  return out;
}
