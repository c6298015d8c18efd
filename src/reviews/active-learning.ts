import { unitHash } from '../common/unit-hash';

/** How many confident verdicts become ACTIVE_LEARNING tasks: per run, and per device type per UTC day (0: none). */
export interface LearningBudget {
  perRun: number;
  perDay: number;
}

export const DEFAULT_LEARNING_BUDGET: LearningBudget = { perRun: 10, perDay: 200 };

/** Diversity: picks of one run fall into bins of this width of the anomaly probability, per stage… */
export const LEARNING_BIN_WIDTH = 0.05;
/** …and a bin gives at most this many. */
export const LEARNING_PER_BIN = 2;
/** Queue place: half the uncertainty, so a pick waits behind LOW_CONFIDENCE work that is as unsure. */
export const LEARNING_PRIORITY_SCALE = 0.5;

/** A confident verdict of a run: the image, the model that judged it and its anomaly probability. */
export interface LearningCandidate {
  imageId: string;
  stage: 'SCREEN' | 'INSPECT';
  modelVersion: string;
  /** The model's anomaly probability for the image, 0..1. */
  probability: number;
}

export interface LearningPick extends LearningCandidate {
  uncertainty: number;
  priority: number;
}

interface JudgedPicture {
  raw?: { anomalyProbability?: unknown } | null;
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;
const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/**
 * The anomaly probability of a judged image: the most suspicious picture's `raw.anomalyProbability`
 * (the built-in models report it), or, when a detector does not, the verdict's confidence read as one.
 */
export function anomalyProbability(detection: { isAnomalous: boolean; confidence: number; result: unknown }): number {
  const pictures = ((detection.result as { pictures?: JudgedPicture[] } | null)?.pictures ?? []);
  const reported = pictures.map((p) => p.raw?.anomalyProbability).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (reported.length && reported.length === pictures.length) return clamp01(Math.max(...reported));
  return clamp01(detection.isAnomalous ? detection.confidence : 1 - detection.confidence);
}

/** 1 at a coin toss (p = 0.5), 0 at certainty. */
export const uncertaintyOf = (probability: number) => round(1 - Math.abs(2 * clamp01(probability) - 1));

const drawOf = (c: LearningCandidate) => unitHash(`${c.imageId}:${c.modelVersion}:learning`);

/**
 * Whether a verdict is drawn at all: with probability uncertainty², from the image and model version,
 * so a replay draws the same. Squared, so the daily budget goes to verdicts near the decision rather
 * than to the many that are nearly certain; a certain one (p = 0 or 1) is never drawn.
 */
export function drawn(c: LearningCandidate): boolean {
  const u = uncertaintyOf(c.probability);
  return drawOf(c) < u * u;
}

export const binOf = (c: Pick<LearningCandidate, 'stage' | 'probability'>, width = LEARNING_BIN_WIDTH) =>
  `${c.stage}:${Math.min(Math.ceil(1 / width) - 1, Math.floor(clamp01(c.probability) / width))}`;

/**
 * Picks a run's ACTIVE_LEARNING tasks from its confident verdicts: the drawn ones, most uncertain
 * first, at most `perBin` per (stage, probability bin), at most `limit` in all. `chosen` are the
 * run's earlier picks (a replay): they fill bins first and are never picked again, so running this
 * again after its picks were stored picks nothing new.
 */
export function selectForLearning(
  candidates: readonly LearningCandidate[],
  options: { limit: number; chosen?: readonly LearningCandidate[]; binWidth?: number; perBin?: number },
): LearningPick[] {
  const { limit, chosen = [], binWidth = LEARNING_BIN_WIDTH, perBin = LEARNING_PER_BIN } = options;
  if (limit <= 0) return [];
  const taken = new Set(chosen.map((c) => c.imageId));
  const filled = new Map<string, number>();
  for (const c of chosen) filled.set(binOf(c, binWidth), (filled.get(binOf(c, binWidth)) ?? 0) + 1);
  const ranked = candidates
    .filter((c) => !taken.has(c.imageId) && drawn(c))
    .map((c) => ({ c, u: uncertaintyOf(c.probability), tie: drawOf(c) }))
    .sort((a, b) => b.u - a.u || a.tie - b.tie || a.c.imageId.localeCompare(b.c.imageId));
  const picks: LearningPick[] = [];
  for (const { c, u } of ranked) {
    if (picks.length >= limit) break;
    const bin = binOf(c, binWidth);
    if ((filled.get(bin) ?? 0) >= perBin) continue;
    filled.set(bin, (filled.get(bin) ?? 0) + 1);
    taken.add(c.imageId);
    picks.push({ ...c, uncertainty: u, priority: round(LEARNING_PRIORITY_SCALE * u) });
  }
  return picks;
}
