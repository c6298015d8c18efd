import { DetectorInputError, type DetectorImage } from './detector.port';

// Fixed AWS limits, checked before a call so a picture AWS would refuse fails fast and costs nothing.
// Rekognition: docs.aws.amazon.com/rekognition/latest/dg/limits.html and the Image.Bytes field
// (5 MB, 4 MB for DetectCustomLabels). Lookout for Vision: the 8 MB and 4096 px image quotas.

const MB = 1024 * 1024;
const FORMATS: readonly string[] = ['image/jpeg', 'image/png'];

interface ImageLimits {
  /** The call the limits belong to, for messages: "Rekognition DetectLabels". */
  call: string;
  maxBytes: number;
  /** How the picture travels, when that decides maxBytes: "sent as bytes", "read from S3". */
  sentAs?: string;
  minSide?: number;
  maxSide?: number;
}

function assertWithin(image: DetectorImage, limits: ImageLimits): void {
  const refuse = (why: string) => {
    throw new DetectorInputError(`${limits.call} cannot take image ${image.imageId} (${image.key}): ${why}`);
  };
  if (!FORMATS.includes(image.contentType)) refuse(`it accepts JPEG or PNG only, not ${image.contentType}`);
  if (image.bytes > limits.maxBytes) {
    const limit = `${limits.maxBytes / MB} MB (${limits.maxBytes} bytes)${limits.sentAs ? ` ${limits.sentAs}` : ''}`;
    refuse(`it accepts at most ${limit}, the picture has ${image.bytes} bytes`);
  }
  const shorter = Math.min(image.width, image.height);
  const longer = Math.max(image.width, image.height);
  if (limits.minSide !== undefined && shorter < limits.minSide) {
    refuse(`each side must be at least ${limits.minSide} px, the picture is ${image.width}×${image.height}`);
  }
  if (limits.maxSide !== undefined && longer > limits.maxSide) {
    refuse(`each side must be at most ${limits.maxSide} px, the picture is ${image.width}×${image.height}`);
  }
}

/** Rekognition reads the picture from S3 when it has a bucket, otherwise receives its bytes. */
export function assertRekognitionLimits(image: DetectorImage, operation: 'DetectLabels' | 'DetectCustomLabels'): void {
  const viaS3 = image.bucket !== null;
  const bytesLimit = operation === 'DetectCustomLabels' ? 4 * MB : 5 * MB;
  assertWithin(image, {
    call: `Rekognition ${operation}`,
    maxBytes: viaS3 ? 15 * MB : bytesLimit,
    sentAs: viaS3 ? 'read from S3' : 'sent as bytes',
    minSide: 80,
    maxSide: operation === 'DetectLabels' ? 10_000 : undefined,
  });
}

export function assertLookoutLimits(image: DetectorImage): void {
  assertWithin(image, { call: 'Lookout for Vision DetectAnomalies', maxBytes: 8 * MB, maxSide: 4096 });
}
