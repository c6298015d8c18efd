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
