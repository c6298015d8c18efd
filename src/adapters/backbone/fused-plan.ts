import type { Tensor, Tensor1D, Tensor4D } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { type Tfjs } from '../../common/tfjs-wasm';

/**
 * A Keras MobileNet run as fused kernels. tfjs-layers runs every Conv2D, BatchNormalization and
 * ReLU as its own pass over the activations; inference needs one: the batch norm folds into the
 * convolution's kernel and bias, and the ReLU becomes the fused kernel's activation (wasm has
 * FusedConv2D and FusedDepthwiseConv2D). Same numbers to float rounding, about half the time.
 */
export interface FusedPlan {
  run(x: Tensor4D): Tensor4D[];
  dispose(): void;
}

type Step =
  | { kind: 'input'; name: string }
  | { kind: 'pad'; name: string; input: string; padding: [number, number][] }
  | { kind: 'add'; name: string; inputs: string[] }
  | {
      kind: 'conv' | 'depthwise';
      name: string;
      input: string;
      filter: Tensor4D;
      bias: Tensor1D | undefined;
      activation: 'linear' | 'relu' | 'relu6';
      strides: [number, number];
      pad: 'same' | 'valid';
    };

interface LayerLike {
  name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  getWeights(): Tensor[];
  inboundNodes: { inboundLayers: { name: string }[] }[];
}

/** Why a model cannot be fused (a layer kind this plan does not know): the caller runs it as it is. */
export class UnfusableModel extends Error {}

interface Graph {
  inputsOf(layer: LayerLike): string[];
  /** The one layer reading `name`, when it is of this kind and `name` is not an output the caller wants. */
  only(name: string, kind: string): LayerLike | undefined;
}

function graphOf(layers: LayerLike[], outputs: string[]): Graph {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const inputsOf = (l: LayerLike) => (l.inboundNodes[0]?.inboundLayers ?? []).map((i) => i.name);
  const consumers = new Map<string, string[]>();
  for (const l of layers) for (const i of inputsOf(l)) consumers.set(i, [...(consumers.get(i) ?? []), l.name]);
  return {
    inputsOf,
    only(name, kind) {
      const next = consumers.get(name) ?? [];
      const layer = next.length === 1 ? byName.get(next[0]) : undefined;
      return layer?.getClassName() === kind && !outputs.includes(name) ? layer : undefined;
    },
  };
}

/** y = γ(x − μ)/√(σ² + ε) + β folded into the convolution before it: a new kernel and bias (the old ones disposed). */
function foldBatchNorm(tf: Tfjs, depthwise: boolean, filter: Tensor4D, bias: Tensor1D | undefined, bn: LayerLike) {
  const c = bn.getConfig();
  if (!c.scale || !c.center) throw new UnfusableModel(`${bn.name}: batch norm without scale or centre`);
  const [gamma, beta, mean, variance] = bn.getWeights();
  const folded = tf.tidy(() => {
    const s = tf.div(gamma, tf.sqrt(tf.add(variance, c.epsilon as number)));
    const f = depthwise ? tf.mul(filter, tf.reshape(s, [1, 1, -1, 1])) : tf.mul(filter, s);
    const b = tf.sub(beta, tf.mul(bias ? tf.sub(mean, bias) : mean, s));
    return { filter: f as Tensor4D, bias: b as Tensor1D };
  });
  tf.dispose([filter, ...(bias ? [bias] : [])]);
  return folded;
}

/** The fused kernel's activation for a plain ReLU (or ReLU6) layer; null for any other form. */
function fusedActivation(relu: LayerLike): 'relu' | 'relu6' | null {
  const c = relu.getConfig();
  const max = c.maxValue as number | null | undefined;
  if ((c.negativeSlope ?? 0) !== 0 || (c.threshold ?? 0) !== 0 || (max != null && max !== 6)) return null;
  return max === 6 ? 'relu6' : 'relu';
}

/** A convolution with the batch norm and ReLU after it, as one fused step; `absorbed` gets the layers it took in. */
function convStep(tf: Tfjs, l: LayerLike, graph: Graph, owned: Tensor[], absorbed: Set<string>): Step {
  const config = l.getConfig();
  const depthwise = l.getClassName() === 'DepthwiseConv2D';
  if (config.activation !== 'linear' || (config.dilationRate as number[] | undefined)?.some((d) => d !== 1))
    throw new UnfusableModel(`${l.name}: activation ${config.activation} or dilation`);
  const [kernel, ownBias] = l.getWeights();
  // Copies: the plan outlives the model.
  let filter = tf.clone(kernel) as Tensor4D;
  let bias = config.useBias ? (tf.clone(ownBias) as Tensor1D) : undefined;
  owned.push(filter, ...(bias ? [bias] : []));
  let name = l.name;
  const bn = graph.only(name, 'BatchNormalization');
  if (bn) {
    // The copies in `owned` are disposed by the fold; disposing them again on failure is harmless.
    ({ filter, bias } = foldBatchNorm(tf, depthwise, filter, bias, bn));
    owned.push(filter, ...(bias ? [bias] : []));
    absorbed.add(bn.name);
    name = bn.name;
  }
  const relu = graph.only(name, 'ReLU');
  const activation = relu ? fusedActivation(relu) : null;
  if (relu && activation) {
    absorbed.add(relu.name);
    name = relu.name;
  }
  const strides = config.strides as [number, number];
  const pad = config.padding as 'same' | 'valid';
  return {
    kind: depthwise ? 'depthwise' : 'conv',
    name,
    input: graph.inputsOf(l)[0],
    filter,
    bias,
    activation: activation ?? 'linear',
    strides,
    pad,
  };
}

/** Compiles the model's layers (up to its outputs) into fused steps; the model itself can be disposed afterwards. */
export function fusedPlan(tf: Tfjs, model: LayersModel, outputs: string[]): FusedPlan {
  const layers = model.layers as unknown as LayerLike[];
  const graph = graphOf(layers, outputs);
  const steps: Step[] = [];
  const owned: Tensor[] = [];
  const absorbed = new Set<string>();
  try {
    for (const l of layers) {
      if (absorbed.has(l.name)) continue;
      const kind = l.getClassName();
      if (kind === 'InputLayer') steps.push({ kind: 'input', name: l.name });
      else if (kind === 'ZeroPadding2D')
        steps.push({ kind: 'pad', name: l.name, input: graph.inputsOf(l)[0], padding: l.getConfig().padding as [number, number][] });
      else if (kind === 'Add') steps.push({ kind: 'add', name: l.name, inputs: graph.inputsOf(l) });
      else if (kind === 'Conv2D' || kind === 'DepthwiseConv2D') steps.push(convStep(tf, l, graph, owned, absorbed));
      else throw new UnfusableModel(`${l.name}: no fused form for ${kind}`);
    }
    const known = new Set(steps.map((s) => s.name));
    const missing = outputs.filter((o) => !known.has(o));
    if (missing.length) throw new UnfusableModel(`outputs ${missing.join(', ')} are absorbed or absent`);
  } catch (err) {
    tf.dispose(owned);
    throw err;
  }

  return {
    run(x) {
      return tf.tidy(() => {
        const values = new Map<string, Tensor4D>();
        const get = (name: string) => values.get(name)!;
        for (const s of steps) {
          if (s.kind === 'input') values.set(s.name, x);
          else if (s.kind === 'pad') values.set(s.name, tf.pad(get(s.input), [[0, 0], s.padding[0], s.padding[1], [0, 0]]));
          else if (s.kind === 'add')
            values.set(
              s.name,
              s.inputs.map(get).reduce((a, b) => tf.add(a, b)),
            );
          else {
            const args = { x: get(s.input), filter: s.filter, strides: s.strides, pad: s.pad, bias: s.bias, activation: s.activation };
            values.set(s.name, s.kind === 'conv' ? tf.fused.conv2d(args) : tf.fused.depthwiseConv2d(args));
          }
        }
        return outputs.map(get);
      });
    },
    dispose() {
      tf.dispose(owned);
    },
  };
}
