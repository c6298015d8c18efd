import { buffer } from 'node:stream/consumers';
import sharp from 'sharp';
import { type ObjectStore } from '../adapters/object-store/object-store.port';

/** Pixel size of an image vigil stored (a normalised copy, a mask), read from the object store. */
export async function storedImageSize(store: ObjectStore, key: string): Promise<{ width: number | null; height: number | null }> {
  const meta = await sharp(await buffer(await store.get(key))).metadata();
  return { width: meta.width ?? null, height: meta.height ?? null };
}
