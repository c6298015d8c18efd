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
