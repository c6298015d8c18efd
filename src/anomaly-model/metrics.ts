import { type CurvePoint } from './types';

export interface Scored {
  score: number;
  positive: boolean;
}

/** Area under the ROC curve by ranks (ties count half): the chance that a random anomaly outscores a random normal. */
export function auroc(items: Scored[]): number {
  const sorted = [...items].sort((a, b) => a.score - b.score);
  const positives = sorted.filter((s) => s.positive).length;
  const negatives = sorted.length - positives;
  if (!positives || !negatives) return NaN;
  let rankSum = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j].score === sorted[i].score) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (sorted[k].positive) rankSum += rank;
    i = j;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Pixel-level AUROC over many values without materialising objects: a histogram of 4096 bins. */
export function histogramAuroc(values: Float32Array, positive: Uint8Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const bins = 4096;
  const pos = new Float64Array(bins);
  const neg = new Float64Array(bins);
  const width = hi > lo ? (hi - lo) / bins : 1;
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(bins - 1, Math.floor((values[i] - lo) / width));
    if (positive[i]) pos[b]++;
    else neg[b]++;
  }
  const P = pos.reduce((s, x) => s + x, 0);
  const N = neg.reduce((s, x) => s + x, 0);
  if (!P || !N) return NaN;
  let below = 0;
  let area = 0;
  for (let b = 0; b < bins; b++) {
    area += pos[b] * (below + neg[b] / 2);
    below += neg[b];
  }
  return area / (P * N);
}

export interface Counts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function confusion(items: Scored[], threshold: number): Counts {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const s of items) {
    const flagged = s.score >= threshold;
    if (s.positive) flagged ? c.tp++ : c.fn++;
    else flagged ? c.fp++ : c.tn++;
  }
  return c;
}

export function precisionRecallF1(c: Counts): { precision: number; recall: number; f1: number } {
  const precision = c.tp + c.fp ? c.tp / (c.tp + c.fp) : 1;
  const recall = c.tp + c.fn ? c.tp / (c.tp + c.fn) : 1;
  return { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
}

/** Candidate thresholds: midpoints between consecutive distinct scores, plus one below all and one above all. */
function candidates(items: Scored[]): number[] {
  const scores = [...new Set(items.map((s) => s.score))].sort((a, b) => a - b);
  if (!scores.length) return [0];
  const out = [scores[0] - 1e-6];
  for (let i = 1; i < scores.length; i++) out.push((scores[i - 1] + scores[i]) / 2);
  out.push(scores[scores.length - 1] + 1e-6);
  return out;
}

export function bestF1Threshold(items: Scored[]): number {
  let best = { t: 0, f1: -1 };
  for (const t of candidates(items)) {
    const { f1 } = precisionRecallF1(confusion(items, t));
    if (f1 > best.f1) best = { t, f1 };
  }
  return best.t;
}

/** The highest threshold that still flags `recall` of the positives. */
export function thresholdForRecall(items: Scored[], recall: number): number {
  const positives = items
    .filter((s) => s.positive)
    .map((s) => s.score)
    .sort((a, b) => a - b);
  if (!positives.length) return Infinity;
  const miss = Math.floor(positives.length * (1 - recall) + 1e-9);
  return positives[Math.min(miss, positives.length - 1)] - 1e-6;
}

/**
 * The uncertainty band around the operating threshold: below `low` at least `accuracy` of the
 * images are normal, at or above `high` at least `accuracy` are anomalous — each as wide a
 * confident zone as validation allows.
 */
export function reviewBand(items: Scored[], operating: number, accuracy = 0.99): { low: number; high: number } {
  const cands = candidates(items);
  let low = Math.min(operating, cands[0]);
  for (const t of cands) {
    if (t > operating) break;
    const below = items.filter((s) => s.score < t);
    const right = below.filter((s) => !s.positive).length;
    if (!below.length || right / below.length >= accuracy) low = t;
  }
  let high = Math.max(operating, cands[cands.length - 1]);
  for (let k = cands.length - 1; k >= 0; k--) {
    const t = cands[k];
    if (t < operating) break;
    const above = items.filter((s) => s.score >= t);
    const right = above.filter((s) => s.positive).length;
    if (!above.length || right / above.length >= accuracy) high = t;
  }
  return { low, high };
}

/**
 * The narrowest band any thresholds could give these scores: the smallest share of items inside
 * some score interval such that the verdicts outside it are at least `accuracy` right, the
 * thresholds chosen knowing the labels. A band chosen without them is no narrower: when this is
 * wide, the scores (not the choice of thresholds) keep images with people.
 */
export function bandFloor(items: Scored[], accuracy = 0.99): number {
  const sorted = [...items].sort((a, b) => a.score - b.score);
  const n = sorted.length;
  if (!n) return 0;
  // positivesBelow[i]: anomalies among the i lowest scores (judged normal when the band starts at i).
  const positivesBelow = new Int32Array(n + 1);
  sorted.forEach((s, i) => {
    positivesBelow[i + 1] = positivesBelow[i] + (s.positive ? 1 : 0);
  });
  const totalPositives = positivesBelow[n];
  let best = n;
  for (let i = 0; i <= n; i++) {
    // Widen the band upwards from i until the outside is right often enough; j only moves one way per i.
    for (let j = i; j <= n; j++) {
      const outside = i + n - j;
      const wrong = positivesBelow[i] + (n - j - (totalPositives - positivesBelow[j]));
      if (outside > 0 && wrong <= (1 - accuracy) * outside + 1e-9) {
        best = Math.min(best, j - i);
        break;
      }
    }
  }
  return best / n;
}

export function rocCurve(items: Scored[]): CurvePoint[] {
  const P = items.filter((s) => s.positive).length || 1;
  const N = items.length - P || 1;
  return candidates(items)
    .reverse()
    .map((t) => {
      const c = confusion(items, t);
      return { threshold: t, x: c.fp / N, y: c.tp / P };
    });
}

export function prCurve(items: Scored[]): CurvePoint[] {
  return candidates(items)
    .reverse()
    .map((t) => {
      const { precision, recall } = precisionRecallF1(confusion(items, t));
      return { threshold: t, x: recall, y: precision };
    });
}

export function percentile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
}
