import zlib from 'node:zlib';
import sharp from 'sharp';
import { deriveImages, inspectImage, processImage } from '../../../src/image-processing/image-processor';
import { stripJpegMetadata } from '../../../src/image-processing/jpeg-strip';
import { ImageRejected, RejectionReason } from '../../../src/image-processing/rejection';
import { sniffImageType } from '../../../src/image-processing/sniff';
import { tileGrid } from '../../../src/image-processing/tiles';

/** A landscape photo, left half red and right half blue, as a camera held sideways would store it. */
async function dronePhoto(width = 1200, height = 800) {
  const half = await sharp({ create: { width: width / 2, height, channels: 3, background: '#0000ff' } })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#ff0000' } })
    .composite([{ input: half, left: width / 2, top: 0 }])
    .jpeg({ quality: 92 })
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: 'DJI', Model: 'M300 RTK' },
      IFD2: { DateTimeOriginal: '2026:05:01 10:11:12', OffsetTimeOriginal: '+02:00' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '52/1 22/1 1272/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '4/1 53/1 4272/100',
        GPSAltitudeRef: '0',
        GPSAltitude: '4250/100',
      },
    })
    .toBuffer();
}

async function rejection(p: Promise<unknown>): Promise<ImageRejected> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof ImageRejected)) throw new Error(`expected ImageRejected, got ${String(err)}`);
  return err;
}

/** A real small PNG whose header claims another size (IHDR patched, CRC fixed). */
async function pngDeclaring(width: number, height: number) {
  const png = Buffer.from(
    await sharp({ create: { width: 100, height: 100, channels: 3, background: '#808080' } })
      .png()
      .toBuffer(),
  );
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(zlib.crc32(png.subarray(12, 29)) >>> 0, 29);
  return png;
}

describe('inspectImage', () => {
  it('reads type, oriented size and the EXIF capture time, position, altitude and camera', async () => {
    const facts = await inspectImage(await dronePhoto());
    expect(facts).toMatchObject({ contentType: 'image/jpeg', width: 800, height: 1200, camera: 'DJI M300 RTK', altitude: 42.5 });
    expect(facts.capturedAt?.toISOString()).toBe('2026-05-01T08:11:12.000Z');
    expect(facts.latitude).toBeCloseTo(52.3702, 4);
    expect(facts.longitude).toBeCloseTo(4.8952, 4);
  });

  it('gives nulls, not errors, for an image without EXIF', async () => {
    const png = await sharp({ create: { width: 200, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    expect(await inspectImage(png)).toEqual({
      contentType: 'image/png',
      bytes: png.length,
      width: 200,
      height: 100,
      capturedAt: null,
      latitude: null,
      longitude: null,
      altitude: null,
      camera: null,
    });
  });

  it.each([
    ['an empty file', async () => Buffer.alloc(0), RejectionReason.EMPTY],
    ['a text file named .jpg', async () => Buffer.from('just some notes about pole 12\n'), RejectionReason.UNSUPPORTED_TYPE],
    [
      'an HTML page with an image extension',
      async () => Buffer.from('<html><script>alert(1)</script></html>'),
      RejectionReason.UNSUPPORTED_TYPE,
    ],
    ['a GIF polyglot carrying script', async () => Buffer.from('GIF89a/*\x00\x00*/=alert(1)//'), RejectionReason.UNSUPPORTED_TYPE],
    [
      'a JPEG signature followed by HTML',
      async () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('<html>x</html>')]),
      RejectionReason.CORRUPT,
    ],
    ['a PNG declaring 30000×30000 pixels (decompression bomb)', () => pngDeclaring(30000, 30000), RejectionReason.TOO_MANY_PIXELS],
    [
      'an image under the minimum side',
      async () =>
        sharp({ create: { width: 300, height: 40, channels: 3, background: '#fff' } })
          .png()
          .toBuffer(),
      RejectionReason.TOO_SMALL,
    ],
  ])('rejects %s', async (_what, make, reason) => {
    const err = await rejection(inspectImage(await make()));
    expect(err.reason).toBe(reason);
    expect(err.message.length).toBeGreaterThan(10);
  });

  it('rejects a file over the byte limit before looking inside', async () => {
    const err = await rejection(inspectImage(await dronePhoto(), { maxBytes: 1000, maxPixels: 50e6, minSide: 80 }));
    expect(err.reason).toBe(RejectionReason.TOO_LARGE);
  });
});

describe('deriveImages', () => {
  it('auto-orients, strips metadata and tiles a frame larger than a tile', async () => {
    const photo = await dronePhoto();
    const d = await deriveImages(photo);
    expect([d.normalized.width, d.normalized.height]).toEqual([800, 1200]);
    const meta = await sharp(d.normalized.data).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    expect(meta.channels).toBe(3);
    // Rotated 90° clockwise: the red left half is now on top.
    const { data } = await sharp(d.thumbnail.data).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * d.thumbnail.width + x) * 3, (y * d.thumbnail.width + x) * 3 + 3)];
    expect(pixel(80, 20)[0]).toBeGreaterThan(200);
    expect(pixel(80, 230)[2]).toBeGreaterThan(200);
    expect([d.thumbnail.width, d.thumbnail.height]).toEqual([171, 256]);
    expect(d.tiles.map((t) => [t.x, t.y, t.width, t.height])).toEqual([
      [0, 0, 512, 512],
      [288, 0, 512, 512],
      [0, 448, 512, 512],
      [288, 448, 512, 512],
      [0, 688, 512, 512],
      [288, 688, 512, 512],
    ]);
    for (const t of d.tiles) expect(await sharp(t.image.data).metadata()).toMatchObject({ width: 512, height: 512, format: 'jpeg' });
  });

  it('scales a large frame down to the normalised size and leaves a small one as it is, untiled', async () => {
    const big = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    const d = await deriveImages(big);
    expect([d.normalized.width, d.normalized.height]).toEqual([2048, 1536]);
    const small = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const s = await deriveImages(small);
    expect([s.normalized.width, s.normalized.height]).toEqual([400, 300]);
    expect(s.tiles).toEqual([]);
  });

  it('rejects a truncated JPEG as CORRUPT', async () => {
    const photo = await sharp({
      create: { width: 1000, height: 800, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
    })
      .jpeg()
      .toBuffer();
    const truncated = photo.subarray(0, Math.floor(photo.length / 2));
    await inspectImage(truncated); // the header is intact
    expect((await rejection(deriveImages(truncated))).reason).toBe(RejectionReason.CORRUPT);
    expect((await rejection(processImage(truncated))).reason).toBe(RejectionReason.CORRUPT);
  });
});

describe('deriveImages by the colours of the picture', () => {
  const noise = (width: number, height: number, channels: 3 | 4) =>
    sharp({ create: { width, height, channels, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
  const channelsOf = async (jpeg: Buffer) => (await sharp(jpeg).metadata()).channels;

  it('keeps an upright grey JPEG as it is, with a grey thumbnail', async () => {
    const grey = await noise(400, 300, 3)
      .toColourspace('b-w')
      .jpeg({ quality: 90 })
      .withExif({ IFD0: { Make: 'Basler' } })
      .toBuffer();
    expect((await sharp(grey).metadata()).space).toBe('b-w');
    const d = await deriveImages(grey);
    expect(d.normalized.data.equals(stripJpegMetadata(grey)!)).toBe(true);
    expect([d.normalized.width, d.normalized.height]).toEqual([400, 300]);
    expect([d.thumbnail.width, d.thumbnail.height, await channelsOf(d.thumbnail.data)]).toEqual([256, 192, 1]);
    expect(d.tiles).toEqual([]);
  });

  it('cuts a large grey picture into grey tiles', async () => {
    const grey = await noise(1100, 600, 3).toColourspace('b-w').jpeg().toBuffer();
    const d = await deriveImages(grey);
    expect(d.tiles).toHaveLength(6);
    for (const t of d.tiles) expect(await channelsOf(t.image.data)).toBe(1);
    expect(await channelsOf(d.normalized.data)).toBe(1);
  });

  it('makes a 16-bit grey PNG with transparency an 8-bit grey copy on white', async () => {
    const raw = new Uint16Array(300 * 200 * 2);
    for (let i = 0; i < 300 * 200; i++) [raw[i * 2], raw[i * 2 + 1]] = [40_000, i % 300 < 150 ? 65_535 : 0];
    const png = await sharp(raw, { raw: { width: 300, height: 200, channels: 2 } }) // 16-bit: the depth comes from the array
      .toColourspace('grey16')
      .png()
      .toBuffer();
    expect(await sharp(png).metadata()).toMatchObject({ space: 'grey16', channels: 2, depth: 'ushort' });
    const d = await deriveImages(png);
    expect(await sharp(d.normalized.data).metadata()).toMatchObject({ width: 300, height: 200, channels: 1, space: 'b-w' });
    const data = await sharp(d.normalized.data).toColourspace('b-w').raw().toBuffer();
    expect(data).toHaveLength(300 * 200);
    expect(data[100 * 300 + 50]).toBeGreaterThan(140); // 40,000 of 65,535 is 155 of 255
    expect(data[100 * 300 + 50]).toBeLessThan(170);
    expect(data[100 * 300 + 250]).toBeGreaterThan(245); // transparent: the white background
  });

  it('turns a CMYK JPEG into an sRGB copy', async () => {
    const cmyk = await noise(300, 200, 3).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const d = await deriveImages(cmyk);
    expect(await sharp(d.normalized.data).metadata()).toMatchObject({ space: 'srgb', channels: 3 });
    expect(await channelsOf(d.thumbnail.data)).toBe(3);
  });

  it('makes a picture no larger than a thumbnail its own thumbnail, and still refuses one cut short', async () => {
    const small = await noise(200, 150, 4).png().toBuffer();
    const d = await deriveImages(small);
    expect([d.normalized.width, d.normalized.height]).toEqual([200, 150]);
    expect(d.thumbnail).toBe(d.normalized);
    expect(await sharp(d.normalized.data).metadata()).toMatchObject({ format: 'jpeg', channels: 3, hasAlpha: false });
    const truncated = small.subarray(0, Math.floor(small.length * 0.7));
    expect((await rejection(deriveImages(truncated))).reason).toBe(RejectionReason.CORRUPT);
  });

  it('rejects a JPEG cut short that it would have kept as it is', async () => {
    const photo = await noise(480, 360, 3).jpeg().toBuffer();
    expect((await deriveImages(photo)).normalized.data.equals(stripJpegMetadata(photo)!)).toBe(true);
    const truncated = photo.subarray(0, Math.floor(photo.length * 0.6));
    expect((await rejection(deriveImages(truncated))).reason).toBe(RejectionReason.CORRUPT);
  });
});

describe('processImage', () => {
  it('gives what inspectImage and deriveImages give, reading the header once', async () => {
    const photo = await dronePhoto(1400, 900);
    const { facts, derivatives } = await processImage(photo);
    expect(facts).toEqual(await inspectImage(photo));
    const apart = await deriveImages(photo);
    const summary = (d: typeof apart) => ({
      normalized: [d.normalized.width, d.normalized.height, d.normalized.data.length],
      thumbnail: [d.thumbnail.width, d.thumbnail.height, d.thumbnail.data.length],
      tiles: d.tiles.map((t) => [t.x, t.y, t.width, t.height, t.image.data.length]),
    });
    expect(summary(derivatives)).toEqual(summary(apart));
    expect(derivatives.tiles.length).toBeGreaterThan(1);
    expect(derivatives.normalized.data.equals(apart.normalized.data)).toBe(true);
  });

  it('refuses what inspectImage refuses before decoding anything', async () => {
    expect((await rejection(processImage(await pngDeclaring(100_000, 100_000)))).reason).toBe(RejectionReason.TOO_MANY_PIXELS);
    expect((await rejection(processImage(Buffer.alloc(0)))).reason).toBe(RejectionReason.EMPTY);
  });
});

describe('tileGrid', () => {
  it('covers the frame with overlapping tiles flush with the far edges', () => {
    const tiles = tileGrid(1300, 512, 512, 64);
    expect(tiles.map((t) => t.x)).toEqual([0, 448, 788]);
    expect(tiles.every((t) => t.y === 0 && t.width === 512 && t.height === 512)).toBe(true);
    expect(tileGrid(512, 512, 512, 64)).toEqual([]);
  });

  it('refuses an overlap as large as a tile', () => {
    expect(() => tileGrid(1000, 1000, 512, 512)).toThrow('tile overlap');
  });
});

describe('sniffImageType', () => {
  it.each([
    [[0xff, 0xd8, 0xff, 0xe0], 'image/jpeg'],
    [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'image/png'],
    [[...Buffer.from('RIFF'), 0, 0, 0, 0, ...Buffer.from('WEBP')], 'image/webp'],
    [[...Buffer.from('II'), 42, 0], 'image/tiff'],
    [[...Buffer.from('MM'), 0, 42], 'image/tiff'],
    [[...Buffer.from('GIF89a')], null],
    [[...Buffer.from('%PDF-1.7')], null],
  ])('%j → %s', (bytes, type) => {
    expect(sniffImageType(Uint8Array.from(bytes as number[]))).toBe(type);
  });
});
