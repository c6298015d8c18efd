import { onnx } from 'onnx-proto';

/** A 3×3 convolution's weights in ONNX's layout (out × in × 3 × 3) and one bias per output channel. */
export interface Conv3x3 {
  inChannels: number;
  outChannels: number;
  weight: Float32Array;
  bias: Float32Array;
}

/** Small distinct weights, so a swapped axis or channel shows in the outputs. */
function conv3x3(inChannels: number, outChannels: number, seed: number): Conv3x3 {
  const weight = Float32Array.from({ length: outChannels * inChannels * 9 }, (_, i) => (((i * 7 + seed) % 13) - 6) / 10);
  const bias = Float32Array.from({ length: outChannels }, (_, o) => (o - seed) / 10);
  return { inChannels, outChannels, weight, bias };
}

/** The tiny network's layers: `feat_s2` is conv1 of the normalised picture, `feat_s4` is conv2 of relu(feat_s2). */
export const TINY_NET = { conv1: conv3x3(3, 4, 1), conv2: conv3x3(4, 4, 2) };

const tensor = (name: string, dims: number[], values: Float32Array): onnx.ITensorProto => ({
  name,
  dims,
  dataType: onnx.TensorProto.DataType.FLOAT,
  floatData: Array.from(values),
});
const ints = (name: string, values: number[]): onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: values,
});
const float = (name: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
  name,
  type: {
    tensorType: {
      elemType: onnx.TensorProto.DataType.FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  },
});

function convNode(input: string, weights: string, output: string): onnx.INodeProto {
  return {
    name: output,
    opType: 'Conv',
    input: [input, `${weights}.weight`, `${weights}.bias`],
    output: [output],
    attribute: [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1])],
  };
}

/**
 * A tiny CNN as ONNX bytes, made here so tests download nothing:
 * `image` [1, 3, H, W] → Conv 3×3 stride 2 `feat_s2` → Relu `relu_s2` → Conv 3×3 stride 2 `feat_s4`
 * → GlobalAveragePool `pooled` → Flatten `logits` [1, 4]. H and W are free unless `size` fixes them.
 */
export function tinyNetOnnx(options: { size?: { width: number; height: number } } = {}): Uint8Array {
  const { conv1, conv2 } = TINY_NET;
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: 'vigil-tests',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny',
      initializer: [
        tensor('conv1.weight', [conv1.outChannels, conv1.inChannels, 3, 3], conv1.weight),
        tensor('conv1.bias', [conv1.outChannels], conv1.bias),
        tensor('conv2.weight', [conv2.outChannels, conv2.inChannels, 3, 3], conv2.weight),
        tensor('conv2.bias', [conv2.outChannels], conv2.bias),
      ],
      node: [
        convNode('image', 'conv1', 'feat_s2'),
        { name: 'relu_s2', opType: 'Relu', input: ['feat_s2'], output: ['relu_s2'] },
        convNode('relu_s2', 'conv2', 'feat_s4'),
        { name: 'pooled', opType: 'GlobalAveragePool', input: ['feat_s4'], output: ['pooled'] },
        { name: 'logits', opType: 'Flatten', input: ['pooled'], output: ['logits'] },
      ],
      input: [float('image', [1, 3, options.size?.height ?? 'height', options.size?.width ?? 'width'])],
      output: [float('logits', [1, conv2.outChannels])],
    },
  }).finish();
}
