import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { type BackboneConfig } from '../../config/config';
import { type Backbone, BackboneError, type BackboneInput, type FeatureMap, flexibleInputSize } from './backbone.port';

/** The ONNX backbone's settings (BACKBONE_ONNX_*): an export with one NCHW float RGB input and its weights inside the file. */
export type OnnxBackboneOptions = Omit<Extract<BackboneConfig, { kind: 'onnx' }>, 'kind' | 'threads'> & {
  /** onnxruntime's intra-op threads; 1 keeps one request from taking every core. */
  threads?: number;
};

type Size = { width: number; height: number };
type Int = number | { toString(): string } | null | undefined;

/** int64 fields decode to Long when the `long` package is installed, to numbers otherwise. */
const int = (v: Int) => (v == null ? 0 : Number(v.toString()));

/** The parts of the model the adapter relies on, checked: one float NCHW input, the tensor names, a version. */
function describe(bytes: Uint8Array, file: string) {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new BackboneError(`${file} is not an ONNX model: ${(err as Error).message}`);
  }
  const nodes = model.graph?.node ?? [];
  const initializers = model.graph?.initializer ?? [];
  if (!int(model.irVersion) || !nodes.length) throw new BackboneError(`${file} is not an ONNX model: it has no IR version or no graph`);
  // Weights kept beside the file would not be found from the bytes, nor covered by the sha256.
  if (initializers.some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)) {
    throw new BackboneError(`${file} keeps its weights in external data files; export it with the weights inside the file`);
  }
  const weights = new Set(initializers.map((t) => t.name));
  const inputs = (model.graph?.input ?? []).filter((i) => !weights.has(i.name));
  if (inputs.length !== 1)
    throw new BackboneError(`${file} has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); expected one picture`);
  const tensor = inputs[0].type?.tensorType;
  const dims = (tensor?.shape?.dim ?? []).map((d) => (int(d.dimValue) > 0 ? int(d.dimValue) : null));
  if (
    tensor?.elemType !== onnx.TensorProto.DataType.FLOAT ||
    dims.length !== 4 ||
    ![null, 1].includes(dims[0]) ||
    ![null, 3].includes(dims[1])
  ) {
    throw new BackboneError(`${file}'s input ${inputs[0].name} is not a float tensor [1, 3, height, width]`);
  }
  const [height, width] = [dims[2], dims[3]];
  if ((height === null) !== (width === null))
    throw new BackboneError(`${file}'s input has one fixed side and one free one; expected both fixed or both free`);
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(' ');
  return {
    input: inputs[0].name ?? '',
    fixedSize: height && width ? { width, height } : null,
    tensors: nodes.flatMap((n) => n.output ?? []).filter(Boolean),
    outputs: (model.graph?.output ?? []).map((o) => o.name ?? ''),
    version: [producer, `ir ${int(model.irVersion)}`, `opset ${int(opset?.version)}`].filter(Boolean).join(', '),
  };
}

/** A few names spread over the graph, for an error message. */
function sample(names: string[], count = 8): string {
  const picked =
    names.length <= count ? names : Array.from({ length: count }, (_, i) => names[Math.floor((i * (names.length - 1)) / (count - 1))]);
  return `${picked.join(', ')}${names.length > count ? ` … (${names.length} in all)` : ''}`;
}

/** HWC [0, 1] RGB to normalised NCHW. */
function toNchw(input: BackboneInput, mean: number[], std: number[]): Float32Array {
  const plane = input.width * input.height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = (input.data[p * 3 + c] - mean[c]) / std[c];
  return out;
}

function toFeatureMap(tap: string, stride: number, tensor: ort.Tensor): FeatureMap {
  const [batch, channels, height, width] = tensor.dims;
  if (tensor.dims.length !== 4 || batch !== 1 || tensor.type !== 'float32') {
    throw new BackboneError(
      `tap ${tap} is a ${tensor.type} tensor [${tensor.dims.join(', ')}]; expected float32 [1, channels, height, width]`,
    );
  }
  const chw = tensor.data as Float32Array;
  const plane = width * height;
  const data = new Float32Array(chw.length);
  for (let c = 0; c < channels; c++) for (let p = 0; p < plane; p++) data[p * channels + c] = chw[c * plane + p];
  return { tap, width, height, channels, stride, data };
}

/**
 * An operator's own ONNX export (a torchvision ResNet, say) run by onnxruntime-node. onnxruntime
 * returns only graph outputs, so the tapped tensors are made outputs before the session opens.
 */
export async function openOnnxBackbone(options: OnnxBackboneOptions): Promise<Backbone> {
  const { file, taps, strides } = options;
  if (!taps.length || taps.length !== strides.length)
    throw new BackboneError(`expected one stride per tap, got ${taps.length} taps and ${strides.length} strides`);
  if (new Set(taps).size !== taps.length) throw new BackboneError(`a tap is named twice in ${taps.join(', ')}`);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new BackboneError(`cannot read the ONNX backbone ${file}: ${(err as Error).message}`);
  }
  const model = describe(bytes, file);
  const known = new Set([...model.tensors, ...model.outputs]);
  const missing = taps.filter((t) => !known.has(t));
  if (missing.length) throw new BackboneError(`${file} has no tensor ${missing.join(', ')}; some it has: ${sample(model.tensors)}`);
  const configured = options.inputSize;
  if (model.fixedSize && configured && (configured.width !== model.fixedSize.width || configured.height !== model.fixedSize.height)) {
    throw new BackboneError(
      `${file} takes ${model.fixedSize.width}×${model.fixedSize.height} pictures, not the configured ${configured.width}×${configured.height}`,
    );
  }
  const fixedSize: Size | null = model.fixedSize ?? configured;

  // Protobuf merges a message field that appears twice, so an appended `graph` holding only the new
  // outputs adds them while the original bytes stay as they are, fields this older schema lacks included.
  const extraOutputs = taps.filter((t) => !model.outputs.includes(t)).map((name) => ({ name }));
  const patched = Buffer.concat([bytes, onnx.ModelProto.encode({ graph: { output: extraOutputs } }).finish()]);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(patched, {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    });
  } catch (err) {
    throw new BackboneError(`onnxruntime cannot load ${file}: ${(err as Error).message}`);
  }

  const running = new Set<Promise<unknown>>();
  let closed = false;
  return {
    identity: {
      name: `onnx/${path.basename(file)}`,
      version: model.version,
      weightsSha256: crypto.createHash('sha256').update(bytes).digest('hex'),
      taps,
    },
    sizing: fixedSize ? { fixed: fixedSize } : { multiple: Math.max(...strides) },
    inputSize: (aspect, area) => fixedSize ?? flexibleInputSize(aspect, area, Math.max(...strides)),
    async extract(input: BackboneInput): Promise<FeatureMap[]> {
      if (closed) throw new BackboneError('the ONNX backbone is closed');
      if (input.data.length !== input.width * input.height * 3)
        throw new BackboneError(`expected ${input.width}×${input.height}×3 values, got ${input.data.length}`);
      if (fixedSize && (input.width !== fixedSize.width || input.height !== fixedSize.height)) {
        throw new BackboneError(`${file} takes ${fixedSize.width}×${fixedSize.height} pictures, got ${input.width}×${input.height}`);
      }
      const image = new ort.Tensor('float32', toNchw(input, options.mean, options.std), [1, 3, input.height, input.width]);
      const run = session.run({ [model.input]: image }, taps);
      running.add(run);
      let outputs: ort.InferenceSession.ReturnType;
      try {
        outputs = await run;
      } catch (err) {
        throw new BackboneError(`onnxruntime failed on a ${input.width}×${input.height} picture: ${(err as Error).message}`);
      } finally {
        running.delete(run);
      }
      return taps.map((tap, i) => toFeatureMap(tap, strides[i], outputs[tap]));
    },
    async close() {
      if (closed) return;
      closed = true;
      // Runs in flight finish first: the native session must outlive them.
      await Promise.allSettled(running);
      await session.release();
    },
  };
}
