import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { type Derivatives } from './image-processor';
import { type TileRect } from './tiles';

export interface StoredDerivatives {
  normalizedKey: string;
  thumbnailKey: string;
  tiles: (TileRect & { key: string })[];
}

/** Where an image's derivatives live; the same image always gets the same keys, so a retry overwrites. */
export function derivativeKeys(imageId: string) {
  const base = `derived/${imageId}`;
  return {
    normalized: `${base}/normalized.jpg`,
    thumbnail: `${base}/thumbnail.jpg`,
    tile: (index: number) => `${base}/tiles/${String(index).padStart(4, '0')}.jpg`,
  };
}

export async function storeDerivatives(store: ObjectStore, imageId: string, d: Derivatives): Promise<StoredDerivatives> {
  const keys = derivativeKeys(imageId);
  await Promise.all([
    store.put(keys.normalized, d.normalized.data, { contentType: d.normalized.contentType }),
    store.put(keys.thumbnail, d.thumbnail.data, { contentType: d.thumbnail.contentType }),
    ...d.tiles.map((t) => store.put(keys.tile(t.index), t.image.data, { contentType: t.image.contentType })),
  ]);
  return {
    normalizedKey: keys.normalized,
    thumbnailKey: keys.thumbnail,
    tiles: d.tiles.map(({ image: _image, ...rect }) => ({ ...rect, key: keys.tile(rect.index) })),
  };
}

/** A picture a detector judges (a tile, or the normalised copy of an image without tiles), as stored, bytes in hand. */
export interface JudgedPicture {
  key: string;
  data: Buffer;
  width: number;
  height: number;
}

/** The pictures of an image a detector judges: its tiles, or else its normalised copy. */
export function judgedPictures(stored: StoredDerivatives, d: Derivatives): JudgedPicture[] {
  if (!d.tiles.length)
    return [{ key: stored.normalizedKey, data: d.normalized.data, width: d.normalized.width, height: d.normalized.height }];
  return d.tiles.map((t, i) => ({ key: stored.tiles[i].key, data: t.image.data, width: t.image.width, height: t.image.height }));
}
