import { tfjsWasm } from '../common/tfjs-wasm';
import { type LinearModel } from './numeric';

/**
 * `fitLogistic` (L2-regularised, class-balanced logistic regression by full-batch Adam) on the
 * wasm backend: the same fit in float32, each epoch two matrix-vector products instead of a
 * plain-JS loop — what keeps training on ~900 pictures within two minutes.
 */
export async function fitLogisticWasm(
  rows: Float32Array,
  labels: Uint8Array,
  dim: number,
  options: { l2?: number; epochs?: number; learningRate?: number } = {},
): Promise<LinearModel> {
  const { l2 = 1e-3, epochs = 300, learningRate = 0.05 } = options;
  const tf = await tfjsWasm();
  const n = labels.length;
  const positives = labels.reduce((s, l) => s + l, 0);
  const wPos = positives ? n / (2 * positives) : 1;
  const wNeg = n - positives ? n / (2 * (n - positives)) : 1;
  // The rows go to the backend as they are (no copy with a column of ones): the bias is the last weight, the L2 mask leaves it out.
  const x = tf.tensor2d(rows, [n, dim]);
  const y = tf.tensor2d(Float32Array.from(labels), [n, 1]);
  const weight = tf.tensor2d(
    Float32Array.from(labels, (l) => (l ? wPos : wNeg)),
    [n, 1],
  );
  const l2Mask = tf.tensor2d(
    Float32Array.from({ length: dim + 1 }, (_, d) => (d < dim ? l2 : 0)),
    [dim + 1, 1],
  );
  let w = tf.zeros([dim + 1, 1]) as ReturnType<typeof tf.tensor2d>;
  let m = tf.zerosLike(w);
  let v = tf.zerosLike(w);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const next = tf.tidy(() => {
      // Adam: the gradient of the weighted log loss with L2, its moments, the bias-corrected step.
      const logits = tf.add(tf.matMul(x, tf.slice(w, [0, 0], [dim, 1])), tf.slice(w, [dim, 0], [1, 1]));
      const err = tf.mul(tf.sub(tf.sigmoid(logits), y), weight);
      // errᵀ·x as a row vector, not xᵀ·err: no transposed copy of x (as large as x), and measured 2.1 against 5.8 ms a product for 3,000 × 2,689.
      const gradient = tf.concat([tf.reshape(tf.matMul(tf.reshape(err, [1, n]), x), [dim, 1]), tf.reshape(tf.sum(err), [1, 1])], 0);
      const g = tf.add(tf.div(gradient, n), tf.mul(w, l2Mask));
      const m2 = tf.add(tf.mul(m, 0.9), tf.mul(g, 0.1));
      const v2 = tf.add(tf.mul(v, 0.999), tf.mul(tf.square(g), 0.001));
      const mHat = tf.div(m2, 1 - 0.9 ** epoch);
      const vHat = tf.div(v2, 1 - 0.999 ** epoch);
      const step = tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), 1e-8)), learningRate);
      return [tf.sub(w, step), m2, v2];
    });
    tf.dispose([w, m, v]);
    [w, m, v] = next as [typeof w, typeof m, typeof v];
  }
  const out = (await w.data()) as Float32Array;
  tf.dispose([x, y, weight, l2Mask, w, m, v]);
  return { weights: Array.from(out.subarray(0, dim)), bias: out[dim] };
}
