import crypto from 'node:crypto';
import sharp from 'sharp';

export const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** EXIF's degrees/minutes/seconds rationals for a decimal degree value. */
function dms(value: number): string {
  const abs = Math.abs(value);
  const d = Math.floor(abs);
  const m = Math.floor((abs - d) * 60);
  const s = (abs - d - m / 60) * 3600;
  return `${d}/1 ${m}/1 ${Math.round(s * 10_000)}/10000`;
}

/** A small noisy JPEG like a drone frame, with EXIF GPS when a position is given; `seed` makes each one different bytes. */
export async function photo(
  opts: { latitude?: number; longitude?: number; seed?: number; width?: number; height?: number } = {},
): Promise<Buffer> {
  const { width = 320, height = 240, seed = 0 } = opts;
  const gray = 60 + ((seed * 37) % 140);
  const image = sharp({
    create: {
      width,
      height,
      channels: 3,
      background: { r: gray, g: 128, b: 255 - gray },
      noise: { type: 'gaussian', mean: gray, sigma: 25 },
    },
  }).jpeg({ quality: 80 });
  if (opts.latitude === undefined || opts.longitude === undefined) return image.toBuffer();
  return image
    .withExif({
      IFD0: { Make: 'DJI', Model: 'Mavic 3E' },
      IFD2: { DateTimeOriginal: '2026:05:01 10:11:12', OffsetTimeOriginal: '+00:00' },
      IFD3: {
        GPSLatitudeRef: opts.latitude < 0 ? 'S' : 'N',
        GPSLatitude: dms(opts.latitude),
        GPSLongitudeRef: opts.longitude < 0 ? 'W' : 'E',
        GPSLongitude: dms(opts.longitude),
      },
    })
    .toBuffer();
}

const METRES_PER_DEGREE = 6_371_008.8 * (Math.PI / 180);

/** The point `north` and `east` metres away from (latitude, longitude). */
export function offset(latitude: number, longitude: number, north: number, east: number): { latitude: number; longitude: number } {
  return {
    latitude: latitude + north / METRES_PER_DEGREE,
    longitude: longitude + east / (METRES_PER_DEGREE * Math.cos((latitude * Math.PI) / 180)),
  };
}
