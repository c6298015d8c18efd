import { type Backbone } from '../adapters/backbone/backbone.port';
import { type ModelArtifact } from '../anomaly-model/artifact';
import { type DatasetItem } from '../anomaly-model/dataset';
import { evaluate } from '../anomaly-model/detector';
import { atFixedRecall, type CurvePoint, curves } from './fixed-recall';

/** A version's figures on one test split; what the deploy gate compares and GraphQL shows. */
export interface ModelMetrics {
  /** Who measured: vigil itself (builtin) or the cloud service that trained it. */
  source: string;
  testCount: number;
  normal: number;
  anomalous: number;
  /** Null when the split lacks either label or the service reports none. */
  auroc: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  /** The operating threshold the figures are at. */
  threshold: number | null;
  /** Share of test images inside the model's review band: the human-review load. */
  reviewBandShare: number | null;
  accuracyOutsideBand: number | null;
  confusion: { tp: number; fp: number; tn: number; fn: number } | null;
  /**
   * Figures at a fixed recall (GATE_RECALL), whatever threshold the model chose: what the deploy gate
   * compares besides AUROC. Absent for versions measured before they existed and for cloud services
   * that report only their own figures.
   */
  atRecall?: number | null;
  precisionAtRecall?: number | null;
  fprAtRecall?: number | null;
  /** The ROC and precision-recall curves on the split; absent for versions measured before they existed and for cloud services. */
  roc?: CurvePoint[] | null;
  pr?: CurvePoint[] | null;
  splitHash: string;
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** Scores a built-in model on test items (never ones it trained on: the caller passes the TEST split). */
export async function evaluateOn(
  backbone: Backbone,
  artifact: ModelArtifact,
  items: DatasetItem[],
  splitHash: string,
): Promise<ModelMetrics> {
  const { report } = await evaluate(backbone, artifact, { root: `split:${splitHash.slice(0, 12)}`, items });
  return {
    source: 'builtin',
    testCount: report.count,
    normal: report.dataset.normal,
    anomalous: report.dataset.anomalous,
    auroc: finite(report.imageAuroc),
    precision: report.precision,
    recall: report.recall,
    f1: report.f1,
    threshold: report.threshold,
    reviewBandShare: report.reviewBandShare,
    accuracyOutsideBand: report.accuracyOutsideBand,
    confusion: report.confusion,
    ...atFixedRecall(report.images),
    ...(curves(report.images) ?? { roc: null, pr: null }),
    splitHash,
  };
}
