import sharp, { type Metadata } from 'sharp';

/** An image as the model sees it: square, `side` pixels, grey level plus two colour-opponent planes. */
export interface ModelImage {
  side: number;
  gray: Float32Array;
  /** Red minus green, and blue minus yellow, in [-1, 1]; zeros for a grey photograph. */
  redGreen: Float32Array;
  blueYellow: Float32Array;
  /** The photo's own size after EXIF orientation, for heatmaps with its aspect ratio. */
  width: number;
  height: number;
}

export class ModelInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelInputError';
  }
}

// A model image is small; anything larger than this is refused before it is decoded.
const MAX_INPUT_PIXELS = 100_000_000;

/** Decodes, auto-orients and squashes an image to side×side. Degenerate shapes (1×1, 10000×10) are stretched, not refused. */
export async function loadModelImage(bytes: Buffer, side: number): Promise<ModelImage> {
  let meta: Metadata;
  let data: Buffer;
  try {
    meta = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
    data = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated' })
      .rotate()
      .flatten({ background: '#808080' })
      .resize(side, side, { fit: 'fill', kernel: 'linear' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer();
  } catch (err) {
    throw new ModelInputError(`the image cannot be read: ${(err as Error).message}`);
  }
  const turned = (meta.orientation ?? 1) >= 5;
  const n = side * side;
  const gray = new Float32Array(n);
  const redGreen = new Float32Array(n);
  const blueYellow = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const r = data[j] / 255;
    const g = data[j + 1] / 255;
    const b = data[j + 2] / 255;
    gray[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    redGreen[i] = r - g;
    blueYellow[i] = b - (r + g) / 2;
  }
  return { side, gray, redGreen, blueYellow, width: (turned ? meta.height : meta.width) ?? side, height: (turned ? meta.width : meta.height) ?? side };
}
