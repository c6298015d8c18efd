import type * as tfType from '@tensorflow/tfjs-core';
import { type Backbone, type BackboneInput, type FeatureMap } from '../adapters/backbone/backbone.port';
import { tfjsWasm } from '../common/tfjs-wasm';
import { flippedView, loadModelImage, type ModelImage } from './image-io';
import { seededRandom } from './numeric';
import { MEMORY_POOL } from './profiles';

/**
 * What the model reads of a picture, from the backbone's tapped layers:
 * - patch descriptors on the finest tapped grid (stride 8 for MobileNetV2): every tap resized to
 *   that grid and concatenated, averaged over each 3×3 neighbourhood (PatchCore's local
 *   aggregation); the memory taps' channels, standardised (and randomly projected when more than
 *   `dim`), make the descriptor the memory compares, all channels feed the patch classifier;
 * - pooled statistics per tap and channel (mean, max and spread over the picture): what the
 *   image-level classifier reads.
 */
export interface ImageFeatures {
  rows: number;
  cols: number;
  /** rows·cols descriptors of `dim` floats, row-major. */
  patches: Float32Array;
  dim: number;
  /** What the memory compares: `patches` averaged over MEMORY_POOL² cells, on a coarser grid. */
  memory: { rows: number; cols: number; patches: Float32Array };
  /** The pooled statistics averaged over the picture's views (the classifier's mean logit over them). */
  pooled: Float32Array;
  /** Each view's pooled statistics (view 0 the picture as it is): what the classifier learns from. */
  pooledViews: Float32Array[];
  /** The photo's own size, for heatmaps with its aspect ratio. */
  width: number;
  height: number;
}

/**
 * Per-channel standardisation of the selected channels (the backbone's memory taps), then a
 * seeded Gaussian projection to `dim` numbers, or none when they are no more than `dim`: folded
 * into one matrix and offset.
 */
export interface Projection {
  channels: number;
  dim: number;
  seed: number;
  mean: Float32Array;
  scale: Float32Array;
  /** Channels the descriptors are made of, in order; null: all. */
  select: number[] | null;
  /** True: the selected channels themselves, standardised; false: a random projection of them. */
  identity: boolean;
}

interface FoldedProjection {
  matrix: tfType.Tensor2D;
  offset: tfType.Tensor1D;
  /** An identity projection: just these columns, scaled (a gather, not a matrix product on every patch). */
  identity: { columns: tfType.Tensor1D; scale: tfType.Tensor1D } | null;
}

const folded = new WeakMap<Projection, FoldedProjection>();

async function foldedProjection(p: Projection): Promise<FoldedProjection> {
  const cached = folded.get(p);
  if (cached) return cached;
  const tf = await tfjsWasm();
  const random = seededRandom(p.seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const matrix = new Float32Array(p.channels * p.dim);
  const offset = new Float32Array(p.dim);
  const norm = 1 / Math.sqrt(p.dim);
  const channels = p.select ?? [...Array(p.channels).keys()];
  channels.forEach((c, k) => {
    for (let d = 0; d < p.dim; d++) {
      const g = (p.identity ? (d === k ? 1 : 0) : gaussian() * norm) / p.scale[c];
      matrix[c * p.dim + d] = g;
      offset[d] -= p.mean[c] * g;
    }
  });
  const identity = p.identity
    ? {
        columns: tf.keep(tf.tensor1d(channels.slice(0, p.dim), 'int32')),
        scale: tf.keep(tf.tensor1d(channels.slice(0, p.dim).map((c) => 1 / p.scale[c]))),
      }
    : null;
  const f = { matrix: tf.keep(tf.tensor2d(matrix, [p.channels, p.dim])), offset: tf.keep(tf.tensor1d(offset)), identity };
  folded.set(p, f);
  return f;
}

export interface RawFeatures {
  rows: number;
  cols: number;
  channels: number;
  /** Where each tap's channels sit in `aggregated`. */
  taps: { tap: string; start: number; count: number }[];
  /** rows·cols × channels aggregated descriptors before projection. */
  aggregated: tfType.Tensor2D;
  pooled: Float32Array;
  pooledViews: Float32Array[];
  width: number;
  height: number;
}

/**
 * Runs the backbone on a picture at about `area` pixels; the caller disposes `aggregated`. With
 * `views` > 1 the backbone also sees the picture flipped (`flippedView`) and the pooled statistics
 * are kept per view and averaged; the patches come from the picture as it is.
 */
export async function rawFeatures(backbone: Backbone, bytes: Buffer, area: number, views = 1): Promise<RawFeatures> {
  return rawFeaturesOf(backbone, await modelImageFor(backbone, bytes, area), views);
}

/** The picture decoded and resized for the backbone at about `area` pixels. */
export const modelImageFor = (backbone: Backbone, bytes: Buffer, area: number): Promise<ModelImage> =>
  loadModelImage(bytes, (aspect) => backbone.inputSize(aspect, area));

/**
 * `rawFeatures` of a picture already decoded. `flipped`: the pooled statistics of views 1 to
 * `views` − 1, being taken elsewhere (another backbone, on another core); without it this backbone takes them.
 */
export async function rawFeaturesOf(
  backbone: Backbone,
  image: ModelImage,
  views = 1,
  flipped?: Promise<Float32Array[]>,
): Promise<RawFeatures> {
  const tf = await tfjsWasm();
  const maps = await backbone.extract(image.input);
  if (!maps.length) throw new Error('the backbone returned no feature maps');
  const finest = maps.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
  const { width: cols, height: rows } = finest;
  const pooledViews = [pooledStats(maps), ...(await (flipped ?? flippedStats(backbone, image.input, 1, views)))];
  if (pooledViews.length !== views) throw new Error(`expected ${views} views of the picture, got ${pooledViews.length}`);
  const pooled = meanOf(pooledViews);
  const aggregated = tf.tidy(() => {
    const grids = maps.map((m) => {
      const t = tf.tensor3d(m.data, [m.height, m.width, m.channels]);
      return m.width === cols && m.height === rows ? t : tf.image.resizeNearestNeighbor(t, [rows, cols]);
    });
    const stacked = tf.expandDims(tf.concat(grids, 2), 0) as tfType.Tensor4D;
    const smoothed = tf.avgPool(stacked, 3, 1, 'same');
    return tf.reshape(smoothed, [rows * cols, smoothed.shape[3]]) as tfType.Tensor2D;
  });
  const starts = maps.map((_, i) => maps.slice(0, i).reduce((sum, m) => sum + m.channels, 0));
  const taps = maps.map((m, i) => ({ tap: m.tap, start: starts[i], count: m.channels }));
  return { rows, cols, channels: aggregated.shape[1], taps, aggregated, pooled, pooledViews, width: image.width, height: image.height };
}

/**
 * The pooled statistics of views `from` to `to` − 1 of a picture (`flippedView`): one forward pass
 * each, all asked for at once, so a backbone on another thread has the next one queued.
 */
export const flippedStats = (backbone: Backbone, input: BackboneInput, from: number, to: number): Promise<Float32Array[]> =>
  viewStats(
    backbone,
    input,
    Array.from({ length: Math.max(0, to - Math.max(1, from)) }, (_, k) => Math.max(1, from) + k),
  );

/** The pooled statistics of the given views of a picture, in that order, all asked for at once. */
export async function viewStats(backbone: Backbone, input: BackboneInput, views: number[]): Promise<Float32Array[]> {
  const maps = await Promise.all(views.map((view) => backbone.extract(flippedView(input, view))));
  return maps.map(pooledStats);
}

/** The element-wise mean of equally long rows. */
export function meanOf(rows: Float32Array[]): Float32Array {
  if (rows.length === 1) return rows[0];
  const out = new Float32Array(rows[0].length);
  for (const r of rows) for (let d = 0; d < out.length; d++) out[d] += r[d] / rows.length;
  return out;
}

/** Mean, max and spread of every channel of every tap over the picture. */
function pooledStats(maps: FeatureMap[]): Float32Array {
  const out = new Float32Array(maps.reduce((n, m) => n + 3 * m.channels, 0));
  let o = 0;
  for (const m of maps) {
    const n = m.width * m.height;
    const C = m.channels;
    const sum = new Float64Array(C);
    const sumSq = new Float64Array(C);
    const max = new Float64Array(C).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) {
        const v = m.data[i * C + c];
        sum[c] += v;
        sumSq[c] += v * v;
        if (v > max[c]) max[c] = v;
      }
    }
    for (let c = 0; c < C; c++) {
      const mean = sum[c] / n;
      out[o + c] = mean;
      out[o + C + c] = max[c];
      out[o + 2 * C + c] = Math.sqrt(Math.max(0, sumSq[c] / n - mean * mean));
    }
    o += 3 * C;
  }
  return out;
}

/**
 * Per-channel sums of descriptors for the projection's standardisation, added a picture at a time
 * (in float64, on the JavaScript side: gathering the sample pictures on the backend made its memory
 * grow by about 200 MB for good).
 */
export class ChannelMoments {
  readonly sum: Float64Array;
  readonly squares: Float64Array;
  count = 0;

  constructor(readonly channels: number) {
    this.sum = new Float64Array(channels);
    this.squares = new Float64Array(channels);
  }

  /** Rows of `channels` numbers, row-major. */
  add(rows: Float32Array): void {
    for (let i = 0; i < rows.length; i += this.channels) {
      for (let c = 0; c < this.channels; c++) {
        const v = rows[i + c];
        this.sum[c] += v;
        this.squares[c] += v * v;
      }
    }
    this.count += rows.length / this.channels;
  }
}

/** Per-channel mean and spread over the aggregated descriptors of a few normal pictures; descriptors of at most `maxDim` numbers. */
export function fitProjection(moments: ChannelMoments, maxDim: number, seed: number, select: number[] | null): Projection {
  const n = Math.max(1, moments.count);
  const mean = Float32Array.from(moments.sum, (s) => s / n);
  const scale = Float32Array.from(moments.squares, (q, c) => Math.sqrt(Math.max(0, q / n - (moments.sum[c] / n) ** 2)) + 1e-3);
  const selected = select?.length ?? moments.channels;
  return { channels: moments.channels, dim: Math.min(maxDim, selected), seed, mean, scale, select, identity: selected <= maxDim };
}

/**
 * A linear classifier over the standardised aggregated descriptors (all channels, not the
 * projection): the patch classifier that draws heatmaps.
 */
export interface PatchHead {
  weights: number[];
  bias: number;
}

/** Standardised descriptors of some cells, for fitting a patch head. */
export async function standardisedRows(raw: RawFeatures, projection: Projection, cells: number[]): Promise<Float32Array[]> {
  if (!cells.length) return [];
  const tf = await tfjsWasm();
  const t = tf.tidy(() =>
    tf.div(tf.sub(tf.gather(raw.aggregated, tf.tensor1d(cells, 'int32')), tf.tensor1d(projection.mean)), tf.tensor1d(projection.scale)),
  );
  const data = (await t.data()) as Float32Array;
  t.dispose();
  // Views of one block per picture, not a copy per row: the patch classifier copies them once more and lets the block go.
  return cells.map((_, i) => data.subarray(i * raw.channels, (i + 1) * raw.channels));
}

/** Projects (and, given a patch head, scores) the aggregated descriptors, then releases them. */
export async function project(
  raw: RawFeatures,
  projection: Projection,
  head?: PatchHead | null,
): Promise<ImageFeatures & { patchLogits: Float32Array | null }> {
  const tf = await tfjsWasm();
  if (raw.channels !== projection.channels) {
    raw.aggregated.dispose();
    throw new Error(`the backbone gave ${raw.channels} channels; the model was trained on ${projection.channels}`);
  }
  const p = await foldedProjection(projection);
  const out = tf.tidy(() =>
    p.identity
      ? tf.add(tf.mul(tf.gather(raw.aggregated, p.identity.columns, 1), p.identity.scale), p.offset)
      : tf.add(tf.matMul(raw.aggregated, p.matrix), p.offset),
  );
  const coarse = tf.tidy(() =>
    tf.avgPool(tf.reshape(out, [1, raw.rows, raw.cols, projection.dim]) as tfType.Tensor4D, MEMORY_POOL, MEMORY_POOL, 'same'),
  );
  const logits = head
    ? tf.tidy(() => {
        const w = tf.div(tf.tensor1d(head.weights), tf.tensor1d(projection.scale));
        const b = head.bias - tf.sum(tf.mul(w, tf.tensor1d(projection.mean))).dataSync()[0];
        return tf.add(tf.reshape(tf.matMul(raw.aggregated, tf.reshape(w, [raw.channels, 1])), [-1]), b);
      })
    : null;
  const patches = (await out.data()) as Float32Array;
  const patchLogits = logits ? ((await logits.data()) as Float32Array) : null;
  const memory = { rows: coarse.shape[1], cols: coarse.shape[2], patches: (await coarse.data()) as Float32Array };
  tf.dispose([out, coarse, raw.aggregated, ...(logits ? [logits] : [])]);
  return {
    rows: raw.rows,
    cols: raw.cols,
    patches,
    dim: projection.dim,
    memory,
    pooled: raw.pooled,
    pooledViews: raw.pooledViews,
    width: raw.width,
    height: raw.height,
    patchLogits,
  };
}

/** A decoded picture's features under a model's projection (and patch classifier), from the picture as it is. */
export async function imageFeatures(backbone: Backbone, image: ModelImage, projection: Projection, head?: PatchHead | null) {
  return project(await rawFeaturesOf(backbone, image, 1), projection, head);
}

/**
 * Distance from every query row to its nearest bank row: exact search by one matrix product on
 * the wasm backend, min_j |a−b_j|² = |a|² + min_j (|b_j|² − 2a·b_j), with the bank augmented by its
 * norms (and pre-transposed) once. `exclude(j)` drops bank rows (a training image's own patches).
 */
export async function nearestDistances(
  queries: Float32Array,
  bank: Float32Array,
  dim: number,
  exclude?: (j: number) => boolean,
): Promise<Float32Array> {
  const tf = await tfjsWasm();
  const q = queries.length / dim;
  const m = bank.length / dim;
  const augmentedQueries = new Float32Array(q * (dim + 1));
  const norms = new Float32Array(q);
  for (let i = 0; i < q; i++) {
    let n = 0;
    for (let d = 0; d < dim; d++) {
      const v = queries[i * dim + d];
      augmentedQueries[i * (dim + 1) + d] = v;
      n += v * v;
    }
    augmentedQueries[i * (dim + 1) + dim] = 1;
    norms[i] = n;
  }
  const bankTensor = exclude ? tf.tensor2d(transposedBank(bank, dim, exclude), [dim + 1, m]) : cachedBank(tf, bank, dim);
  const t = tf.tidy(() => tf.min(tf.matMul(tf.tensor2d(augmentedQueries, [q, dim + 1]), bankTensor), 1));
  if (exclude) bankTensor.dispose();
  const nearest = (await t.data()) as Float32Array;
  t.dispose();
  return nearest.map((v, i) => Math.sqrt(Math.max(0, v + norms[i])));
}

// A model's bank stays on the backend while the model is in use (not copied in for every picture); freed with the model.
const cachedBanks = new WeakMap<Float32Array, tfType.Tensor2D>();
const freeBank = new FinalizationRegistry<tfType.Tensor2D>((t) => t.dispose());

function cachedBank(tf: typeof tfType, bank: Float32Array, dim: number): tfType.Tensor2D {
  let t = cachedBanks.get(bank);
  if (!t) {
    t = tf.keep(tf.tensor2d(transposedBank(bank, dim), [dim + 1, bank.length / dim]));
    cachedBanks.set(bank, t);
    freeBank.register(bank, t);
  }
  return t;
}

/** (dim+1) × m: −2·bankᵀ over a row of squared norms (+∞-like where excluded). */
function transposedBank(bank: Float32Array, dim: number, exclude?: (j: number) => boolean): Float32Array {
  const m = bank.length / dim;
  const out = new Float32Array((dim + 1) * m);
  for (let j = 0; j < m; j++) {
    let n = 0;
    for (let d = 0; d < dim; d++) {
      const v = bank[j * dim + d];
      out[d * m + j] = -2 * v;
      n += v * v;
    }
    out[dim * m + j] = exclude?.(j) ? 1e30 : n;
  }
  return out;
}
