// The two detector stages behind one small interface each. The workflow handlers call these;
// adapters (built-in model, Rekognition, Lookout for Vision, SageMaker) implement them.
// Every box is a Box: shares of the picture it was found in (0..1, from its top-left corner).

import { type Box } from '../../common/box';

/** One picture handed to a detector: a tile or the normalised copy of an uploaded image. */
export interface DetectorImage {
  imageId: string;
  /** Device type of the image's device: models are per device type. */
  deviceType: string;
  /** Object-store key of the picture (normalised copy or tile). */
  key: string;
  /** The bucket, when the object store is S3 (Rekognition can then read it itself). */
  bucket: string | null;
  contentType: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
  /** Size of the stored object in bytes. */
  bytes: number;
  /** The model version the run pinned for this device type; null: whatever serves now. */
  modelVersion?: string | null;
  /** Reads the picture's bytes (adapters that send bytes call this; others pass the S3 location). */
  read(): Promise<Buffer>;
}

export interface ScreenResult {
  /** True: the stage-2 detector should look at this picture. */
  flagged: boolean;
  /** Probability in [0, 1] that `flagged` is right. */
  confidence: number;
  /** Labels or regions the screen found, for people and for the record. */
  labels: { name: string; confidence: number; boxes: Box[] }[];
  modelVersion: string;
  /** The detector's answer, JSON-serialisable, stored with the detection. */
  raw: Record<string, unknown>;
}

export interface InspectRegion {
  box: Box;
  /** Anomaly type (the detector's class name, or "anomaly" when it has none). */
  type: string;
  /** Probability in [0, 1] for this region. */
  confidence: number;
}

export interface InspectResult {
  isAnomalous: boolean;
  /** Probability in [0, 1] that `isAnomalous` is right. */
  confidence: number;
  /** True when a person should decide (the model's review band, or confidence below the configured floor). */
  uncertain: boolean;
  regions: InspectRegion[];
  modelVersion: string;
  /** Object-store key of a heatmap PNG the adapter stored, when it made one. */
  heatmapKey?: string | null;
  raw: Record<string, unknown>;
}

/** Stage 1: cheap, sees every picture. */
export interface ScreenDetector {
  /** Name recorded on each detection and used to look up its price: e.g. "builtin-screen", "rekognition-labels". */
  readonly name: string;
  /** The model version that would judge this device type now, or null when there is none yet (cold start). */
  versionFor(deviceType: string): Promise<string | null>;
  screen(image: DetectorImage): Promise<ScreenResult>;
}

/** Stage 2: the anomaly model, only for what stage 1 flagged. */
export interface InspectDetector {
  readonly name: string;
  versionFor(deviceType: string): Promise<string | null>;
  inspect(image: DetectorImage): Promise<InspectResult>;
}

/**
 * A failure worth retrying (throttling, timeouts, 5xx). The workflow's Retry matches on the name,
 * so Step Functions (Lambda error type) and the local engine treat it the same.
 */
export class TransientDetectorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Vigil.TransientError';
  }
}

/** A failure no retry will fix (access denied, a bad request, a model that is not running). */
export class DetectorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Vigil.DetectorError';
  }
}

/** A picture a detector refuses (service limits); preprocessing should have made a compliant one. */
export class DetectorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Vigil.DetectorInputError';
  }
}
