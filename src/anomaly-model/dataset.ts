import fs from 'node:fs/promises';
import path from 'node:path';
import { seededRandom, shuffle } from './numeric';
import { type Label } from './types';

/** One labelled image; `load` and `loadMask` read lazily so a dataset can be files or database rows alike. */
export interface DatasetItem {
  id: string;
  label: Label;
  /** The anomaly type (the folder under anomalous/), null for normal images. */
  type: string | null;
  load(): Promise<Buffer>;
  /** A binary mask (white = anomalous) when one exists. */
  loadMask: (() => Promise<Buffer>) | null;
}

export interface Dataset {
  root: string;
  items: DatasetItem[];
}

const IMAGE = /\.(jpe?g|png)$/i;
const MASK = /\.mask\.png$/i;

/** Reads `normal/*.{jpg,png}` and `anomalous/<type>/*.{jpg,png}` (with optional `<name>.mask.png`), in name order. */
export async function readDatasetFolder(root: string): Promise<Dataset> {
  const dir = path.resolve(root);
  const list = async (sub: string) => (await fs.readdir(path.join(dir, sub)).catch(() => [] as string[])).sort();
  const items: DatasetItem[] = [];
  const file = (rel: string) => () => fs.readFile(path.join(dir, rel));
  for (const name of await list('normal')) {
    if (IMAGE.test(name) && !MASK.test(name))
      items.push({ id: `normal/${name}`, label: 'normal', type: null, load: file(`normal/${name}`), loadMask: null });
  }
  for (const type of await list('anomalous')) {
    const names = await list(`anomalous/${type}`);
    const masks = new Set(names.filter((n) => MASK.test(n)));
    for (const name of names) {
      if (!IMAGE.test(name) || MASK.test(name)) continue;
      const mask = `${name.replace(/\.[^.]+$/, '')}.mask.png`;
      items.push({
        id: `anomalous/${type}/${name}`,
        label: 'anomalous',
        type,
        load: file(`anomalous/${type}/${name}`),
        loadMask: masks.has(mask) ? file(`anomalous/${type}/${mask}`) : null,
      });
    }
  }
  if (!items.some((i) => i.label === 'normal')) {
    throw new Error(`${root} has no normal images: expected normal/*.jpg or normal/*.png (and optionally anomalous/<type>/*.jpg)`);
  }
  return { root: dir, items };
}

/** A seeded split that keeps each label's (and each anomaly type's) share the same on both sides. */
export function stratifiedSplit<T extends { label: Label; type: string | null }>(
  items: T[],
  share: number,
  seed: number,
): { first: T[]; second: T[] } {
  const random = seededRandom(seed);
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = `${item.label}/${item.type ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  const first: T[] = [];
  const second: T[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = shuffle(groups.get(key)!, random);
    const cut = group.length === 1 ? 1 : Math.round(group.length * share);
    first.push(...group.slice(0, cut));
    second.push(...group.slice(cut));
  }
  return { first, second };
}
