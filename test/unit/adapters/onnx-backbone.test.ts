import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runInThisContext } from 'node:vm';
import { type Backbone, BackboneError, type BackboneInput, flexibleInputSize } from '../../../src/adapters/backbone/backbone.port';
import { type OnnxBackboneOptions } from '../../../src/adapters/backbone/onnx.driver';
import { type Conv3x3, TINY_NET, tinyNetOnnx } from '../../support/onnx';

// onnxruntime-node makes its outputs' arrays in Node's realm and onnxruntime-common checks them with
// `instanceof Float32Array` in jest's (microsoft/onnxruntime#16622): jest's realm takes Node's
// constructor before onnxruntime loads, hence the require below the imports.
globalThis.Float32Array = runInThisContext('Float32Array');
const { openOnnxBackbone } = jest.requireActual<typeof import('../../../src/adapters/backbone/onnx.driver')>(
  '../../../src/adapters/backbone/onnx.driver',
);

const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];

let dir: string;
let freeSize: string;
let fixedSize: string;
const opened: Backbone[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-onnx-'));
  freeSize = path.join(dir, 'tiny.onnx');
  fixedSize = path.join(dir, 'tiny-32.onnx');
  fs.writeFileSync(freeSize, tinyNetOnnx());
  fs.writeFileSync(fixedSize, tinyNetOnnx({ size: { width: 32, height: 32 } }));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function open(options: Partial<OnnxBackboneOptions> = {}): Promise<Backbone> {
  const backbone = await openOnnxBackbone({
    file: freeSize,
    taps: ['feat_s2', 'feat_s4'],
    strides: [2, 4],
    inputSize: null,
    mean: MEAN,
    std: STD,
    threads: 1,
    ...options,
  });
  opened.push(backbone);
  return backbone;
}

/** A picture whose three channels differ, so a swapped axis or channel shows. */
function picture(width: number, height: number): BackboneInput {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([x / (width - 1), y / (height - 1), ((x * 3 + y * 5) % 7) / 6], (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

interface Chw {
  width: number;
  height: number;
  data: Float32Array;
}

/** The hand computation: a 3×3 convolution, stride 2, zero padding 1, channels first. */
function conv(input: Chw, layer: Conv3x3): Chw {
  const width = Math.ceil(input.width / 2);
  const height = Math.ceil(input.height / 2);
  const data = new Float32Array(layer.outChannels * width * height);
  for (let o = 0; o < layer.outChannels; o++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = layer.bias[o];
        for (let c = 0; c < layer.inChannels; c++) {
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              const iy = y * 2 + ky - 1;
              const ix = x * 2 + kx - 1;
              if (iy < 0 || ix < 0 || iy >= input.height || ix >= input.width) continue;
              sum += layer.weight[((o * layer.inChannels + c) * 3 + ky) * 3 + kx] * input.data[(c * input.height + iy) * input.width + ix];
            }
          }
        }
        data[(o * height + y) * width + x] = sum;
      }
    }
  }
  return { width, height, data };
}

function normalised(input: BackboneInput): Chw {
  const plane = input.width * input.height;
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[c * plane + p] = (input.data[p * 3 + c] - MEAN[c]) / STD[c];
  return { width: input.width, height: input.height, data };
}

/** The largest difference between a height × width × channels map and a channels-first one. */
function largestDifference(hwc: Float32Array, chw: Chw, channels: number): number {
  const plane = chw.width * chw.height;
  let largest = 0;
  for (let p = 0; p < plane; p++)
    for (let c = 0; c < channels; c++) largest = Math.max(largest, Math.abs(hwc[p * channels + c] - chw.data[c * plane + p]));
  return largest;
}

async function failure(promise: Promise<unknown>): Promise<BackboneError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackboneError);
  return err as BackboneError;
}

describe('the ONNX backbone', () => {
  it('taps the named tensors as height × width × channels maps, each with its configured stride', async () => {
    const backbone = await open();
    const maps = await backbone.extract(picture(12, 8));
    expect(
      maps.map(({ tap, width, height, channels, stride, data }) => ({ tap, width, height, channels, stride, values: data.length })),
    ).toEqual([
      { tap: 'feat_s2', width: 6, height: 4, channels: 4, stride: 2, values: 6 * 4 * 4 },
      { tap: 'feat_s4', width: 3, height: 2, channels: 4, stride: 4, values: 3 * 2 * 4 },
    ]);
  });

  it('computes what a hand computation gives: normalise by mean and std, convolve, relu, convolve', async () => {
    const backbone = await open();
    const input = picture(12, 8);
    const [s2, s4] = await backbone.extract(input);

    const conv1 = conv(normalised(input), TINY_NET.conv1);
    const conv2 = conv({ ...conv1, data: conv1.data.map((v) => Math.max(0, v)) }, TINY_NET.conv2);
    expect(largestDifference(s2.data, conv1, 4)).toBeLessThan(1e-5);
    expect(largestDifference(s4.data, conv2, 4)).toBeLessThan(1e-5);
    // One cell spelled out: top-left, channel 2 of feat_s2 (padding covers its top row and left column).
    const { weight, bias } = TINY_NET.conv1;
    let cell = bias[2];
    for (let c = 0; c < 3; c++) {
      for (const [ky, kx] of [
        [1, 1],
        [1, 2],
        [2, 1],
        [2, 2],
      ]) {
        const [x, y] = [kx - 1, ky - 1];
        cell += weight[((2 * 3 + c) * 3 + ky) * 3 + kx] * ((input.data[(y * 12 + x) * 3 + c] - MEAN[c]) / STD[c]);
      }
    }
    expect(s2.data[2]).toBeCloseTo(cell, 5);
  });

  it('names itself after the file and records the sha256 of its bytes, its producer, IR version and opset, and its taps', async () => {
    const backbone = await open();
    expect(backbone.identity).toEqual({
      name: 'onnx/tiny.onnx',
      version: 'vigil-tests 1, ir 8, opset 13',
      weightsSha256: crypto.createHash('sha256').update(fs.readFileSync(freeSize)).digest('hex'),
      taps: ['feat_s2', 'feat_s4'],
    });
  });

  it('keeps the picture’s aspect for a network of free size, sides a multiple of the largest stride', async () => {
    const backbone = await open();
    const size = backbone.inputSize(4 / 3, 224 * 224);
    expect(size).toEqual(flexibleInputSize(4 / 3, 224 * 224, 4));
    expect(size.width % 4).toBe(0);
    expect(size.height % 4).toBe(0);
    expect(size.width / size.height).toBeCloseTo(4 / 3, 1);
  });

  it('feeds a network of free size the configured size when one is set', async () => {
    const backbone = await open({ inputSize: { width: 16, height: 24 } });
    expect(backbone.inputSize(2, 1_000_000)).toEqual({ width: 16, height: 24 });
    expect((await backbone.extract(picture(16, 24)))[0]).toMatchObject({ width: 8, height: 12 });
  });

  it('returns the fixed size of a fixed-size network and refuses a picture of another size', async () => {
    const backbone = await open({ file: fixedSize });
    expect(backbone.inputSize(2, 1_000_000)).toEqual({ width: 32, height: 32 });
    expect((await backbone.extract(picture(32, 32)))[1]).toMatchObject({ width: 8, height: 8, channels: 4 });
    expect((await failure(backbone.extract(picture(48, 32)))).message).toContain('takes 32×32 pictures, got 48×32');
  });

  it('refuses a configured size that differs from the fixed-size network’s own', async () => {
    const err = await failure(open({ file: fixedSize, inputSize: { width: 224, height: 224 } }));
    expect(err.message).toContain('takes 32×32 pictures, not the configured 224×224');
  });

  it('reports a file that cannot be read', async () => {
    const err = await failure(open({ file: path.join(dir, 'missing.onnx') }));
    expect(err.message).toMatch(/cannot read the ONNX backbone .*missing\.onnx: ENOENT/);
  });

  it.each([
    ['a truncated model', () => Buffer.from(tinyNetOnnx()).subarray(0, 300)],
    ['random bytes', () => Buffer.concat(Array.from({ length: 40 }, (_, i) => crypto.createHash('sha512').update(`seed ${i}`).digest()))],
    ['a JSON file', () => JSON.stringify({ model: 'resnet18', layers: [1, 2, 3] })],
    ['an empty file', () => Buffer.alloc(0)],
  ])('reports %s as not an ONNX model', async (_, bytes) => {
    const file = path.join(dir, 'foreign.onnx');
    fs.writeFileSync(file, bytes());
    const err = await failure(open({ file }));
    expect(err.message).toContain(`${file} is not an ONNX model`);
  });

  it('names a few of the network’s tensors when a tap is not in it', async () => {
    const err = await failure(open({ taps: ['feat_s2', 'layer3'], strides: [2, 16] }));
    expect(err.message).toContain('has no tensor layer3; some it has: feat_s2, relu_s2, feat_s4, pooled, logits');
  });

  it('refuses a picture whose data does not match its size', async () => {
    const backbone = await open();
    const input = picture(12, 8);
    const err = await failure(backbone.extract({ ...input, width: 13 }));
    expect(err.message).toBe('expected 13×8×3 values, got 288');
  });

  it('refuses a tap that is not a 4-D map', async () => {
    const backbone = await open({ taps: ['feat_s2', 'logits'], strides: [2, 4] });
    const err = await failure(backbone.extract(picture(12, 8)));
    expect(err.message).toBe('tap logits is a float32 tensor [1, 4]; expected float32 [1, channels, height, width]');
  });

  it('finishes the pictures in flight when closed, then refuses new ones', async () => {
    const backbone = await open();
    const inFlight = [backbone.extract(picture(64, 48)), backbone.extract(picture(48, 64))];
    await backbone.close();
    expect((await Promise.all(inFlight)).map((maps) => maps[0].width)).toEqual([32, 24]);
    expect((await failure(backbone.extract(picture(12, 8)))).message).toBe('the ONNX backbone is closed');
    await backbone.close();
  });
});
