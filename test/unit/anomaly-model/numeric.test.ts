import { fitLogisticParts, fitLogisticWasm } from '../../../src/anomaly-model/logistic';
import { tfjsWasm } from '../../../src/common/tfjs-wasm';
import { bandFloor, bestF1Threshold, reviewBand } from '../../../src/anomaly-model/metrics';
import { fitLogistic, greedyCoreset, linearScore, seededRandom } from '../../../src/anomaly-model/numeric';
import { fineCells } from '../../../src/anomaly-model/scoring';
import { chooseLooks, decides, lookAt } from '../../../src/anomaly-model/thresholds';

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

  it('learns the same from rows given in parts (one empty), taking each part once, and gives every row its logit', async () => {
    const random = seededRandom(6);
    const dim = 5;
    const n = 250;
    const rows = Float32Array.from({ length: n * dim }, () => random() - 0.5);
    const labels = Uint8Array.from({ length: n }, (_, i) => (rows[i * dim + 2] > 0.1 ? 1 : 0));
    const whole = await fitLogisticWasm(rows, labels, dim, { epochs: 150 });
    const cuts = [0, 90, 90, 200, n];
    const taken: number[] = [];
    function* parts() {
      for (let i = 0; i + 1 < cuts.length; i++) {
        taken.push(i);
        yield { rows: rows.subarray(cuts[i] * dim, cuts[i + 1] * dim), labels: labels.subarray(cuts[i], cuts[i + 1]) };
      }
    }
    const tf = await tfjsWasm();
    const tensorsBefore = tf.memory().numTensors;
    const { model, logits } = await fitLogisticParts(parts(), dim, { epochs: 150, logits: true });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(taken).toEqual([0, 1, 2, 3]);
    model.weights.forEach((w, d) => expect(w).toBeCloseTo(whole.weights[d], 4));
    expect(model.bias).toBeCloseTo(whole.bias, 4);
    expect(model.weights[2]).toBeGreaterThan(1);
    expect(logits).toHaveLength(n);
    for (const r of [0, 89, 90, 199, 249]) expect(logits?.[r]).toBeCloseTo(linearScore(model, rows, r * dim), 4);
    expect((await fitLogisticParts(parts(), dim, { epochs: 1 })).logits).toBeUndefined();
    await expect(fitLogisticParts([{ rows: new Float32Array(0), labels: new Uint8Array(0) }], dim)).rejects.toThrow(
      'no rows to learn from',
    );
    expect(tf.memory().numTensors).toBe(tensorsBefore);
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

describe('looks', () => {
  // Twenty pictures, two views: the second view moves the mean logit by d = +0.1, −0.2, +0.3, … −2.0.
  const first = Array.from({ length: 20 }, (_, i) => i - 10);
  const moved = first.map((_, i) => (i % 2 ? -1 : 1) * ((i + 1) / 10));
  const views = [first, first.map((v, i) => v + 2 * moved[i])];

  it("keeps each side's margin at the shift toward the band that 97.5% of the pictures stayed under", () => {
    const look = lookAt([0], views, 1);
    // Raised by 0.1 … 1.9 (and lowered by 0.2 … 2.0): between the 19th and 20th of the sorted shifts, interpolated.
    expect(look.below).toBeCloseTo(1.805, 9);
    expect(look.above).toBeCloseTo(1.905, 9);
    expect(moved.filter((d) => d > look.below)).toEqual([1.9]);
    // In a stacked score the logit counts with its weight: a negative one turns raising into lowering.
    const weighed = lookAt([0], views, -0.5);
    expect(weighed.below).toBeCloseTo(0.9525, 9);
    expect(weighed.above).toBeCloseTo(0.9025, 9);
    // A look at every view adds nothing.
    expect(lookAt([0, 1], views, 1)).toEqual({ views: [0, 1], below: 0, above: 0 });
  });

  it('decides only a score at least its margin outside the band', () => {
    const look = { views: [0], below: 1, above: 2 };
    const band = { low: 0, high: 1 };
    expect([-1.01, -0.99, 0.5, 2.99, 3].map((s) => decides(look, s, band))).toEqual([true, false, false, false, true]);
  });

  it('looks at view 0, then at view 0 with the flip that lets the most pictures stop', () => {
    // Forty scores across a band at [−0.5, 0.5); view 1 agrees with view 0, view 2 strays three times as far.
    const scores = Array.from({ length: 40 }, (_, i) => i / 4 - 5);
    const e = scores.map((_, i) => ((i % 2 ? -1 : 1) * ((i % 5) + 1)) / 10);
    const l0 = scores.map((s, i) => s - e[i]);
    const logits = [l0, l0, l0.map((v, i) => v + 3 * e[i])];
    const band = { low: -0.5, high: 0.5 };
    const looks = chooseLooks(scores, band, logits, 1);
    expect(looks.map((l) => l.views)).toEqual([[0], [0, 2]]);
    expect(looks[0]).toEqual(lookAt([0], logits, 1));
    // Views 0 and 2 stray half as far from all three as views 0 and 1 do: narrower margins, more pictures stop.
    expect(looks[1]).toEqual(lookAt([0, 2], logits, 1));
    expect(looks[1].below).toBeCloseTo(lookAt([0, 1], logits, 1).below / 2, 9);
    expect(chooseLooks(scores, band, logits.slice(0, 2), 1).map((l) => l.views)).toEqual([[0]]);
    expect(chooseLooks(scores, band, logits.slice(0, 1), 1)).toEqual([]);
  });
});
