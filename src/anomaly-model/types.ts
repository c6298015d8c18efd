// The built-in anomaly model's public shapes. No GraphQL, no database: the workflow handlers,
// the CLI and the lifecycle service all use these.

import { type Box } from '../common/box';

export type Profile = 'screen' | 'inspect';
export type Label = 'normal' | 'anomalous';

/** One region of the thresholded anomaly map; box and area are shares of the image (0..1). */
export interface AnomalyRegion {
  box: Box;
  /** Share of the image's area the region covers. */
  areaShare: number;
  /** The highest patch score inside the region, on the model's score scale. */
  score: number;
}

/** Shaped like Lookout for Vision's DetectAnomalyResult, so cloud adapters map 1:1. */
export interface PredictResult {
  isAnomalous: boolean;
  /** Calibrated probability, in [0, 1], that the verdict (isAnomalous) is right. */
  confidence: number;
  /** Calibrated probability that the image is anomalous. */
  anomalyProbability: number;
  /** The raw image score; compare with the model's thresholds. */
  score: number;
  /** True when the score lies inside the uncertainty band: a person should look. */
  uncertain: boolean;
  regions: AnomalyRegion[];
  /** The anomaly map as a PNG with the input's aspect ratio (colour-mapped, hot = anomalous). */
  heatmap: Buffer;
  /** Width and height of the anomaly map in patches (rows × cols), for callers that want the numbers. */
  map: { cols: number; rows: number; values: Float32Array };
  model: { version: string; profile: Profile };
  /** How many views of the picture (as it is, flipped) the score comes from. */
  views: number;
}

export interface Thresholds {
  /** Scores at or above this are anomalous. */
  operating: number;
  /** Verdicts with scores below `low` or at/above `high` were ≥ 99% right on validation. */
  reviewBand: { low: number; high: number };
  /** A patch at or above this score belongs to a region. */
  patch: number;
}

export interface CurvePoint {
  threshold: number;
  /** False-positive rate (ROC x) or recall (PR x). */
  x: number;
  /** True-positive rate (ROC y) or precision (PR y). */
  y: number;
}

export interface ScoredImage {
  id: string;
  label: Label;
  type: string | null;
  score: number;
  anomalyProbability: number;
  isAnomalous: boolean;
  uncertain: boolean;
  /** How many views of the picture its score comes from (absent in reports written before views). */
  views?: number;
}

export interface EvaluationReport {
  model: { version: string; profile: Profile; method: string };
  dataset: { root: string; count: number; normal: number; anomalous: number };
  count: number;
  imageAuroc: number;
  /** Null when no image of the dataset has a mask. */
  pixelAuroc: number | null;
  precision: number;
  recall: number;
  f1: number;
  threshold: number;
  reviewBand: { low: number; high: number };
  /** Share of images inside the review band: the human-review load. */
  reviewBandShare: number;
  /** Accuracy of the verdicts outside the band. */
  accuracyOutsideBand: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
  roc: CurvePoint[];
  pr: CurvePoint[];
  /** Per anomaly type: how many and how many were caught at the operating threshold. */
  byType: { type: string; count: number; caught: number }[];
  images: ScoredImage[];
  predictLatencyMs: { p50: number; p95: number };
  /** Share of the images judged by their first view alone (1 for a model that looks once). */
  oneViewShare?: number;
  /** Share of the images judged by each number of views (a model with looks stops early where the score is clear). */
  viewShares?: { views: number; share: number }[];
}

/** What the HTML report shows for one of the worst mistakes. */
export interface ReportExample {
  image: ScoredImage;
  /** Small JPEG or PNG of the image and its heatmap, ready for a data: URL. */
  thumbnail: { data: Buffer; contentType: string };
  heatmap: { data: Buffer; contentType: string };
}
