import { badInput } from '../common/errors';
import { type Box } from '../common/box';

export interface TypedRegion {
  box: Box;
  type: string;
}

const EPS = 1e-9;

/** Checks a reviewer's regions; throws BAD_USER_INPUT naming the first bad field. */
export function validateRegions(
  regions: TypedRegion[],
  types: readonly string[],
  verdict: 'NORMAL' | 'ANOMALOUS',
  field = 'regions',
): TypedRegion[] {
  if (verdict === 'NORMAL' && regions.length) throw badInput(field, 'a NORMAL verdict has no regions; choose ANOMALOUS to mark anomalies');
  if (regions.length > 100) throw badInput(field, 'at most 100 regions per image');
  return regions.map((r, i) => {
    const at = `${field}[${i}]`;
    for (const side of ['x', 'y', 'width', 'height'] as const) {
      const v = r.box[side];
      if (!Number.isFinite(v) || v < 0 || v > 1) throw badInput(`${at}.box.${side}`, `expected a share of the image from 0 to 1, got ${v}`);
    }
    if (r.box.width <= EPS || r.box.height <= EPS) throw badInput(`${at}.box`, 'a box needs a width and a height above 0');
    if (r.box.x + r.box.width > 1 + 1e-6) throw badInput(`${at}.box`, 'x + width goes past the right edge of the image (1)');
    if (r.box.y + r.box.height > 1 + 1e-6) throw badInput(`${at}.box`, 'y + height goes past the bottom edge of the image (1)');
    if (!types.includes(r.type)) throw badInput(`${at}.type`, `unknown anomaly type "${r.type}"; expected one of ${types.join(', ')}`);
    return {
      type: r.type,
      box: { x: r.box.x, y: r.box.y, width: Math.min(r.box.width, 1 - r.box.x), height: Math.min(r.box.height, 1 - r.box.y) },
    };
  });
}

export function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * h;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Share of the smaller box covered by the other: a model box inside a reviewer's box counts as found. */
export function overlap(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const smaller = Math.min(a.width * a.height, b.width * b.height);
  return smaller > 0 ? (w * h) / smaller : 0;
}

/** Agreeing reviewers' regions, with boxes that mark the same spot (IoU ≥ 0.5) kept once: the first answer's. */
export function mergeRegions(answers: TypedRegion[][]): TypedRegion[] {
  const merged: TypedRegion[] = [];
  for (const regions of answers) {
    for (const r of regions) if (!merged.some((m) => iou(m.box, r.box) >= 0.5)) merged.push(r);
  }
  return merged;
}

/** The same regions in any order, as validateRegions returns them (and the database keeps them). */
export function sameRegions(a: TypedRegion[], b: TypedRegion[]): boolean {
  const key = (r: TypedRegion) => JSON.stringify([r.type, r.box.x, r.box.y, r.box.width, r.box.height]);
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.length === right.length && left.every((k, i) => k === right[i]);
}
