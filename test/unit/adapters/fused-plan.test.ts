import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fusedPlan, UnfusableModel } from '../../../src/adapters/backbone/fused-plan';
import { seededRandom } from '../../../src/anomaly-model/numeric';
import { tfjsWasm } from '../../../src/common/tfjs-wasm';

/** Every weight of the model set to seeded random numbers (variances positive), so folding has something to get wrong. */
async function randomise(model: tfl.LayersModel) {
  const tf = await tfjsWasm();
  const random = seededRandom(5);
  model.setWeights(
    model.weights.map((w) => {
      // Weights have fixed shapes: no null (batch) dimension.
      const shape = w.shape.map((d) => d ?? 1);
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: size }, () => (w.name.includes('variance') ? 0.5 + random() : random() * 2 - 1));
      return tf.tensor(values, shape);
    }),
  );
}

describe('a layers model compiled to fused kernels', () => {
  it('gives the layers model numbers through conv with bias, batch norm, ReLU, ReLU6, depthwise, padding and add', async () => {
    const tf = await tfjsWasm();
    const input = tfl.input({ shape: [null, null, 3] as unknown as number[], name: 'x' });
    const padded = tfl.layers
      .zeroPadding2d({
        padding: [
          [0, 1],
          [0, 1],
        ],
        name: 'pad',
      })
      .apply(input) as tfl.SymbolicTensor;
    const conv = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: true, name: 'conv' }).apply(padded);
    const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(conv);
    const relu = tfl.layers.reLU({ name: 'relu' }).apply(bn) as tfl.SymbolicTensor;
    const dw = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'dw' }).apply(relu);
    const dwBn = tfl.layers.batchNormalization({ name: 'dw_bn' }).apply(dw);
    const dwRelu = tfl.layers.reLU({ maxValue: 6, name: 'dw_relu6' }).apply(dwBn) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({ name: 'sum' }).apply([relu, dwRelu]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: [relu, sum] });
    await randomise(model);

    const plan = fusedPlan(tf, model, ['relu', 'sum']);
    const x = tf.randomUniform([1, 17, 13, 3], 0, 1, 'float32', 3) as Tensor4D;
    const expected = model.predict(x) as Tensor[];
    const got = plan.run(x);
    for (let i = 0; i < 2; i++) {
      expect(got[i].shape).toEqual(expected[i].shape);
      const [a, b] = [Float32Array.from(got[i].dataSync()), Float32Array.from(expected[i].dataSync())];
      const largest = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(largest).toBeGreaterThan(0.5);
      b.forEach((v, j) => expect(Math.abs(a[j] - v)).toBeLessThan(1e-4 * largest));
    }
    // The plan keeps its own weights: it still runs once the model is gone.
    model.dispose();
    const again = plan.run(x);
    expect(Array.from(again[1].dataSync())).toEqual(Array.from(got[1].dataSync()));
    plan.dispose();
    tf.dispose([x, ...expected, ...got, ...again]);
  });

  it('refuses a layer it has no fused form for, an output it does not have, and a batch norm it may not fold', async () => {
    const tf = await tfjsWasm();
    const input = tfl.input({ shape: [8, 8, 3], name: 'x' });
    const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 1, name: 'conv' }).apply(input);
    const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(conv);
    const pooled = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(bn) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: pooled });
    expect(() => fusedPlan(tf, model, ['pool'])).toThrow(UnfusableModel);
    const cut = tfl.model({ inputs: input, outputs: bn as tfl.SymbolicTensor });
    expect(() => fusedPlan(tf, cut, ['bn', 'nope'])).toThrow(/outputs nope are absorbed or absent/);
    expect(() => fusedPlan(tf, cut, ['conv'])).toThrow(/bn: no fused form for BatchNormalization/);
    model.dispose();
  });
});
