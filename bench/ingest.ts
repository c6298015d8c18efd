import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { LocalObjectStore } from '../src/adapters/object-store/local.driver';
import { processImage } from '../src/image-processing/image-processor';
import { ImageRejected } from '../src/image-processing/rejection';
import { storeDerivatives } from '../src/image-processing/store-derivatives';

// npm run bench:ingest -- <folder> [<folder>…] [--limit N] [--rounds N]
// On the same files, in this process: (1) a sharp-only baseline — decode, resize to 2048, encode —
// and (2) vigil's validate + preprocess + tile + store into a local object store. Both use every core.

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const folders = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const LIMIT = opt('limit', 1000);
const ROUNDS = opt('rounds', 3);
const CONCURRENCY = os.cpus().length;

function imagesIn(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(jpe?g|png|webp|tiff?)$/i.test(e.name) && !/\.mask\./i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

async function eachConcurrently(items: Buffer[], work: (b: Buffer, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i], i);
      }
    }),
  );
}

function peakRssMb(): number {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  if (folders.length === 0) {
    console.error('usage: npm run bench:ingest -- <folder> [<folder>…] [--limit N] [--rounds N]');
    process.exit(2);
  }
  const files = folders.flatMap(imagesIn).slice(0, LIMIT);
  if (files.length === 0) throw new Error(`no images under ${folders.join(', ')}`);
  const buffers = files.map((f) => fs.readFileSync(f));
  const mb = buffers.reduce((n, b) => n + b.length, 0) / 1e6;
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-ingest-'));
  const store = new LocalObjectStore(storeDir);
  sharp.concurrency(1); // one libvips thread per image; the images run in parallel instead
  console.log(`${files.length} images (${mb.toFixed(1)} MB) from ${folders.join(', ')}; ${CONCURRENCY} at a time, ${ROUNDS} rounds each`);

  const baseline: number[] = [];
  const vigil: number[] = [];
  let rejected = 0;
  let tiles = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      let t = performance.now();
      await eachConcurrently(buffers, async (b) => {
        await sharp(b)
          .rotate()
          .resize({ width: 2048, height: 2048, fit: 'inside', withoutEnlargement: true })
          .jpeg({ quality: 90 })
          .toBuffer();
      });
      baseline.push(files.length / ((performance.now() - t) / 1000));

      rejected = 0;
      tiles = 0;
      t = performance.now();
      await eachConcurrently(buffers, async (b, i) => {
        try {
          const { derivatives } = await processImage(b);
          const stored = await storeDerivatives(store, `bench-${i}`, derivatives);
          tiles += stored.tiles.length;
        } catch (err) {
          if (!(err instanceof ImageRejected)) throw err;
          rejected++;
        }
      });
      vigil.push(files.length / ((performance.now() - t) / 1000));
      console.log(`round ${round + 1}: baseline ${baseline[round].toFixed(1)} images/s, vigil ${vigil[round].toFixed(1)} images/s`);
    }
  } finally {
    fs.rmSync(storeDir, { recursive: true, force: true });
  }
  const ratio = median(vigil) / median(baseline);
  console.log(`\nsharp-only baseline: median ${median(baseline).toFixed(1)} images/s`);
  console.log(
    `vigil validate+preprocess+tile+store: median ${median(vigil).toFixed(1)} images/s (${tiles} tiles, ${rejected} rejected per round)`,
  );
  console.log(`ratio vigil/baseline: ${ratio.toFixed(2)} (target ≥ 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
  const rss = peakRssMb();
  console.log(`peak RSS ${rss.toFixed(0)} MB (target ≤ 500 MB for 1,000 frames: ${rss <= 500 ? 'met' : 'NOT met'})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
