import { atFixedRecall, curves, GATE_RECALL } from '../../../src/models/fixed-recall';
import { gateFigures } from '../../../src/models/deployment.service';

const images = (anomalous: number[], normal: number[]) => [
  ...anomalous.map((score) => ({ score, label: 'anomalous' })),
  ...normal.map((score) => ({ score, label: 'normal' })),
];

describe('figures at a fixed recall', () => {
  it('are perfect when every anomaly outscores every normal image', () => {
    expect(atFixedRecall(images([5, 6, 7], [1, 2, 3]))).toEqual({ atRecall: GATE_RECALL, precisionAtRecall: 1, fprAtRecall: 0 });
  });

  it('read precision and false-positive rate at the first threshold that reaches the recall', () => {
    // 20 anomalies: 19 score 10..28, one scores 0.5 (missed at 95% recall). Normals: 4 above 15, 16 below 1.
    const anomalous = [...Array.from({ length: 19 }, (_, i) => 10 + i), 0.5];
    const normal = [...[15.5, 16.5, 30, 31], ...Array.from({ length: 16 }, (_, i) => i / 20)];
    const f = atFixedRecall(images(anomalous, normal));
    // Recall 19/20 = 0.95 at threshold 10: 4 false positives.
    expect(f.precisionAtRecall).toBeCloseTo(19 / 23, 6);
    expect(f.fprAtRecall).toBeCloseTo(4 / 20, 6);
  });

  it('do not move when the scores are rescaled, as a new threshold would move recall and F1', () => {
    const anomalous = [0.9, 0.8, 0.75, 0.6, 0.4];
    const normal = [0.7, 0.5, 0.3, 0.2, 0.1, 0.05];
    const a = atFixedRecall(images(anomalous, normal));
    const b = atFixedRecall(
      images(
        anomalous.map((s) => 3 * s + 7),
        normal.map((s) => 3 * s + 7),
      ),
    );
    expect(b).toEqual(a);
    expect(a).toEqual({ atRecall: 0.95, precisionAtRecall: expect.closeTo(5 / 7, 6), fprAtRecall: expect.closeTo(2 / 6, 6) });
  });

  it('put tied scores on the same side of every threshold', () => {
    const f = atFixedRecall(images([1, 1, 1, 1], [1, 0]));
    expect(f).toEqual({ atRecall: 0.95, precisionAtRecall: 0.8, fprAtRecall: 0.5 });
  });

  it('are null when the split lacks either label', () => {
    expect(atFixedRecall(images([1, 2], []))).toEqual({ atRecall: 0.95, precisionAtRecall: null, fprAtRecall: null });
    expect(atFixedRecall(images([], [1, 2]))).toEqual({ atRecall: 0.95, precisionAtRecall: null, fprAtRecall: null });
  });
});

describe('which figures the deploy gate compares', () => {
  const figures = (over: Partial<Parameters<typeof gateFigures>[0]> = {}) => ({
    modelVersionId: 'v',
    version: null,
    recall: 0.9,
    f1: 0.8,
    auroc: 0.95,
    atRecall: 0.95,
    precisionAtRecall: 0.7,
    fprAtRecall: 0.1,
    ...over,
  });

  it('are AUROC and precision at the fixed recall when both versions have them', () => {
    expect(gateFigures(figures(), figures())).toEqual(['auroc', 'precisionAtRecall']);
  });

  it('add recall and F1 at each threshold when either version lacks a threshold-free figure', () => {
    expect(gateFigures(figures({ precisionAtRecall: null, atRecall: null }), figures())).toEqual(['auroc', 'recall', 'f1']);
    expect(gateFigures(figures(), figures({ auroc: null, precisionAtRecall: null }))).toEqual(['recall', 'f1']);
    // Read at different recalls, the precisions are not comparable.
    expect(gateFigures(figures({ atRecall: 0.9 }), figures())).toEqual(['auroc', 'recall', 'f1']);
  });
});

describe('ROC and precision-recall curves', () => {
  it('run from (0, 0) to (1, 1), through (0, 1) when every anomaly outscores every normal image', () => {
    const c = curves(images([5, 6, 7], [1, 2, 3]))!;
    expect(c.roc[0]).toEqual({ x: 0, y: 0 });
    expect(c.roc.at(-1)).toEqual({ x: 1, y: 1 });
    expect(c.roc).toContainEqual({ x: 0, y: 1 });
    // Precision stays 1 until the first normal image is counted.
    expect(c.pr.slice(0, 3).map((p) => p.y)).toEqual([1, 1, 1]);
    expect(c.pr.at(-1)).toEqual({ x: 1, y: 0.5 });
  });

  it('put images with equal scores on the same step, whatever their order', () => {
    const c = curves(images([4, 2], [2, 1]))!;
    // Threshold 4: one anomaly; threshold 2: the second anomaly and a normal image together.
    expect(c.roc).toEqual([
      { x: 0, y: 0 },
      { x: 0, y: 0.5 },
      { x: 0.5, y: 1 },
      { x: 1, y: 1 },
    ]);
    expect(c.pr[1]).toEqual({ x: 1, y: 0.6667 });
  });

  it('keep the first and last points when thinned, and are null when the split lacks a label', () => {
    const many = images(
      Array.from({ length: 300 }, (_, i) => 1000 + i),
      Array.from({ length: 300 }, (_, i) => i),
    );
    const c = curves(many, 11)!;
    expect(c.roc).toHaveLength(11);
    expect(c.roc[0]).toEqual({ x: 0, y: 0 });
    expect(c.roc.at(-1)).toEqual({ x: 1, y: 1 });
    expect(c.roc.every((p, i) => i === 0 || (p.x >= c.roc[i - 1].x && p.y >= c.roc[i - 1].y))).toBe(true);
    expect(curves(images([1, 2], []))).toBeNull();
  });
});
