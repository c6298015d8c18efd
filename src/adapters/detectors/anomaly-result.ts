import sharp from 'sharp';
import { type Box } from '../../common/box';
import { DetectorError, type InspectRegion, type InspectResult } from './detector.port';

/**
 * Lookout for Vision's DetectAnomalyResult; our SageMaker endpoints answer the same shape
 * (with the mask decoded from base64 before it gets here).
 */
export interface AnomalyResult {
  IsAnomalous: boolean;
  /** Confidence in IsAnomalous, 0..1. */
  Confidence: number;
  /** Segmentation models only: one entry per anomaly type, the first always "background". */
  Anomalies?: { Name?: string; PixelAnomaly?: { TotalPercentageArea?: number; Color?: string } }[];
  /** Segmentation models only: a PNG painting each anomaly type in its Color. */
  AnomalyMask?: Uint8Array;
}

interface Extent {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

const rgbOf = (hex: string): number | null => (/^#?[0-9a-f]{6}$/i.test(hex) ? parseInt(hex.replace('#', ''), 16) : null);

/** The bounding box of each wanted colour's pixels in a PNG mask, as shares of the mask's size. */
async function colourBoxes(mask: Uint8Array, colours: number[]): Promise<Map<number, Box>> {
  const { data, info } = await sharp(mask)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((err: Error) => {
      throw new DetectorError(`the detector's AnomalyMask is not a readable image: ${err.message}`, { cause: err });
    });
  const extents = new Map<number, Extent>(colours.map((c) => [c, { minX: Infinity, minY: Infinity, maxX: -1, maxY: -1 }]));
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * 4;
      if (data[i + 3] === 0) continue; // transparent: nothing painted here
      const extent = extents.get((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      if (!extent) continue;
      extent.minX = Math.min(extent.minX, x);
      extent.minY = Math.min(extent.minY, y);
      extent.maxX = Math.max(extent.maxX, x);
      extent.maxY = Math.max(extent.maxY, y);
    }
  }
  const boxes = new Map<number, Box>();
  for (const [colour, e] of extents) {
    if (e.maxX < 0) continue; // colour not in the mask
    boxes.set(colour, {
      x: e.minX / info.width,
      y: e.minY / info.height,
      width: (e.maxX - e.minX + 1) / info.width,
      height: (e.maxY - e.minY + 1) / info.height,
    });
  }
  return boxes;
}

/** One region per anomaly type whose colour is painted in the mask; "background" is not an anomaly. */
async function regionsOf(result: AnomalyResult): Promise<InspectRegion[]> {
  const painted = (result.Anomalies ?? [])
    .filter((a) => a.Name && a.Name.toLowerCase() !== 'background')
    .map((a) => ({ type: a.Name!, colour: rgbOf(a.PixelAnomaly?.Color ?? '') }))
    .filter((a): a is { type: string; colour: number } => a.colour !== null);
  if (!result.AnomalyMask || painted.length === 0) return [];
  const boxes = await colourBoxes(
    result.AnomalyMask,
    painted.map((a) => a.colour),
  );
  // The service scores the image, not each region: a region is as likely as the image is anomalous.
  const confidence = result.IsAnomalous ? result.Confidence : 1 - result.Confidence;
  return painted.flatMap((a) => {
    const box = boxes.get(a.colour);
    return box ? [{ box, type: a.type, confidence }] : [];
  });
}

/** Maps a DetectAnomalyResult-shaped answer to our InspectResult; the mask itself stays out of `raw`. */
export async function toInspectResult(
  result: AnomalyResult,
  context: { modelVersion: string; reviewBelow: number; raw?: Record<string, unknown> },
): Promise<InspectResult> {
  const { AnomalyMask, ...answer } = result;
  return {
    isAnomalous: result.IsAnomalous,
    confidence: result.Confidence,
    uncertain: result.Confidence < context.reviewBelow,
    regions: await regionsOf(result),
    modelVersion: context.modelVersion,
    heatmapKey: null,
    raw: { ...answer, anomalyMaskBytes: AnomalyMask?.length ?? 0, ...context.raw },
  };
}
