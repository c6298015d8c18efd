import crypto from 'node:crypto';
import { type Backbone } from '../adapters/backbone/backbone.port';
import { type DatasetItem } from './dataset';
import {
  ChannelMoments,
  fitProjection,
  flippedStats,
  type ImageFeatures,
  modelImageFor,
  nearestDistances,
  type Projection,
  project,
  rawFeatures,
  rawFeaturesOf,
  standardisedRows,
} from './features';
import { greedyCoreset, seededRandom, shuffle } from './numeric';
import { CORESET_POOL, FOLDS, MIN_CLASSIFIER_ANOMALIES, type ProfileConfig, type Progress, PROJECTION_SAMPLE } from './profiles';
import { maskGrid } from './scoring';

// Training steps 1 and 2: every picture's features once, then the memory of normal patches.

export interface TrainingImage {
  item: DatasetItem;
  positive: boolean;
  fold: number;
  f: ImageFeatures;
  /** Share of anomalous pixels per patch (the mask on the patch grid); null without a mask. */
  mask: Float32Array | null;
  /** Distance of each memory cell (the coarser grid) to the memory, its own patches left out: an out-of-fold score for normals too. */
  memory: Float32Array;
  /** Standardised descriptors of a few cells and whether each is anomalous: what the patch classifier learns from. */
  cells: { index: number[]; rows: Float32Array[]; labels: number[] };
}

/** Normal pictures give a few random cells; a masked anomaly its mask cells and a few clean ones; an unmasked one waits for the memory. */
function sampleCells(
  positive: boolean,
  mask: Float32Array | null,
  count: number,
  random: () => number,
): { cells: number[]; labels: number[] } {
  if (!positive) {
    const cells = shuffle([...Array(count).keys()], random).slice(0, 24);
    return { cells, labels: cells.map(() => 0) };
  }
  if (!mask) return { cells: [], labels: [] };
  const on = [...mask.keys()].filter((c) => mask[c] >= 0.25);
  const off = shuffle(
    [...mask.keys()].filter((c) => mask[c] === 0),
    random,
  ).slice(0, 8);
  return { cells: [...on, ...off], labels: [...on.map(() => 1), ...off.map(() => 0)] };
}

/** Stratified, seeded fold numbers: each label (and anomaly type) spread evenly over the folds. */
function assignFolds(items: DatasetItem[], folds: number, random: () => number): number[] {
  const out = new Array<number>(items.length);
  const groups = new Map<string, number[]>();
  items.forEach((item, i) =>
    groups.set(`${item.label}/${item.type ?? ''}`, [...(groups.get(`${item.label}/${item.type ?? ''}`) ?? []), i]),
  );
  let next = 0;
  for (const key of [...groups.keys()].sort()) {
    for (const i of shuffle(groups.get(key)!, random)) out[i] = next++ % folds;
  }
  return out;
}

/** 1a. The projection, its standardisation set by the descriptors of a few normal pictures. */
async function fitProjectionOn(
  backbone: Backbone,
  items: DatasetItem[],
  config: ProfileConfig,
  seed: number,
  random: () => number,
  progress: Progress,
) {
  const normals = shuffle(
    items.filter((i) => i.label === 'normal'),
    random,
  ).slice(0, PROJECTION_SAMPLE);
  let moments: ChannelMoments | null = null;
  let select: number[] | null = null;
  for (const [n, item] of normals.entries()) {
    const raw = await rawFeatures(backbone, await item.load(), config.area);
    moments ??= new ChannelMoments(raw.channels);
    moments.add((await raw.aggregated.data()) as Float32Array);
    raw.aggregated.dispose();
    if (backbone.memoryTaps)
      select = raw.taps
        .filter((t) => backbone.memoryTaps!.includes(t.tap))
        .flatMap((t) => [...Array(t.count).keys()].map((i) => t.start + i));
    progress('projection', n + 1, normals.length);
  }
  return fitProjection(moments!, config.dim, seed, select?.length ? select : null);
}

/** A second backbone for the flipped views, opened for the extraction: it must be the same network. */
async function openSecond(backbone: Backbone, open: () => Promise<Backbone>): Promise<Backbone> {
  const second = await open();
  const [a, b] = [backbone.identity, second.identity];
  if (a.weightsSha256 !== b.weightsSha256 || a.taps.join(',') !== b.taps.join(',')) {
    await second.close();
    throw new Error(
      `the second backbone (${b.name}, weights ${b.weightsSha256.slice(0, 12)}) is not the first (${a.name}, weights ${a.weightsSha256.slice(0, 12)})`,
    );
  }
  return second;
}

/**
 * 1. The projection from a few normal pictures, then every picture's features (and mask) once; with
 * `openSecondBackbone`, a second backbone looks at the flipped views meanwhile.
 */
export async function extractAll(
  backbone: Backbone,
  items: DatasetItem[],
  config: ProfileConfig,
  seed: number,
  progress: Progress,
  openSecondBackbone?: () => Promise<Backbone>,
) {
  const random = seededRandom(seed);
  const projection = await fitProjectionOn(backbone, items, config, seed, random, progress);
  const folds = assignFolds(items, FOLDS, random);
  // Flipped views only feed the image classifier, which needs labelled anomalies.
  const views = items.filter((i) => i.label === 'anomalous').length >= MIN_CLASSIFIER_ANOMALIES ? config.views : 1;
  const second = views > 1 && openSecondBackbone ? await openSecond(backbone, openSecondBackbone) : undefined;
  try {
    return { projection, ...(await extractEach(backbone, items, config, { projection, folds, views, random, progress, second })), views };
  } finally {
    await second?.close();
  }
}

/** A picture read and decoded, its flipped views already on their way to the second backbone. */
async function prepare(backbone: Backbone, item: DatasetItem, area: number, views: number, second?: Backbone) {
  const bytes = await item.load();
  const image = await modelImageFor(backbone, bytes, area);
  const flipped = second && views > 1 ? flippedStats(second, image.input, 1, views) : undefined;
  // Awaited with the picture's turn; until then a failure must not count as unhandled.
  flipped?.catch(() => undefined);
  return { bytes, image, flipped };
}

/**
 * Every picture's features. With a second backbone, the next picture is read and its flipped views
 * sent there while this one's are finished here, so both cores keep busy.
 */
async function extractEach(
  backbone: Backbone,
  items: DatasetItem[],
  config: ProfileConfig,
  {
    projection,
    folds,
    views,
    random,
    progress,
    second,
  }: { projection: Projection; folds: number[]; views: number; random: () => number; progress: Progress; second?: Backbone },
) {
  const hashes: string[] = [];
  const images: Omit<TrainingImage, 'memory'>[] = [];
  let next = items.length ? prepare(backbone, items[0], config.area, views, second) : null;
  for (const [n, item] of items.entries()) {
    const { bytes, image, flipped } = await next!;
    next = n + 1 < items.length && second ? prepare(backbone, items[n + 1], config.area, views, second) : null;
    next?.catch(() => undefined);
    hashes.push(`${item.label}\t${item.type ?? ''}\t${crypto.createHash('sha256').update(bytes).digest('hex')}`);
    const raw = await rawFeaturesOf(backbone, image, views, flipped);
    const positive = item.label === 'anomalous';
    const mask = item.loadMask ? await maskGrid(await item.loadMask(), raw) : null;
    const sample = sampleCells(positive, mask, raw.rows * raw.cols, random);
    const rows = await standardisedRows(raw, projection, sample.cells);
    const f = await project(raw, projection);
    images.push({ item, positive, fold: folds[n], f, mask, cells: { index: sample.cells, rows, labels: sample.labels } });
    progress('features', n + 1, items.length);
    next ??= n + 1 < items.length ? prepare(backbone, items[n + 1], config.area, views, second) : null;
  }
  return { images, hashes };
}

/** 2. The memory: a greedy coreset of normal patches, and every training picture's distances to it (its own patches left out). */
export async function buildMemory(
  images: Omit<TrainingImage, 'memory'>[],
  config: ProfileConfig,
  random: () => number,
  progress: Progress,
) {
  const normals = images.filter((x) => !x.positive);
  const dim = normals[0].f.dim;
  const rows: { image: number; cell: number }[] = [];
  normals.forEach((x, image) => {
    for (let cell = 0; cell < x.f.memory.rows * x.f.memory.cols; cell++) rows.push({ image, cell });
  });
  const pool = shuffle(rows, random).slice(0, CORESET_POOL);
  const flat = new Float32Array(pool.length * dim);
  pool.forEach((r, k) => flat.set(normals[r.image].f.memory.patches.subarray(r.cell * dim, (r.cell + 1) * dim), k * dim));
  const bankSize = Math.min(config.bankSize, pool.length);
  const chosen = greedyCoreset(flat, dim, bankSize, random, (k) => progress('memory', k, bankSize));
  progress('memory', bankSize, bankSize);
  const bank = new Float32Array(bankSize * dim);
  chosen.forEach((row, k) => bank.set(flat.subarray(row * dim, (row + 1) * dim), k * dim));
  const source = chosen.map((row) => images.indexOf(normals[pool[row].image]));
  const scored: TrainingImage[] = [];
  for (const [n, x] of images.entries()) {
    scored.push({ ...x, memory: await nearestDistances(x.f.memory.patches, bank, dim, (j) => source[j] === n) });
    progress('memory scores', n + 1, images.length);
  }
  return { bank, images: scored };
}

const NONE = new Float32Array(0);

/**
 * Lets go of every picture's patch descriptors once the memory and the scorers have read them
 * (about 250 MB on 900 pictures at 160²), before the patch classifier gathers its rows.
 */
export function dropPatchDescriptors(images: TrainingImage[]): void {
  // In place: the extraction's records share these features.
  for (const { f } of images) {
    f.patches = NONE;
    f.memory = { ...f.memory, patches: NONE };
  }
}
