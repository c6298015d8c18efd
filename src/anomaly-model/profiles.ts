import { type Backbone } from '../adapters/backbone/backbone.port';
import { type Profile } from './types';

export interface ProfileConfig {
  /** Pixels the backbone sees (the aspect ratio is kept): the cost of a forward pass. */
  area: number;
  /** At most this many numbers per patch descriptor (more channels are randomly projected). */
  dim: number;
  /** Rows of the memory of normal patches. */
  bankSize: number;
  /**
   * Views of a picture the image classifier learns from and averages over (`flippedView`: as it is,
   * mirrored, upside down, both); each is one more forward pass, and only models with an image classifier take them.
   */
  views: number;
}

/** screen: a small picture, as cheap as possible, tuned for recall; inspect: the full picture, tuned for F1. */
export const PROFILES: Record<Profile, ProfileConfig> = {
  screen: { area: 128 * 128, dim: 128, bankSize: 1500, views: 1 },
  inspect: { area: 160 * 160, dim: 128, bankSize: 3000, views: 4 },
};

/** The flips `flippedView` knows: as it is, mirrored, upside down, both. */
export const MAX_VIEWS = 4;
export const isViewCount = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_VIEWS;

/** Folds of the cross-validation that picks thresholds, calibration and the score mode. */
export const FOLDS = 5;
/** Fewer labelled anomalies than this: the image classifier is not trusted; the memory scores. */
export const MIN_CLASSIFIER_ANOMALIES = 5;
/** Normal pictures whose descriptors set the projection's per-channel standardisation. */
export const PROJECTION_SAMPLE = 32;
/** Normal patches the coreset is chosen from. */
export const CORESET_POOL = 40_000;
/**
 * The memory compares descriptors averaged over MEMORY_POOL × MEMORY_POOL patches (a stride-16 grid for
 * MobileNetV2): measured far better than the stride-8 grid on magnetic tiles, normals only.
 */
export const MEMORY_POOL = 2;
/** The image's memory score: the mean of its k most anomalous patches. */
export const TOP_K = 3;

export interface TrainOptions {
  profile: Profile;
  seed?: number;
  /** Views of each picture for the image classifier (1–4; the profile's own by default): fewer is faster, more separates better. */
  views?: number;
  onProgress?: (phase: string, done: number, total: number) => void;
  /**
   * Opens a second backbone of the same network (a worker thread, on another core) that looks at the
   * flipped views while the first looks at each picture as it is; closed when the features are extracted.
   */
  openSecondBackbone?: () => Promise<Backbone>;
}

/** What a training step reports its progress to. */
export type Progress = NonNullable<TrainOptions['onProgress']>;
