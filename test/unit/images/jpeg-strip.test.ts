import exifr from 'exifr';
import sharp from 'sharp';
import { deriveImages } from '../../../src/image-processing/image-processor';
import { stripJpegMetadata } from '../../../src/image-processing/jpeg-strip';

const XMP = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF></x:xmpmeta>';

async function geotagged(progressive = false) {
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg({ quality: 85, progressive })
    .withExif({
      IFD0: { Make: 'DJI', Model: 'M300 RTK', ImageDescription: 'tower 12' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 22/1 1272/100', GPSLongitudeRef: 'E', GPSLongitude: '4/1 53/1 4272/100' },
    })
    .withXmp(XMP)
    .toBuffer();
}

const pixels = async (jpeg: Buffer) => (await sharp(jpeg).raw().toBuffer()).toString('base64');
/** A comment segment (COM) inserted right after SOI. */
function withComment(jpeg: Buffer, text: string) {
  const body = Buffer.from(text);
  const head = Buffer.from([0xff, 0xfe, (body.length + 2) >> 8, (body.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), head, body, jpeg.subarray(2)]);
}

describe('stripJpegMetadata', () => {
  it.each([false, true])('drops EXIF, XMP and comments and keeps every pixel (progressive: %s)', async (progressive) => {
    const original = withComment(await geotagged(progressive), 'shot by crew 7');
    expect(await exifr.gps(original)).toMatchObject({ latitude: expect.any(Number) });
    const stripped = stripJpegMetadata(original)!;
    expect(stripped.length).toBeLessThan(original.length);
    expect(await exifr.parse(stripped, true)).toBeUndefined();
    const meta = await sharp(stripped).metadata();
    expect([meta.exif, meta.xmp, meta.comments]).toEqual([undefined, undefined, undefined]);
    expect(stripped.includes(Buffer.from('tower 12'))).toBe(false);
    expect(stripped.includes(Buffer.from('crew 7'))).toBe(false);
    expect(await pixels(stripped)).toBe(await pixels(original));
  });

  it('drops what a phone appends after the end of the image', async () => {
    const original = await geotagged();
    const stripped = stripJpegMetadata(Buffer.concat([original, Buffer.from('\xff\xd8 a depth map with GPS 52.37,4.89')]))!;
    expect(stripped.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    expect(stripped.includes(Buffer.from('depth map'))).toBe(false);
  });

  it.each([
    ['not a JPEG', Buffer.from('GIF89a....')],
    ['a truncated JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a])],
    ['a JPEG without an end', Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0x12, 0x34])],
    ['a segment length beyond the file', Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x7f, 0xff, 0x00])],
  ])('returns null for %s', (_name, bytes) => {
    expect(stripJpegMetadata(bytes)).toBeNull();
  });
});

describe('deriveImages on an upright sRGB JPEG within the size limit', () => {
  it('keeps the original encoding as the normalised copy, without metadata', async () => {
    const original = await geotagged();
    const d = await deriveImages(original);
    expect(d.normalized.data.equals(stripJpegMetadata(original)!)).toBe(true);
    expect([d.normalized.width, d.normalized.height]).toEqual([640, 480]);
    expect(await exifr.parse(d.normalized.data, true)).toBeUndefined();
  });

  it('re-encodes when the photo must turn', async () => {
    const turned = await sharp(await geotagged())
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const d = await deriveImages(turned);
    expect([d.normalized.width, d.normalized.height]).toEqual([480, 640]);
    expect((await sharp(d.normalized.data).metadata()).orientation).toBeUndefined();
  });
});
