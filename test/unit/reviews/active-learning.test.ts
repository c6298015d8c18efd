import {
  anomalyProbability,
  binOf,
  type LearningCandidate,
  LEARNING_PER_BIN,
  selectForLearning,
  uncertaintyOf,
} from '../../../src/reviews/active-learning';

const candidate = (i: number, probability: number, stage: 'SCREEN' | 'INSPECT' = 'INSPECT'): LearningCandidate => ({
  imageId: `image-${String(i).padStart(5, '0')}`,
  stage,
  modelVersion: 'inspect-v1',
  probability,
});

describe('active-learning selection', () => {
  it('reads uncertainty as 1 − |2p − 1|: 1 at a coin toss, 0 at certainty', () => {
    expect(uncertaintyOf(0.5)).toBe(1);
    expect(uncertaintyOf(0.3)).toBeCloseTo(0.6);
    expect(uncertaintyOf(0.9)).toBeCloseTo(0.2);
    expect(uncertaintyOf(0)).toBe(0);
    expect(uncertaintyOf(1)).toBe(0);
  });

  it("takes the anomaly probability of the image's most suspicious picture, or the verdict's confidence when the detector reports none", () => {
    const tiles = { pictures: [{ raw: { anomalyProbability: 0.1 } }, { raw: { anomalyProbability: 0.35 } }] };
    expect(anomalyProbability({ isAnomalous: false, confidence: 0.9, result: tiles })).toBe(0.35);
    // Rekognition or Lookout: no probability in raw; a NORMAL verdict at confidence 0.8 is p = 0.2.
    expect(anomalyProbability({ isAnomalous: false, confidence: 0.8, result: { pictures: [{ raw: { Labels: [] } }] } })).toBeCloseTo(0.2);
    expect(anomalyProbability({ isAnomalous: true, confidence: 0.8, result: {} })).toBeCloseTo(0.8);
    // One tile without a probability: the confidence decides, not a partial maximum.
    expect(
      anomalyProbability({
        isAnomalous: false,
        confidence: 0.7,
        result: { pictures: [{ raw: { anomalyProbability: 0.1 } }, { raw: {} }] },
      }),
    ).toBeCloseTo(0.3);
  });

  it('spends the budget even when the model is sure of everything: its least sure verdicts, spread over the log-odds', () => {
    // A cold-start model that clears everything with p between 10⁻⁵ and 10⁻¹: that is where its misses hide.
    const sure = Array.from({ length: 400 }, (_, i) => candidate(i, 10 ** -(1 + (i % 40) / 10)));
    const picks = selectForLearning(sure, { limit: 10 });
    expect(picks).toHaveLength(10);
    const bins = new Set(picks.map((p) => binOf(p)));
    expect(bins.size).toBeGreaterThanOrEqual(5);
    // Most uncertain first, and the same picks every time.
    expect(picks.map((p) => p.uncertainty)).toEqual([...picks.map((p) => p.uncertainty)].sort((a, b) => b - a));
    expect(selectForLearning(sure, { limit: 10 }).map((p) => p.imageId)).toEqual(picks.map((p) => p.imageId));
    expect(Math.max(...picks.map((p) => p.probability))).toBeCloseTo(0.1, 5);
  });

  it('prefers verdicts near the decision: each bin gives its most uncertain, the nearest bins first', () => {
    const pool = [
      ...Array.from({ length: 200 }, (_, i) => candidate(i, 0.02 + (i % 10) * 0.01)),
      ...Array.from({ length: 40 }, (_, i) => candidate(1000 + i, 0.3 + (i % 20) * 0.02)),
    ];
    const picks = selectForLearning(pool, { limit: 10 });
    expect(picks).toHaveLength(8); // two per log-odds bin: [-4, -3) [-3, -2) near 0.02–0.11, [-1, 0) [0, 1) near 0.3–0.68
    expect(picks.slice(0, 4).every((p) => p.uncertainty >= 0.6)).toBe(true);
    expect(picks.slice(0, 4).every((p) => p.uncertainty >= 0.95)).toBe(true);
    expect(picks.map((p) => p.uncertainty)).toEqual([...picks.map((p) => p.uncertainty)].sort((a, b) => b - a));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(picks.map((p) => p.uncertainty))).toBeGreaterThan(mean(pool.map((c) => uncertaintyOf(c.probability))));
  });

  it('never picks more than the limit, and nothing at a limit of 0', () => {
    const pool = Array.from({ length: 100 }, (_, i) => candidate(i, 0.3 + (i % 40) * 0.01));
    expect(selectForLearning(pool, { limit: 4 })).toHaveLength(4);
    expect(selectForLearning(pool, { limit: 0 })).toEqual([]);
    expect(selectForLearning(pool, { limit: -3 })).toEqual([]);
  });

  it('spreads the picks: at most two per stage and probability bin, however many near-identical scores a run has', () => {
    const same = Array.from({ length: 30 }, (_, i) => candidate(i, 0.48 + (i % 3) * 0.001));
    const picks = selectForLearning(same, { limit: 10 });
    expect(picks).toHaveLength(LEARNING_PER_BIN);
    const twoStages = [...same, ...Array.from({ length: 30 }, (_, i) => candidate(100 + i, 0.48, 'SCREEN'))];
    const both = selectForLearning(twoStages, { limit: 10 });
    expect(both.filter((p) => p.stage === 'SCREEN')).toHaveLength(LEARNING_PER_BIN);
    expect(both.filter((p) => p.stage === 'INSPECT')).toHaveLength(LEARNING_PER_BIN);
    const spread = Array.from({ length: 60 }, (_, i) => candidate(i, 0.2 + (i % 30) * 0.02));
    const counts = new Map<string, number>();
    for (const p of selectForLearning(spread, { limit: 20 })) counts.set(binOf(p), (counts.get(binOf(p)) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(LEARNING_PER_BIN);
  });

  it('queues a pick at half its uncertainty, below LOW_CONFIDENCE work that is as unsure', () => {
    const [pick] = selectForLearning([candidate(1, 0.5)], { limit: 1 });
    expect(pick).toMatchObject({ uncertainty: 1, priority: 0.5 });
  });

  it('picks nothing new when run again with its earlier picks, whether the limit or the bins stopped it', () => {
    const pool = Array.from({ length: 50 }, (_, i) => candidate(i, 0.05 + (i % 45) * 0.02));
    const first = selectForLearning(pool, { limit: 5 });
    expect(first).toHaveLength(5);
    expect(selectForLearning(pool, { limit: 0, chosen: first })).toEqual([]);
    // Stopped by the bins (two per bin) before the limit: a replay with the rest of the limit still adds nothing.
    const narrow = Array.from({ length: 20 }, (_, i) => candidate(i, 0.45 + (i % 10) * 0.009));
    const firstNarrow = selectForLearning(narrow, { limit: 10 });
    expect(firstNarrow.length).toBeLessThan(10);
    expect(selectForLearning(narrow, { limit: 10 - firstNarrow.length, chosen: firstNarrow })).toEqual([]);
    // The earlier picks are never picked again.
    const again = selectForLearning(pool, { limit: 10, chosen: first });
    expect(again.some((p) => first.some((f) => f.imageId === p.imageId))).toBe(false);
  });
});
