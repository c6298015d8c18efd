import { bestF1Threshold, percentile, reviewBand, type Scored, thresholdForRecall } from './metrics';
import { fitLogistic } from './numeric';
import { type Profile } from './types';

// Training step 4: where the verdict flips, which scores go to people, and what a score means as a probability.

/** 4. Operating threshold, review band and calibration from out-of-fold scores of the whole training set. */
export function chooseThresholds(
  scored: Scored[],
  profile: Profile,
): { operating: number; band: { low: number; high: number }; calibration: { a: number; b: number } } {
  const normal = scored.filter((s) => !s.positive).map((s) => s.score);
  if (scored.some((s) => s.positive)) {
    if (profile === 'screen') {
      // A screen passes on everything at or above its recall-0.99 threshold: no band below it, or it clears little.
      const operating = thresholdForRecall(scored, 0.99);
      return { operating, band: { low: operating, high: reviewBand(scored, operating).high }, calibration: plattScaling(scored) };
    }
    const operating = bestF1Threshold(scored);
    return { operating, band: reviewBand(scored, operating), calibration: plattScaling(scored) };
  }
  // Normal pictures only: the operating point sits in the tail of what normal looks like.
  const low = percentile(normal, profile === 'screen' ? 0.9 : 0.95);
  const operating = percentile(normal, profile === 'screen' ? 0.95 : 0.99);
  const high = Math.max(operating, percentile(normal, 1)) + (operating - low);
  const width = Math.max(1e-6, high - low);
  return { operating, band: { low, high }, calibration: { a: 8 / width, b: (-8 * operating) / width } };
}

/** Platt scaling: a one-feature logistic regression from score to P(anomalous). */
function plattScaling(scored: Scored[]): { a: number; b: number } {
  const scores = scored.map((s) => s.score);
  const mean = scores.reduce((s, v) => s + v, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((s, v) => s + (v - mean) ** 2, 0) / scores.length) + 1e-6;
  const fit = fitLogistic(
    Float32Array.from(scores.map((v) => (v - mean) / sd)),
    Uint8Array.from(scored.map((s) => (s.positive ? 1 : 0))),
    1,
    { epochs: 400, l2: 1e-3 },
  );
  return { a: fit.weights[0] / sd, b: fit.bias - (fit.weights[0] * mean) / sd };
}

/** The share of training pictures whose out-of-fold score the other views moved less than the one-view margin. */
export const ONE_VIEW_COVERAGE = 0.95;

/**
 * How far outside the review band a score made from a picture's first view alone must lie for its
 * other views to be skipped: the shift the other views made to the out-of-fold scores of 95% of
 * the training pictures (the classifier logit's shift times its `weight` in the score). A picture
 * that far out would need a larger shift than 95% of pictures get to reach the band; the largest
 * shift (the safest margin) left nine in ten magnetic tiles with all four views.
 */
export function oneViewMargin(allViews: number[], firstView: number[], weight: number): number {
  return allViews.length
    ? percentile(
        allViews.map((all, i) => Math.abs(weight * (all - firstView[i]))),
        ONE_VIEW_COVERAGE,
      )
    : 0;
}
