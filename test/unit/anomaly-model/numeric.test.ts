import { fitLogisticWasm } from '../../../src/anomaly-model/logistic';
import { fitLogistic, greedyCoreset, seededRandom } from '../../../src/anomaly-model/numeric';
import { fineCells } from '../../../src/anomaly-model/scoring';

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
