import sharp from 'sharp';
import type { Box } from '../common/box';

// Segmentation masks for Lookout for Vision datasets (manifest key `anomaly-mask-ref`):
// a PNG the size of its image, white where there is no anomaly, each anomaly type filled in its
// own colour, with an `internal-color-map` naming every colour painted. See
// https://docs.aws.amazon.com/lookout-for-vision/latest/developer-guide/manifest-file-segmentation.html

/** The manifest's `internal-color-map`: "0" is BACKGROUND, then one entry per anomaly type painted in the mask. */
export type MaskColorMap = Record<string, { 'class-name': string; 'hex-color': string; confidence: number }>;

export const MASK_BACKGROUND_CLASS = 'BACKGROUND';
/** Lookout: "The value for the BACKGROUND anomaly type is always #ffffff". */
export const MASK_BACKGROUND_HEX = '#ffffff';
/** Lookout takes images of at most 4096 px a side, so a mask (image-sized) never needs more. */
export const MAX_MASK_SIDE = 4096;

export interface MaskRegion {
  /** Shares of the image (0..1, origin top-left); parts outside the image are cut off. */
  box: Box;
  type: string;
}

export interface MaskInput {
  /** Size of the image the mask belongs to, in pixels. */
  width: number;
  height: number;
  regions: MaskRegion[];
  /** Every anomaly type of the project, in a fixed order: a type's position picks its colour. */
  types: string[];
}

// matplotlib's tab20 (tab10, then its light shades): Lookout's own examples use #2ca02c and #1f77b4 from it.
const PALETTE: readonly string[] = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#aec7e8',
  '#ffbb78',
  '#98df8a',
  '#ff9896',
  '#c5b0d5',
  '#c49c94',
  '#f7b6d2',
  '#c7c7c7',
  '#dbdb8d',
  '#9edae5',
];
// Past the palette: an 8×8×8 grid of channel values 0x10..0xf0, which no palette colour and not white can equal.
const GRID_LEVELS = 8;
const GRID_SIZE = GRID_LEVELS ** 3;

const hex = (r: number, g: number, b: number) => `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;

/** The mask colour of the anomaly type at `index` in the project's type list: fixed, distinct, never white. */
export function maskColour(index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`mask colour index must be a whole number ≥ 0, got ${index}`);
  if (index < PALETTE.length) return PALETTE[index];
  const j = index - PALETTE.length;
  if (j >= GRID_SIZE) throw new RangeError(`masks have distinct colours for at most ${PALETTE.length + GRID_SIZE} anomaly types`);
  const k = (j * 193) % GRID_SIZE; // an odd step scatters neighbours across the grid; still one-to-one
  const level = (n: number) => 0x10 + 0x20 * n;
  return hex(level(k % GRID_LEVELS), level(Math.floor(k / GRID_LEVELS) % GRID_LEVELS), level(Math.floor(k / GRID_LEVELS ** 2)));
}

/** The mask's size for an image: the image's own, scaled down (aspect kept) when its longer side exceeds MAX_MASK_SIDE. */
export function maskDimensions(width: number, height: number): { width: number; height: number } {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`a mask needs a whole positive image size, got ${width}×${height}`);
  }
  const scale = Math.min(1, MAX_MASK_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** A box's pixel span on one axis: rounded edges, at least one pixel so a tiny anomaly still shows. */
function span(start: number, length: number, size: number): [number, number] | null {
  if (!Number.isFinite(start) || !Number.isFinite(length) || length < 0)
    throw new RangeError(`mask region box has a bad edge: start ${start}, length ${length}`);
  if (start >= 1 || start + length <= 0) return null; // wholly outside the image
  let from = Math.max(0, Math.round(start * size));
  let to = Math.min(size, Math.round((start + length) * size));
  if (to <= from) {
    to = Math.min(size, from + 1);
    from = to - 1;
  }
  return [from, to];
}

/**
 * Paints the regions into a white RGB PNG. Larger boxes are painted first so a small anomaly inside a
 * larger one stays visible; the colour map lists only the types left visible (Lookout requires every
 * listed colour to be in the mask).
 */
export async function renderMask(input: MaskInput): Promise<{ png: Buffer; colorMap: MaskColorMap }> {
  const { width, height } = maskDimensions(input.width, input.height);
  const typeIndex = new Map<string, number>();
  input.types.forEach((type, i) => {
    if (!type) throw new RangeError('anomaly type names must not be empty');
    if (type.toUpperCase() === MASK_BACKGROUND_CLASS) throw new RangeError(`"${type}" is reserved for the mask background`);
    if (!typeIndex.has(type)) typeIndex.set(type, i);
  });

  const boxes = input.regions
    .map((region) => {
      const index = typeIndex.get(region.type);
      if (index === undefined)
        throw new RangeError(`mask region type "${region.type}" is not one of the anomaly types [${input.types.join(', ')}]`);
      const xs = span(region.box.x, region.box.width, width);
      const ys = span(region.box.y, region.box.height, height);
      return xs && ys ? { label: index + 1, x0: xs[0], x1: xs[1], y0: ys[0], y1: ys[1] } : null;
    })
    .filter((b): b is NonNullable<typeof b> => b !== null)
    .sort((a, b) => (b.x1 - b.x0) * (b.y1 - b.y0) - (a.x1 - a.x0) * (a.y1 - a.y0));

  // One label per pixel (0 = background, n = type index + 1); colours are applied after, once.
  const labels = new Uint16Array(width * height);
  for (const b of boxes) {
    for (let y = b.y0; y < b.y1; y++) labels.fill(b.label, y * width + b.x0, y * width + b.x1);
  }

  const visible = new Set<number>();
  for (const b of boxes) {
    if (visible.has(b.label)) continue;
    scan: for (let y = b.y0; y < b.y1; y++) {
      for (let x = b.x0; x < b.x1; x++) {
        if (labels[y * width + x] === b.label) {
          visible.add(b.label);
          break scan;
        }
      }
    }
  }

  const rgbOf = (colour: string) => [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
  const palette = new Map<number, number[]>([[0, rgbOf(MASK_BACKGROUND_HEX)]]);
  for (const label of visible) palette.set(label, rgbOf(maskColour(label - 1)));
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < labels.length; i++) {
    const [r, g, b] = palette.get(labels[i])!;
    pixels[i * 3] = r;
    pixels[i * 3 + 1] = g;
    pixels[i * 3 + 2] = b;
  }
  const png = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();

  const colorMap: MaskColorMap = { '0': { 'class-name': MASK_BACKGROUND_CLASS, 'hex-color': MASK_BACKGROUND_HEX, confidence: 0 } };
  [...visible]
    .sort((a, b) => a - b)
    .forEach((label, i) => {
      colorMap[String(i + 1)] = { 'class-name': input.types[label - 1], 'hex-color': maskColour(label - 1), confidence: 0 };
    });
  return { png, colorMap };
}

/** The colour map of a mask painted with `present` types (each in its project colour). */
export function maskColorMap(present: string[], types: string[]): MaskColorMap {
  const map: MaskColorMap = { '0': { 'class-name': MASK_BACKGROUND_CLASS, 'hex-color': MASK_BACKGROUND_HEX, confidence: 0 } };
  const indexes = [...new Set(present.map((t) => types.indexOf(t)).filter((i) => i >= 0))].sort((a, b) => a - b);
  indexes.forEach((index, n) => {
    map[String(n + 1)] = { 'class-name': types[index], 'hex-color': maskColour(index), confidence: 0 };
  });
  return map;
}

/**
 * An imported binary mask (anomalous pixels bright on black, as in MVTec-style datasets) painted the
 * way vigil stores masks: the type's colour on white. Also returns the anomalous pixels' bounding
 * box as shares of the mask, or null when the mask is empty.
 */
export async function paintBinaryMask(binary: Buffer, type: string, types: string[]): Promise<{ png: Buffer; box: Box | null }> {
  const index = types.indexOf(type);
  if (index < 0) throw new RangeError(`anomaly type "${type}" is not one of the anomaly types [${types.join(', ')}]`);
  const { data, info } = await sharp(binary).greyscale().raw().toBuffer({ resolveWithObject: true });
  const dims = maskDimensions(info.width, info.height);
  const scaled =
    dims.width === info.width
      ? data
      : await sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } })
          .resize(dims.width, dims.height, { kernel: 'nearest' })
          .raw()
          .toBuffer();
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(maskColour(index).slice(i, i + 2), 16));
  const pixels = Buffer.alloc(dims.width * dims.height * 3, 255);
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  for (let i = 0; i < dims.width * dims.height; i++) {
    if (scaled[i] < 128) continue;
    pixels[i * 3] = r;
    pixels[i * 3 + 1] = g;
    pixels[i * 3 + 2] = b;
    const [x, y] = [i % dims.width, Math.floor(i / dims.width)];
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  const png = await sharp(pixels, { raw: { width: dims.width, height: dims.height, channels: 3 } })
    .png()
    .toBuffer();
  const box =
    x1 < 0 ? null : { x: x0 / dims.width, y: y0 / dims.height, width: (x1 + 1 - x0) / dims.width, height: (y1 + 1 - y0) / dims.height };
  return { png, box };
}

/** A stored mask (colours on white) as the model reads masks: anomalous pixels white on black. */
export async function binaryMaskOf(mask: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(mask).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const out = Buffer.alloc(info.width * info.height);
  for (let i = 0; i < out.length; i++) {
    const white = data[i * info.channels] > 250 && data[i * info.channels + 1] > 250 && data[i * info.channels + 2] > 250;
    out[i] = white ? 0 : 255;
  }
  return sharp(out, { raw: { width: info.width, height: info.height, channels: 1 } })
    .png()
    .toBuffer();
}
