import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { io, Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { type Tfjs, tfjsWasm } from '../../common/tfjs-wasm';
import { fusedPlan, UnfusableModel } from './fused-plan';
import {
  type Backbone,
  BackboneError,
  type BackboneIdentity,
  type BackboneInput,
  type FeatureMap,
  flexibleInputSize,
} from './backbone.port';

/** MobileNetV2 layers tapped: two at stride 8 (a residual output and the next block's expansion), two at stride 16. */
export const MOBILENET_TAPS = ['block_5_add', 'block_6_expand_relu', 'block_12_add', 'block_13_expand_relu'];
const STRIDES: Record<string, number> = { block_5_add: 8, block_6_expand_relu: 8, block_12_add: 16, block_13_expand_relu: 16 };
const LARGEST_STRIDE = 32;

export interface MobilenetOptions {
  /** Folder of nsfwjs's `dist/models/mobilenet_v2` (model.min.js and group1-shard*.min.js). */
  modelDir?: string;
  /** wasm threads; 1 keeps one request from taking every core. */
  threads?: number;
  /** false: run the layers model as it is, one kernel per layer (same numbers, about twice the time); for comparison. */
  fuse?: boolean;
}

/** The package exports no package.json; its CommonJS entry sits at dist/cjs/index.js. */
const nsfwjsRoot = () => path.resolve(path.dirname(require.resolve('nsfwjs')), '../..');

/** nsfwjs ships each file of a tfjs model as a UMD module returning JSON or base64 text. */
function umd(file: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const value = require(file) as unknown;
  // Decoded once: the module cache would otherwise keep the base64 text (3.4 MB for the weights) for the life of the process.
  delete require.cache[require.resolve(file)];
  return typeof value === 'object' && value && 'default' in value ? (value as { default: unknown }).default : value;
}

interface KerasLayer {
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

/** The topology cut after the tapped layers, with any input size: the head (Flatten, Dense) needs a fixed one and is not used. */
// biome-ignore lint/suspicious/noExplicitAny: a Keras model JSON, edited in place.
function truncatedTopology(topology: Record<string, any>, taps: string[]): object {
  const config = (topology.model_config ?? topology).config as { layers: KerasLayer[]; output_layers: unknown };
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  const keep = new Set<string>();
  const stack = [...taps];
  while (stack.length) {
    const name = stack.pop()!;
    if (keep.has(name)) continue;
    const layer = byName.get(name);
    if (!layer) throw new BackboneError(`the MobileNetV2 model has no layer ${name}`);
    keep.add(name);
    for (const node of layer.inbound_nodes) for (const inbound of node) stack.push(inbound[0]);
  }
  const layers = config.layers.filter((l) => keep.has(l.name)).map((l) => JSON.parse(JSON.stringify(l)) as KerasLayer);
  layers[0].config.batch_input_shape = [null, null, null, 3];
  // A JSON copy, not structuredClone: tfjs tests `instanceof Array`, which fails across realms (jest).
  const copy = JSON.parse(JSON.stringify(topology));
  const target = (copy.model_config ?? copy).config;
  target.layers = layers;
  target.output_layers = taps.map((t) => [t, 0, 0]);
  return copy;
}

/**
 * How the network runs: batch norms folded into the convolutions and ReLUs into their kernels (the
 * layers model then only lent its weights), or, when asked or when it cannot be fused, the layers model as it is.
 */
function runner(tf: Tfjs, model: LayersModel, fuse: boolean): { forward: (x: Tensor4D) => Tensor[]; release: () => void } {
  if (fuse) {
    try {
      const plan = fusedPlan(tf, model, MOBILENET_TAPS);
      model.dispose();
      return { forward: (x) => plan.run(x), release: () => plan.dispose() };
    } catch (err) {
      if (!(err instanceof UnfusableModel)) throw err;
    }
  }
  return {
    forward: (x) => {
      const out = model.predict(x);
      return Array.isArray(out) ? out : [out];
    },
    release: () => model.dispose(),
  };
}

/**
 * The default backbone: MobileNetV2 (ImageNet architecture, weights quantised and fine-tuned by
 * the nsfwjs project) from the npm package nsfwjs, run by tfjs on the wasm backend. Nothing is
 * downloaded: the weights are modules inside the package.
 */
export async function openMobilenetBackbone(options: MobilenetOptions = {}): Promise<Backbone> {
  const dir = options.modelDir ?? path.join(nsfwjsRoot(), 'dist/models/mobilenet_v2');
  const tf = await tfjsWasm(options.threads ?? 1);
  let model: LayersModel;
  let identity: BackboneIdentity;
  try {
    const json = umd(path.join(dir, 'model.min.js'));
    const doc = (typeof json === 'string' ? JSON.parse(json) : json) as {
      // biome-ignore lint/suspicious/noExplicitAny: a Keras model JSON.
      modelTopology: Record<string, any>;
      weightsManifest: { weights: io.WeightsManifestEntry[] }[];
    };
    const shards = (await fs.readdir(dir)).filter((f) => /^group\d+-shard\d+of\d+\.min\.js$/.test(f)).sort();
    if (!shards.length) throw new BackboneError(`${dir} has no weight shards`);
    const weights = Buffer.concat(shards.map((f) => Buffer.from(String(umd(path.join(dir, f))), 'base64')));
    const version = options.modelDir
      ? 'custom'
      : (JSON.parse(await fs.readFile(path.join(nsfwjsRoot(), 'package.json'), 'utf8')).version as string);
    identity = {
      name: 'nsfwjs/mobilenet_v2',
      version,
      weightsSha256: crypto.createHash('sha256').update(weights).digest('hex'),
      taps: MOBILENET_TAPS,
    };
    const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: truncatedTopology(doc.modelTopology, MOBILENET_TAPS),
        weightSpecs: doc.weightsManifest.flatMap((g) => g.weights),
        weightData,
      }),
      { strict: false },
    );
  } catch (err) {
    if (err instanceof BackboneError) throw err;
    throw new BackboneError(`the MobileNetV2 backbone in ${dir} cannot be loaded: ${(err as Error).message}`);
  }
  const { forward, release } = runner(tf, model, options.fuse !== false);
  // The first call sets up kernels; pay it at start, not on the first image.
  tf.dispose(tf.tidy(() => forward(tf.zeros([1, 64, 64, 3]))));

  return {
    identity,
    // The residual outputs: the wide expansion layers (192 and 576 ReLU6 channels) drown them in a nearest-neighbour distance.
    memoryTaps: ['block_5_add', 'block_12_add'],
    sizing: { multiple: LARGEST_STRIDE },
    inputSize: (aspect, area) => flexibleInputSize(aspect, area, LARGEST_STRIDE),
    async extract(input: BackboneInput): Promise<FeatureMap[]> {
      if (input.data.length !== input.width * input.height * 3)
        throw new BackboneError(`expected ${input.width}×${input.height}×3 values, got ${input.data.length}`);
      const outputs = tf.tidy(() => forward(tf.tensor4d(input.data, [1, input.height, input.width, 3])));
      try {
        const data = await Promise.all(outputs.map((o) => o.data() as Promise<Float32Array>));
        return outputs.map((o, i) => ({
          tap: MOBILENET_TAPS[i],
          height: o.shape[1]!,
          width: o.shape[2]!,
          channels: o.shape[3]!,
          stride: STRIDES[MOBILENET_TAPS[i]],
          data: data[i],
        }));
      } finally {
        tf.dispose(outputs);
      }
    },
    async close() {
      release();
    },
  };
}
