import { fitLogisticWasm } from '../../../src/anomaly-model/logistic';
import { bandFloor, bestF1Threshold, reviewBand } from '../../../src/anomaly-model/metrics';
import { fitLogistic, greedyCoreset, seededRandom } from '../../../src/anomaly-model/numeric';
import { fineCells } from '../../../src/anomaly-model/scoring';
import { oneViewMargin } from '../../../src/anomaly-model/thresholds';

describe('fitLogisticWasm', () => {
  it('learns the same class-balanced, L2-regularised regression as the plain-JS fit', async () => {
    const random = seededRandom(5);
    const dim = 6;
    const n = 300;
    const rows = Float32Array.from({ length: n * dim }, () => random() - 0.5);
    const labels = Uint8Array.from({ length: n }, (_, i) => (rows[i * dim] - rows[i * dim + 1] > 0.2 ? 1 : 0));
    const js = fitLogistic(rows, labels, dim, { epochs: 200, l2: 1e-3 });
    const wasm = await fitLogisticWasm(rows, labels, dim, { epochs: 200, l2: 1e-3 });
    wasm.weights.forEach((w, d) => expect(w).toBeCloseTo(js.weights[d], 2));
    expect(wasm.bias).toBeCloseTo(js.bias, 2);
    expect(wasm.weights[0]).toBeGreaterThan(1);
    expect(wasm.weights[1]).toBeLessThan(-1);
  });
});

describe('greedyCoreset', () => {
  it('covers every cluster with a few rows, also when it chooses on a random projection of long rows', () => {
    const random = seededRandom(9);
    const dim = 128;
    const centres = [0, 10, 20, 30];
    const rows = new Float32Array(400 * dim);
    for (let i = 0; i < 400; i++) for (let d = 0; d < dim; d++) rows[i * dim + d] = centres[i % 4] + 0.1 * random();
    const chosen = greedyCoreset(rows, dim, 4, seededRandom(1));
    expect(new Set(chosen.map((i) => i % 4)).size).toBe(4);
    expect(greedyCoreset(rows, dim, 4, seededRandom(1))).toEqual(chosen);
  });
});

describe('fineCells', () => {
  it('maps a cell of the memory grid to the patches it averages, clipped at the edge', () => {
    const f = { rows: 3, cols: 5, memory: { rows: 2, cols: 3 } } as Parameters<typeof fineCells>[1];
    expect(fineCells([0], f)).toEqual([0, 1, 5, 6]);
    expect(fineCells([5], f)).toEqual([14]);
  });
});

describe('bandFloor', () => {
  const scored = (labels: string) => [...labels].map((c, i) => ({ score: i, positive: c === 'A' }));

  it('is 0 when the scores separate the classes, and covers exactly the mixed stretch otherwise', () => {
    expect(bandFloor(scored('NNNNAAAA'))).toBe(0);
    // Two mixed images in the middle: both must be in the band for every verdict outside it to be right.
    expect(bandFloor(scored('NNNANAAA'))).toBe(2 / 8);
    // A laxer accuracy lets one mistake stay outside among 8 images.
    expect(bandFloor(scored('NNNANAAA'), 0.85)).toBe(0);
  });

  it('is never wider than the band the thresholds actually chose, on random scores', () => {
    const random = seededRandom(9);
    for (let round = 0; round < 20; round++) {
      const items = Array.from({ length: 60 }, () => {
        const positive = random() < 0.3;
        return { score: random() + (positive ? 0.6 : 0), positive };
      });
      const operating = bestF1Threshold(items);
      const band = reviewBand(items, operating);
      const inside = items.filter((s) => s.score >= band.low && s.score < band.high).length / items.length;
      expect(bandFloor(items)).toBeLessThanOrEqual(inside + 1e-9);
    }
  });
});

describe('oneViewMargin', () => {
  it("is the shift the other views made to 95% of the pictures' scores, in the score's units", () => {
    // Twenty pictures: the other views moved their logits by ±0.1, ±0.2, … ±2.0.
    const first = Array.from({ length: 20 }, (_, i) => i - 10);
    const all = first.map((v, i) => v + (i % 2 ? -1 : 1) * ((i + 1) / 10));
    const margin = oneViewMargin(all, first, 1);
    // Between the 19th and 20th largest shift (1.9 and 2.0), interpolated.
    expect(margin).toBeCloseTo(1.905, 9);
    expect(all.filter((v, i) => Math.abs(v - first[i]) > margin)).toHaveLength(1);
    // In a stacked score the logit counts with its weight, whatever its sign.
    expect(oneViewMargin(all, first, -0.5)).toBeCloseTo(0.9525, 9);
    expect(oneViewMargin([], [], 1)).toBe(0);
  });
});
