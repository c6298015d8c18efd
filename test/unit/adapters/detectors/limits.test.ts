import sharp from 'sharp';
import { assertLookoutLimits, assertRekognitionLimits } from '../../../../src/adapters/detectors/limits';
import { DetectorInputError, type DetectorImage } from '../../../../src/adapters/detectors/detector.port';

const MB = 1024 * 1024;
let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
});

function picture(overrides: Partial<DetectorImage> = {}): DetectorImage {
  return {
    imageId: 'img-4',
    deviceType: 'valve',
    key: 'normalized/im/img-4.jpg',
    bucket: null,
    contentType: 'image/jpeg',
    width: 320,
    height: 240,
    bytes: jpeg.length,
    read: async () => jpeg,
    ...overrides,
  };
}

describe('Rekognition limits', () => {
  it('accept a JPEG or PNG of at least 80 px a side within the byte limit', () => {
    expect(() => assertRekognitionLimits(picture(), 'DetectLabels')).not.toThrow();
    expect(() =>
      assertRekognitionLimits(picture({ contentType: 'image/png', width: 80, height: 80, bytes: 5 * MB }), 'DetectLabels'),
    ).not.toThrow();
    expect(() => assertRekognitionLimits(picture({ bucket: 'vigil-images', bytes: 15 * MB }), 'DetectCustomLabels')).not.toThrow();
  });

  it('allow 5 MB as bytes for DetectLabels, 4 MB for DetectCustomLabels, and 15 MB from S3', () => {
    expect(() => assertRekognitionLimits(picture({ bytes: 5 * MB + 1 }), 'DetectLabels')).toThrow(
      new DetectorInputError(
        'Rekognition DetectLabels cannot take image img-4 (normalized/im/img-4.jpg): it accepts at most 5 MB (5242880 bytes) sent as bytes, the picture has 5242881 bytes',
      ),
    );
    expect(() => assertRekognitionLimits(picture({ bytes: 4 * MB + 1 }), 'DetectCustomLabels')).toThrow(
      /at most 4 MB \(4194304 bytes\) sent as bytes/,
    );
    expect(() => assertRekognitionLimits(picture({ bucket: 'vigil-images', bytes: 15 * MB + 1 }), 'DetectLabels')).toThrow(
      /at most 15 MB \(15728640 bytes\) read from S3/,
    );
  });

  it('refuse a side under 80 px, and a side over 10,000 px for DetectLabels', () => {
    expect(() => assertRekognitionLimits(picture({ width: 640, height: 79 }), 'DetectLabels')).toThrow(
      new DetectorInputError(
        'Rekognition DetectLabels cannot take image img-4 (normalized/im/img-4.jpg): each side must be at least 80 px, the picture is 640×79',
      ),
    );
    expect(() => assertRekognitionLimits(picture({ width: 10_001, height: 500 }), 'DetectLabels')).toThrow(/at most 10000 px/);
  });

  it('refuse a format other than JPEG or PNG', () => {
    const webp = picture({ contentType: 'image/webp' as DetectorImage['contentType'] });
    expect(() => assertRekognitionLimits(webp, 'DetectLabels')).toThrow(DetectorInputError);
    expect(() => assertRekognitionLimits(webp, 'DetectLabels')).toThrow(/JPEG or PNG only, not image\/webp/);
  });
});

describe('Lookout for Vision limits', () => {
  it('accept a JPEG or PNG up to 8 MB and 4096 px a side', () => {
    expect(() => assertLookoutLimits(picture({ width: 4096, height: 4096, bytes: 8 * MB }))).not.toThrow();
  });

  it('refuse more than 8 MB, a side over 4096 px, or another format', () => {
    expect(() => assertLookoutLimits(picture({ bytes: 8 * MB + 1 }))).toThrow(
      new DetectorInputError(
        'Lookout for Vision DetectAnomalies cannot take image img-4 (normalized/im/img-4.jpg): it accepts at most 8 MB (8388608 bytes), the picture has 8388609 bytes',
      ),
    );
    expect(() => assertLookoutLimits(picture({ width: 1024, height: 4097 }))).toThrow(
      /each side must be at most 4096 px, the picture is 1024×4097/,
    );
    expect(() => assertLookoutLimits(picture({ contentType: 'image/gif' as DetectorImage['contentType'] }))).toThrow(DetectorInputError);
  });
});
