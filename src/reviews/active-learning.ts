import { unitHash } from '../common/unit-hash';

/** How many confident verdicts become ACTIVE_LEARNING tasks: per run, and per device type per UTC day (0: none). */
export interface LearningBudget {
  perRun: number;
  perDay: number;
}

export const DEFAULT_LEARNING_BUDGET: LearningBudget = { perRun: 10, perDay: 200 };

/**
 * Diversity: picks of one run fall into bins of this width of the anomaly probability's log-odds,
 * per stage (log-odds, so a model sure of everything still spreads its picks from p = 10⁻⁴ to 10⁻¹)…
 */
export const LEARNING_BIN_WIDTH = 1;
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
  const pictures = (detection.result as { pictures?: JudgedPicture[] } | null)?.pictures ?? [];
  const reported = pictures.map((p) => p.raw?.anomalyProbability).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (reported.length && reported.length === pictures.length) return clamp01(Math.max(...reported));
  return clamp01(detection.isAnomalous ? detection.confidence : 1 - detection.confidence);
}

/** 1 at a coin toss (p = 0.5), 0 at certainty. */
export const uncertaintyOf = (probability: number) => round(1 - Math.abs(2 * clamp01(probability) - 1));

/** A fixed tie-break per image and model version, so a replay ranks the same. */
const tieOf = (c: LearningCandidate) => unitHash(`${c.imageId}:${c.modelVersion}:learning`);

const logOdds = (p: number) => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};

export const binOf = (c: Pick<LearningCandidate, 'stage' | 'probability'>, width = LEARNING_BIN_WIDTH) =>
  `${c.stage}:${Math.floor(logOdds(c.probability) / width)}`;

/**
 * Picks a run's ACTIVE_LEARNING tasks from its confident verdicts: most uncertain first, at most
 * `perBin` per (stage, log-odds bin), at most `limit` in all — the budget is spent even when the
 * model is sure of everything, since that is when its misses hide. `chosen` are the
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
    .filter((c) => !taken.has(c.imageId))
    .map((c) => ({ c, u: uncertaintyOf(c.probability), tie: tieOf(c) }))
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
