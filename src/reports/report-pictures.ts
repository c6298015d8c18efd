import { buffer } from 'node:stream/consumers';
import sharp from 'sharp';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { type Box } from '../common/box';

/** Longest side of a picture in a report: sharp enough on an A4 page, small enough for a 50-image survey. */
export const REPORT_PICTURE_SIDE = 800;
const QUALITY = 80;
// The heatmap is laid over the photo so a reader sees where on the device the model looked.
const HEATMAP_OPACITY = 0.55;

export interface HeatmapSource {
  key: string;
  /** Where the heatmap's picture (a tile, or the whole image) sits in the image. */
  frame: Box;
}

export interface RenderedPicture {
  photo: { jpeg: Buffer; width: number; height: number } | null;
  heatmap: Buffer | null;
}

async function read(store: ObjectStore, key: string): Promise<Buffer | null> {
  if (!(await store.head(key))) return null;
  return buffer(await store.get(key));
}

/**
 * The stored copy of an image downscaled to a JPEG, and the same with the model's heatmaps laid over
 * it. A missing object leaves the picture out rather than failing the whole report.
 */
export async function renderPicture(store: ObjectStore, key: string, heatmaps: HeatmapSource[]): Promise<RenderedPicture> {
  const source = await read(store, key);
  if (!source) return { photo: null, heatmap: null };
  const { data: raw, info } = await sharp(source)
    .resize(REPORT_PICTURE_SIDE, REPORT_PICTURE_SIDE, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const rawInput = { raw: { width: info.width, height: info.height, channels: info.channels } };
  const jpeg = await sharp(raw, rawInput).jpeg({ quality: QUALITY }).toBuffer();
  const overlays = [];
  for (const h of heatmaps) {
    const png = await read(store, h.key);
    if (!png) continue;
    const left = Math.round(h.frame.x * info.width);
    const top = Math.round(h.frame.y * info.height);
    const width = Math.max(1, Math.min(info.width - left, Math.round(h.frame.width * info.width)));
    const height = Math.max(1, Math.min(info.height - top, Math.round(h.frame.height * info.height)));
    const input = await sharp(png).removeAlpha().resize(width, height, { fit: 'fill' }).ensureAlpha(HEATMAP_OPACITY).png().toBuffer();
    overlays.push({ input, left, top });
  }
  const heatmap = overlays.length ? await sharp(raw, rawInput).composite(overlays).jpeg({ quality: QUALITY }).toBuffer() : null;
  return { photo: { jpeg, width: info.width, height: info.height }, heatmap };
}
