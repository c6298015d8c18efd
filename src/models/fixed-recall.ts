/** The recall the deploy gate reads precision and false-positive rate at: figures that do not move with a model's own threshold. */
export const GATE_RECALL = 0.95;

export interface FixedRecallFigures {
  /** The recall the two figures are read at. */
  atRecall: number;
  /** The best precision any threshold reaching `atRecall` gives; null when the split lacks either label. */
  precisionAtRecall: number | null;
  /** The lowest false-positive rate any threshold reaching `atRecall` gives; null when the split lacks either label. */
  fprAtRecall: number | null;
}

/** Precision and false-positive rate at a fixed recall, from scored test images (anomalous is positive; higher scores are more anomalous). */
export function atFixedRecall(images: readonly { score: number; label: string }[], target = GATE_RECALL): FixedRecallFigures {
  const scored = images.filter((i) => Number.isFinite(i.score));
  const positives = scored.filter((i) => i.label === 'anomalous').length;
  const negatives = scored.length - positives;
  if (!positives || !negatives) return { atRecall: target, precisionAtRecall: null, fprAtRecall: null };
  const sorted = [...scored].sort((a, b) => b.score - a.score);
  let tp = 0;
  let fp = 0;
  let precision = -1;
  let fpr = Infinity;
  for (let i = 0; i < sorted.length; ) {
    // Images with equal scores fall on the same side of any threshold.
    let j = i;
    for (; j < sorted.length && sorted[j].score === sorted[i].score; j++) sorted[j].label === 'anomalous' ? tp++ : fp++;
    i = j;
    if (tp / positives < target - 1e-12) continue;
    precision = Math.max(precision, tp / (tp + fp));
    fpr = Math.min(fpr, fp / negatives);
  }
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  return { atRecall: target, precisionAtRecall: round(precision), fprAtRecall: round(fpr) };
}

export interface CurvePoint {
  x: number;
  y: number;
}

/**
 * The ROC curve (x: false-positive rate, y: true-positive rate) and the precision-recall curve
 * (x: recall, y: precision) of scored test images, one point per distinct score from the highest
 * down, thinned to at most `maxPoints` (the first and last kept). Null when the split lacks a label.
 */
export function curves(
  images: readonly { score: number; label: string }[],
  maxPoints = 101,
): { roc: CurvePoint[]; pr: CurvePoint[] } | null {
  const sorted = images.filter((i) => Number.isFinite(i.score)).sort((a, b) => b.score - a.score);
  const positives = sorted.filter((i) => i.label === 'anomalous').length;
  const negatives = sorted.length - positives;
  if (!positives || !negatives) return null;
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const roc: CurvePoint[] = [{ x: 0, y: 0 }];
  const pr: CurvePoint[] = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    for (; j < sorted.length && sorted[j].score === sorted[i].score; j++) sorted[j].label === 'anomalous' ? tp++ : fp++;
    i = j;
    roc.push({ x: round(fp / negatives), y: round(tp / positives) });
    pr.push({ x: round(tp / positives), y: round(tp / (tp + fp)) });
  }
  const thin = (points: CurvePoint[]) => {
    if (points.length <= maxPoints) return points;
    const step = (points.length - 1) / (maxPoints - 1);
    return Array.from({ length: maxPoints }, (_, k) => points[Math.round(k * step)]);
  };
  return { roc: thin(roc), pr: thin(pr) };
}
