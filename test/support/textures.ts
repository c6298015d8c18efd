import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../../src/anomaly-model/numeric';

export interface Defect {
  kind: 'blob' | 'scratch';
  /** Bounding box in pixels of the drawn defect, from the image's top-left corner (a Box's shape, in pixels). */
  box: { x: number; y: number; width: number; height: number };
}

/** A brushed-metal-like surface: oriented stripes plus noise, different per seed. */
export function surface(seed: number, side = 160): Float32Array {
  const random = seededRandom(seed);
  const phase = random() * Math.PI * 2;
  const freq = 0.18 + random() * 0.04;
  const px = new Float32Array(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) px[y * side + x] = 0.55 + 0.12 * Math.sin(freq * (x + 0.3 * y) + phase) + 0.05 * (random() - 0.5);
  }
  return px;
}

/** Draws a dark blob or a bright scratch and returns where it is. */
export function drawDefect(px: Float32Array, side: number, seed: number, kind: Defect['kind']): Defect {
  const random = seededRandom(seed * 7919);
  const cx = 40 + Math.floor(random() * (side - 80));
  const cy = 40 + Math.floor(random() * (side - 80));
  if (kind === 'blob') {
    const r = 9;
    for (let y = cy - r; y <= cy + r; y++)
      for (let x = cx - r; x <= cx + r; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) px[y * side + x] = 0.08;
    return { kind, box: { x: cx - r, y: cy - r, width: 2 * r + 1, height: 2 * r + 1 } };
  }
  const len = 36;
  for (let t = -len / 2; t <= len / 2; t++) {
    for (let w = -1; w <= 1; w++) px[(cy + Math.round(t * 0.6) + w) * side + cx + t] = 0.98;
  }
  return { kind, box: { x: cx - len / 2, y: cy - Math.round((len / 2) * 0.6) - 1, width: len + 1, height: Math.round(len * 0.6) + 3 } };
}

export async function toPng(px: Float32Array, side: number): Promise<Buffer> {
  const data = Buffer.from(Array.from(px, (v) => Math.max(0, Math.min(255, Math.round(v * 255)))));
  return sharp(data, { raw: { width: side, height: side, channels: 1 } })
    .png()
    .toBuffer();
}

export async function maskPng(defect: Defect, side: number): Promise<Buffer> {
  const px = new Float32Array(side * side);
  const { x: x0, y: y0, width, height } = defect.box;
  for (let y = y0; y < y0 + height; y++) for (let x = x0; x < x0 + width; x++) px[y * side + x] = 1;
  return toPng(px, side);
}

/** Writes a dataset folder: normal/, anomalous/<kind>/ with masks. Returns the defects by file id. */
export async function writeDataset(
  root: string,
  opts: { normal: number; anomalous: number; seed: number; side?: number },
): Promise<Map<string, Defect>> {
  const side = opts.side ?? 160;
  fs.mkdirSync(path.join(root, 'normal'), { recursive: true });
  const defects = new Map<string, Defect>();
  for (let i = 0; i < opts.normal; i++)
    fs.writeFileSync(path.join(root, 'normal', `n${i}.png`), await toPng(surface(opts.seed + i, side), side));
  for (let i = 0; i < opts.anomalous; i++) {
    const kind = i % 2 ? 'scratch' : 'blob';
    const px = surface(opts.seed + 1000 + i, side);
    const defect = drawDefect(px, side, opts.seed + i, kind);
    fs.mkdirSync(path.join(root, 'anomalous', kind), { recursive: true });
    fs.writeFileSync(path.join(root, 'anomalous', kind, `a${i}.png`), await toPng(px, side));
    fs.writeFileSync(path.join(root, 'anomalous', kind, `a${i}.mask.png`), await maskPng(defect, side));
    defects.set(`anomalous/${kind}/a${i}.png`, defect);
  }
  return defects;
}
