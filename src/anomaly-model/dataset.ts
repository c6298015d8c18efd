import { constants as fsConstants } from 'node:fs';
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

export interface ReadFolderOptions {
  /** Read nothing whose real path is outside this folder (links pointing out are skipped) and only regular files. */
  confineTo?: string;
  /** How error messages name the folder (default: the path given). */
  label?: string;
}

const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/** Where `p` really is, when that is a folder (or, with `file`, a regular file) inside `root`; null otherwise. Never opens it. */
async function confined(root: string, p: string, kind: 'dir' | 'file'): Promise<string | null> {
  const real = await fs.realpath(p).catch(() => null);
  if (!real || !inside(root, real)) return null;
  const st = await fs.lstat(real).catch(() => null);
  return st && (kind === 'dir' ? st.isDirectory() : st.isFile()) ? real : null;
}

/** Reads a regular file without blocking on a FIFO swapped in after the listing. */
async function readRegular(p: string): Promise<Buffer> {
  const handle = await fs.open(p, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW);
  try {
    if (!(await handle.stat()).isFile()) throw new Error('not a regular file');
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Reads `normal/*.{jpg,png}` and `anomalous/<type>/*.{jpg,png}` (with optional `<name>.mask.png`), in name order. */
export async function readDatasetFolder(root: string, options: ReadFolderOptions = {}): Promise<Dataset> {
  const dir = path.resolve(root);
  const jail = options.confineTo ? await fs.realpath(options.confineTo) : null;
  const where = async (rel: string, kind: 'dir' | 'file') => (jail ? confined(jail, path.join(dir, rel), kind) : path.join(dir, rel));
  const list = async (sub: string) => {
    const at = await where(sub, 'dir');
    return at ? (await fs.readdir(at).catch(() => [] as string[])).sort() : [];
  };
  const items: DatasetItem[] = [];
  const file = async (rel: string): Promise<(() => Promise<Buffer>) | null> => {
    const at = await where(rel, 'file');
    if (!at) return null;
    return jail ? () => readRegular(at) : () => fs.readFile(at);
  };
  for (const name of await list('normal')) {
    const load = IMAGE.test(name) && !MASK.test(name) ? await file(`normal/${name}`) : null;
    if (load) items.push({ id: `normal/${name}`, label: 'normal', type: null, load, loadMask: null });
  }
  for (const type of await list('anomalous')) {
    const names = await list(`anomalous/${type}`);
    const masks = new Set(names.filter((n) => MASK.test(n)));
    for (const name of names) {
      if (!IMAGE.test(name) || MASK.test(name)) continue;
      const load = await file(`anomalous/${type}/${name}`);
      if (!load) continue;
      const mask = `${name.replace(/\.[^.]+$/, '')}.mask.png`;
      const loadMask = masks.has(mask) ? await file(`anomalous/${type}/${mask}`) : null;
      items.push({ id: `anomalous/${type}/${name}`, label: 'anomalous', type, load, loadMask });
    }
  }
  if (!items.some((i) => i.label === 'normal')) {
    throw new Error(
      `${options.label ?? root} has no normal images: expected normal/*.jpg or normal/*.png (and optionally anomalous/<type>/*.jpg)`,
    );
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
