import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Backbone, BackboneError, flexibleInputSize } from '../../../src/adapters/backbone/backbone.port';
import { MOBILENET_TAPS, openMobilenetBackbone } from '../../../src/adapters/backbone/mobilenet.driver';
import { nearestDistances } from '../../../src/anomaly-model/features';
import { seededRandom } from '../../../src/anomaly-model/numeric';

let backbone: Backbone;
beforeAll(async () => {
  backbone = await openMobilenetBackbone();
}, 60_000);
afterAll(() => backbone.close());

describe('the MobileNetV2 backbone from nsfwjs', () => {
  it('names its weights by their sha256 and its taps', () => {
    expect(backbone.identity).toMatchObject({ name: 'nsfwjs/mobilenet_v2', version: '4.4.0', taps: MOBILENET_TAPS });
    expect(backbone.identity.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('takes any size: two stride-8 and two stride-16 maps of a 96×64 picture', async () => {
    const data = Float32Array.from({ length: 96 * 64 * 3 }, (_, i) => (i % 251) / 250);
    const maps = await backbone.extract({ width: 96, height: 64, data });
    expect(maps.map((m) => [m.tap, m.width, m.height, m.channels, m.stride])).toEqual([
      ['block_5_add', 12, 8, 32, 8],
      ['block_6_expand_relu', 12, 8, 192, 8],
      ['block_12_add', 6, 4, 96, 16],
      ['block_13_expand_relu', 6, 4, 576, 16],
    ]);
    expect(maps.every((m) => m.data.length === m.width * m.height * m.channels && m.data.every(Number.isFinite))).toBe(true);
    // The same picture gives the same numbers: one thread, no randomness.
    const again = await backbone.extract({ width: 96, height: 64, data });
    expect(Array.from(again[3].data.subarray(0, 50))).toEqual(Array.from(maps[3].data.subarray(0, 50)));
  });

  it('runs the network with batch norms folded into fused convolutions, with the layers model numbers', async () => {
    const layers = await openMobilenetBackbone({ fuse: false });
    try {
      const random = seededRandom(11);
      const data = Float32Array.from({ length: 128 * 96 * 3 }, () => random());
      const [fused, plain] = await Promise.all([
        backbone.extract({ width: 128, height: 96, data }),
        layers.extract({ width: 128, height: 96, data }),
      ]);
      expect(fused.map((m) => [m.tap, m.width, m.height, m.channels])).toEqual(plain.map((m) => [m.tap, m.width, m.height, m.channels]));
      fused.forEach((m, i) => {
        let worst = 0;
        let largest = 0;
        m.data.forEach((v, j) => {
          worst = Math.max(worst, Math.abs(v - plain[i].data[j]));
          largest = Math.max(largest, Math.abs(plain[i].data[j]));
        });
        expect(largest).toBeGreaterThan(0.1);
        expect(worst).toBeLessThan(1e-4 * largest);
      });
    } finally {
      await layers.close();
    }
  });

  it('keeps the aspect ratio at about the asked area, sides a multiple of 32', () => {
    expect(backbone.inputSize(1, 192 * 192)).toEqual({ width: 192, height: 192 });
    expect(backbone.inputSize(512 / 67, 192 * 192)).toEqual({ width: 544, height: 64 });
    expect(flexibleInputSize(10_000, 128 * 128, 32)).toEqual({ width: 352, height: 32 });
    expect(flexibleInputSize(Number.NaN, 128 * 128, 32)).toEqual({ width: 128, height: 128 });
  });

  it('refuses a picture whose numbers do not match its size', async () => {
    await expect(backbone.extract({ width: 64, height: 64, data: new Float32Array(10) })).rejects.toThrow(BackboneError);
  });

  it('says clearly when its model files are missing or foreign', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-backbone-'));
    await expect(openMobilenetBackbone({ modelDir: empty })).rejects.toThrow(/MobileNetV2 backbone in .* cannot be loaded/);
    fs.writeFileSync(path.join(empty, 'model.min.js'), 'module.exports = "{\\"modelTopology\\": {}}";');
    fs.writeFileSync(path.join(empty, 'group1-shard1of1.min.js'), `module.exports = "${crypto.randomBytes(64).toString('base64')}";`);
    await expect(openMobilenetBackbone({ modelDir: empty })).rejects.toThrow(BackboneError);
  });
});

describe('nearest-neighbour search on the wasm backend', () => {
  it('finds the same distances as a brute-force search, and leaves out excluded rows', async () => {
    const random = seededRandom(3);
    const dim = 16;
    const queries = Float32Array.from({ length: 40 * dim }, () => random());
    const bank = Float32Array.from({ length: 70 * dim }, () => random());
    const brute = (skip: (j: number) => boolean) =>
      Array.from({ length: 40 }, (_, i) => {
        let best = Infinity;
        for (let j = 0; j < 70; j++) {
          if (skip(j)) continue;
          let d = 0;
          for (let k = 0; k < dim; k++) d += (queries[i * dim + k] - bank[j * dim + k]) ** 2;
          best = Math.min(best, d);
        }
        return Math.sqrt(best);
      });
    const all = await nearestDistances(queries, bank, dim);
    brute(() => false).forEach((v, i) => expect(all[i]).toBeCloseTo(v, 4));
    const some = await nearestDistances(queries, bank, dim, (j) => j % 3 === 0);
    brute((j) => j % 3 === 0).forEach((v, i) => expect(some[i]).toBeCloseTo(v, 4));
  });
});
