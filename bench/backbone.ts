// npm run bench:backbone -- [dataset-dir] [--images 120] [--side 160] [--rounds 3]
//
// The default backbone's forward pass, fused kernels (batch norms folded into the convolutions,
// as vigil runs it) against the tfjs layers model it is built from, on the same decoded pictures
// in one run, alternating per picture so load on the machine hits both alike. One wasm thread,
// as a prediction runs. Prints p50/p95 per mode, the ratio, and the largest difference between
// the two outputs (relative to the largest activation). Writes bench/results/backbone.json.
import '../src/runtime-defaults';
import path from 'node:path';
import Table from 'cli-table3';
import sharp from 'sharp';
import { type Backbone, type BackboneInput } from '../src/adapters/backbone/backbone.port';
import { openMobilenetBackbone } from '../src/adapters/backbone/mobilenet.driver';
import { readDatasetFolder } from '../src/anomaly-model/dataset';
import { loadModelImage } from '../src/anomaly-model/image-io';
import { PROJECT_ROOT } from '../src/common/paths';
import { bar, opt, runBench, writeResult } from './bench-server';

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const DATASET = path.resolve(positional[0] ?? path.join(PROJECT_ROOT, '../shared/datasets/magnetic-tile'));
const IMAGES = opt('images', 120);
const SIDE = opt('side', 160);
const ROUNDS = opt('rounds', 3);

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

async function timed(backbone: Backbone, input: BackboneInput) {
  const started = performance.now();
  const maps = await backbone.extract(input);
  return { ms: performance.now() - started, maps };
}

runBench(async () => {
  sharp.concurrency(1);
  const fused = await openMobilenetBackbone({ threads: 1 });
  const layers = await openMobilenetBackbone({ threads: 1, fuse: false });
  const dataset = await readDatasetFolder(DATASET);
  // Every k-th picture: normal and anomalous alike, whatever order the folder lists them in.
  const step = Math.max(1, Math.floor(dataset.items.length / IMAGES));
  const items = dataset.items.filter((_, i) => i % step === 0).slice(0, IMAGES);
  const inputs: BackboneInput[] = [];
  for (const item of items) inputs.push((await loadModelImage(await item.load(), (a) => fused.inputSize(a, SIDE * SIDE))).input);

  const ms = { fused: [] as number[], layers: [] as number[] };
  let worst = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, input] of inputs.entries()) {
      // Alternate which goes first, so neither always runs on a warmer cache.
      const order = (i + round) % 2 ? (['fused', 'layers'] as const) : (['layers', 'fused'] as const);
      const out: Record<string, Awaited<ReturnType<typeof timed>>> = {};
      for (const mode of order) out[mode] = await timed(mode === 'fused' ? fused : layers, input);
      // The first round warms both up; it is not counted.
      if (round > 0) for (const mode of order) ms[mode].push(out[mode].ms);
      out.fused.maps.forEach((m, k) => {
        const ref = out.layers.maps[k].data;
        let largest = 1e-6;
        let diff = 0;
        for (let j = 0; j < ref.length; j++) {
          largest = Math.max(largest, Math.abs(ref[j]));
          diff = Math.max(diff, Math.abs(m.data[j] - ref[j]));
        }
        worst = Math.max(worst, diff / largest);
      });
      bar(round * inputs.length + i + 1, ROUNDS * inputs.length, 'forward passes');
    }
  }
  await Promise.all([fused.close(), layers.close()]);

  const row = (mode: 'fused' | 'layers') => ({ p50: quantile(ms[mode], 0.5), p95: quantile(ms[mode], 0.95) });
  const result = {
    dataset: path.relative(process.cwd(), DATASET),
    images: inputs.length,
    side: SIDE,
    rounds: ROUNDS,
    node: process.version,
    fused: row('fused'),
    layers: row('layers'),
    speedup: row('layers').p50 / row('fused').p50,
    largestRelativeDifference: worst,
  };
  const table = new Table({ head: ['forward pass (1 wasm thread)', 'p50', 'p95'] });
  table.push(
    ['fused kernels (vigil)', `${result.fused.p50.toFixed(1)} ms`, `${result.fused.p95.toFixed(1)} ms`],
    ['tfjs layers model', `${result.layers.p50.toFixed(1)} ms`, `${result.layers.p95.toFixed(1)} ms`],
  );
  console.log(`\n${table.toString()}`);
  console.log(
    `${inputs.length} pictures at ~${SIDE}², ${ROUNDS - 1} counted rounds: fused ${result.speedup.toFixed(2)}× faster (p50); ` +
      `largest difference ${worst.toExponential(1)} of the largest activation`,
  );
  writeResult('backbone', result);
});
