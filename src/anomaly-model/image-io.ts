import sharp, { type Metadata } from 'sharp';
import { type BackboneInput } from '../adapters/backbone/backbone.port';

export class ModelInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelInputError';
  }
}

/** A picture ready for the backbone, and the photo's own size (after EXIF orientation) for heatmaps with its aspect. */
export interface ModelImage {
  input: BackboneInput;
  width: number;
  height: number;
}

// A model image is small; anything larger than this is refused before it is decoded.
const MAX_INPUT_PIXELS = 100_000_000;

/**
 * Decodes and auto-orients any image sharp reads (grey, 16-bit, CMYK, alpha), and resizes it to
 * the size `sizeFor(aspect)` gives: the backbone keeps the aspect ratio where it can, so a long
 * insulator is not squashed into a square. Degenerate shapes (1×1, 10000×10) are stretched to
 * the clamped aspect, not refused.
 */
export async function loadModelImage(bytes: Buffer, sizeFor: (aspect: number) => { width: number; height: number }): Promise<ModelImage> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  } catch (err) {
    throw new ModelInputError(`the image cannot be read: ${(err as Error).message}`);
  }
  const turned = (meta.orientation ?? 1) >= 5;
  const width = (turned ? meta.height : meta.width) ?? 1;
  const height = (turned ? meta.width : meta.height) ?? 1;
  const size = sizeFor(width / Math.max(1, height));
  let data: Buffer;
  try {
    data = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated' })
      .rotate()
      .toColourspace('srgb')
      .flatten({ background: '#808080' })
      .resize(size.width, size.height, { fit: 'fill', kernel: 'linear' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer();
  } catch (err) {
    throw new ModelInputError(`the image cannot be read: ${(err as Error).message}`);
  }
  if (data.length !== size.width * size.height * 3)
    throw new ModelInputError(`the image decoded to ${data.length} bytes, expected ${size.width}×${size.height}×3`);
  const input = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) input[i] = data[i] / 255;
  return { input: { width: size.width, height: size.height, data: input }, width, height };
}

/**
 * The picture as view `view` of the flips the image classifier averages over: 0 as it is, 1
 * mirrored left to right, 2 upside down, 3 both (turned half a circle). A defect stays a defect in
 * a mirror, so these are more examples to learn from and more looks at a picture to judge.
 */
export function flippedView(input: BackboneInput, view: number): BackboneInput {
  if (!(Number.isInteger(view) && view >= 0 && view <= 3)) throw new RangeError(`a picture has views 0 to 3, not ${view}`);
  if (view === 0) return input;
  const { width: w, height: h, data } = input;
  const mirror = view === 1 || view === 3;
  const upsideDown = view === 2 || view === 3;
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    const sy = upsideDown ? h - 1 - y : y;
    for (let x = 0; x < w; x++) {
      const s = (sy * w + (mirror ? w - 1 - x : x)) * 3;
      const d = (y * w + x) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { width: w, height: h, data: out };
}
