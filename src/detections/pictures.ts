import { buffer } from 'node:stream/consumers';
import { type Image, type ImageTile } from '../generated/prisma/client';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { type DetectorImage } from '../adapters/detectors/detector.port';
import { type Box, WHOLE_IMAGE } from '../common/box';
import { storedImageSize } from '../image-processing/stored-image-size';
import { type JudgedPicture } from '../image-processing/store-derivatives';

// What a detector is shown of an image: its tiles, or the normalised copy, and where each sits in the whole.

export type ImageWithDevice = Image & { tiles: ImageTile[]; deviceType: string; deviceId: string; inspectionId: string };

/** A tile's place in the normalised copy, as shares of it; the whole copy when the image has no tiles. */
export interface Picture {
  index: number | null;
  key: string;
  frame: Box;
  width: number;
  height: number;
}

export const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
export const round = (v: number) => Math.round(v * 1e4) / 1e4;
// Confidence 0.5 is a coin toss (uncertainty 1); confidence 1 is certainty (0).
export const uncertaintyOf = (confidence: number) => round(clamp01(2 * (1 - confidence)));

/** A box found in a tile, as shares of the whole normalised image. */
export function toImageBox(box: Box, frame: Box): Box {
  return {
    x: round(frame.x + box.x * frame.width),
    y: round(frame.y + box.y * frame.height),
    width: round(box.width * frame.width),
    height: round(box.height * frame.height),
  };
}

/** The tiles of a large frame, or the normalised copy itself. */
export function picturesOf(image: ImageWithDevice): Picture[] {
  if (!image.tiles.length) {
    return [{ index: null, key: image.normalizedKey!, frame: { ...WHOLE_IMAGE }, width: image.width ?? 0, height: image.height ?? 0 }];
  }
  const width = Math.max(...image.tiles.map((t) => t.x + t.width));
  const height = Math.max(...image.tiles.map((t) => t.y + t.height));
  return image.tiles.map((t) => ({
    index: t.index,
    key: t.objectKey,
    frame: { x: t.x / width, y: t.y / height, width: t.width / width, height: t.height / height },
    width: t.width,
    height: t.height,
  }));
}

/** One picture as a detector reads it: its object (or, for detectors that read S3, its location), size and type. */
export async function detectorImage(
  source: { store: ObjectStore; bucket: string | null },
  image: ImageWithDevice,
  picture: Picture,
  modelVersion: string,
): Promise<DetectorImage> {
  const { store } = source;
  const head = await store.head(picture.key);
  if (!head) throw new Error(`the object ${picture.key} of image ${image.id} is missing from the object store`);
  let width = picture.width;
  let height = picture.height;
  if (picture.index === null && image.width && image.height) {
    // The normalised copy is the original shrunk to fit NORMALIZED_MAX_SIDE; its size is read only when needed.
    const size = await storedImageSize(store, picture.key);
    width = size.width ?? width;
    height = size.height ?? height;
  }
  return {
    imageId: image.id,
    deviceType: image.deviceType,
    key: picture.key,
    bucket: source.bucket,
    contentType: head.contentType === 'image/png' ? 'image/png' : 'image/jpeg',
    width,
    height,
    bytes: head.bytes,
    modelVersion,
    read: async () => buffer(await store.get(picture.key)),
  };
}

/** A picture a completion just made, as a detector reads it: its bytes are in hand (a JPEG, as derivatives are). */
export function heldDetectorImage(image: { id: string; deviceType: string }, picture: JudgedPicture, modelVersion: string): DetectorImage {
  return {
    imageId: image.id,
    deviceType: image.deviceType,
    key: picture.key,
    bucket: null,
    contentType: 'image/jpeg',
    width: picture.width,
    height: picture.height,
    bytes: picture.data.length,
    modelVersion,
    read: async () => picture.data,
  };
}
