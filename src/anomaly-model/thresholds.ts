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

/**
 * The share of training pictures whose out-of-fold score the views not yet taken moved less, toward
 * the band, than a look's margin: 97.5% on each side is the risk a two-sided 95% margin on the size
 * of the shift took (models with a one-view margin), as only a shift toward the band matters.
 */
export const LOOK_COVERAGE = 0.975;

/**
 * A look at some of a picture's views (view 0 first) that decides alone when its score lies far
 * enough outside the review band: `below` under the band's low edge, or `above` its high edge.
 */
export interface Look {
  views: number[];
  below: number;
  above: number;
}

/**
 * The margins of a look at `views`, from every training picture's out-of-fold logit of each view
 * (`viewLogits[v][i]`; for a linear classifier the logit of the views' mean statistics is the mean
 * of theirs) times the logit's `weight` in the score. A score below the band fears the other views
 * raising it, one above fears them lowering it: each margin is the shift toward the band that
 * LOOK_COVERAGE of the pictures stayed under (shifts away from the band cannot change a verdict).
 */
export function lookAt(views: number[], viewLogits: number[][], weight: number): Look {
  const added = addedByOtherViews(views, viewLogits, weight);
  const toward = (shifts: number[]) => (shifts.length ? Math.max(0, percentile(shifts, LOOK_COVERAGE)) : 0);
  return { views, below: toward(added), above: toward(added.map((a) => -a)) };
}

/** Per picture, what the views a look does not take add to its score: all views' score minus the look's. */
function addedByOtherViews(views: number[], viewLogits: number[][], weight: number): number[] {
  const all = viewLogits.map((_, v) => v);
  const mean = (set: number[], i: number) => set.reduce((sum, v) => sum + viewLogits[v][i], 0) / set.length;
  return viewLogits[0].map((_, i) => weight * (mean(all, i) - mean(views, i)));
}

/** True when a look's score lies at least its margin outside the review band: the other views would not bring it in. */
export const decides = (look: Look, score: number, band: { low: number; high: number }) =>
  score < band.low - look.below || score >= band.high + look.above;

/**
 * The looks a picture gets before all its views: view 0 alone, then (with 3 or more views) view 0
 * and the flip that lets the most training pictures stop there. `scores`: the training pictures'
 * out-of-fold scores from all views.
 */
export function chooseLooks(scores: number[], band: { low: number; high: number }, viewLogits: number[][], weight: number): Look[] {
  if (viewLogits.length < 2) return [];
  const first = lookAt([0], viewLogits, weight);
  if (viewLogits.length < 3) return [first];
  // A look's score of a training picture: its all-view score less what the other views add.
  const stops = (look: Look) => {
    const added = addedByOtherViews(look.views, viewLogits, weight);
    return scores.map((score, i) => decides(look, score - added[i], band));
  };
  const byFirst = stops(first);
  const stopping = (look: Look) => stops(look).filter((stop, i) => stop && !byFirst[i]).length;
  const seconds = viewLogits.slice(1).map((_, k) => lookAt([0, k + 1], viewLogits, weight));
  const second = seconds.reduce((best, look) => (stopping(look) > stopping(best) ? look : best));
  return [first, second];
}
