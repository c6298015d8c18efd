// npm run bench:model -- <dataset-dir>… [--profile inspect|screen|both] [--seed N]
//
// For each dataset: a seeded, stratified 70/30 split; train on the 70, evaluate on the 30.
// Prints image AUROC, pixel AUROC (where masks exist), precision/recall/F1 at the operating
// threshold, the review-band share, training time, predict latency p50/p95 on one core, model
// size and peak RSS, next to the targets. Figures are measured, never asserted.
import '../src/runtime-defaults';
import sharp from 'sharp';
import { openMobilenetBackbone } from '../src/adapters/backbone/mobilenet.backbone';
import { serializeArtifact } from '../src/model/artifact';
import { readDatasetFolder, stratifiedSplit } from '../src/model/dataset';
import { evaluate, train } from '../src/model/detector';
import { type Profile } from '../src/model/types';

const TARGETS: Record<string, number> = { 'magnetic-tile': 0.95, crops: 0.9 };

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

async function main() {
  const folders = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  if (!folders.length) throw new Error('usage: npm run bench:model -- <dataset-dir>… [--profile inspect|screen|both] [--seed N]');
  const profiles: Profile[] = arg('profile', 'both') === 'both' ? ['screen', 'inspect'] : [arg('profile', 'inspect') as Profile];
  const seed = Number(arg('seed', '7'));
  const modes = arg('labels', 'both') === 'both' ? (['labelled', 'normals'] as const) : ([arg('labels', 'labelled')] as ('labelled' | 'normals')[]);
  sharp.concurrency(1); // latency on one core
  const backbone = await openMobilenetBackbone({ threads: 1 });
  const rows: string[][] = [];
  for (const folder of folders) {
    const dataset = await readDatasetFolder(folder);
    const { first: trainItems, second: testItems } = stratifiedSplit(dataset.items, 0.7, seed);
    const name = folder.replace(/\/+$/, '').split('/').pop()!;
    for (const [profile, labels] of profiles.flatMap((p) => modes.map((m) => [p, m] as const))) {
      const trainOn = labels === 'normals' ? trainItems.filter((i) => i.label === 'normal') : trainItems;
      const started = performance.now();
      let lastPhase = '';
      const model = await train(backbone, { items: trainOn }, {
        profile,
        seed,
        onProgress: (phase, done, total) => {
          if (phase !== lastPhase || done === total) process.stderr.write(`\r${name} ${profile} ${labels}: ${phase} ${done}/${total}        ${done === total ? '\n' : ''}`);
          lastPhase = phase;
        },
      });
      const trainSeconds = (performance.now() - started) / 1000;
      const { report } = await evaluate(backbone, model, { root: dataset.root, items: testItems });
      const sizeMb = serializeArtifact(model).length / 1e6;
      const target = TARGETS[name];
      rows.push([
        name,
        `${profile} (${labels}, ${model.manifest.scoreMode})`,
        `${trainOn.length}/${testItems.length}`,
        report.imageAuroc.toFixed(3) + (target ? ` (≥${target})` : ''),
        report.pixelAuroc === null ? 'n/a' : report.pixelAuroc.toFixed(3),
        report.precision.toFixed(3),
        report.recall.toFixed(3),
        report.f1.toFixed(3),
        `${(100 * report.reviewBandShare).toFixed(1)}%`,
        `${(100 * report.accuracyOutsideBand).toFixed(1)}%`,
        `${(100 * (report.confusion.tn + report.confusion.fp ? report.images.filter((i) => i.label === 'normal' && !i.isAnomalous && !i.uncertain).length / (report.confusion.tn + report.confusion.fp) : 0)).toFixed(1)}%`,
        `${trainSeconds.toFixed(1)} s`,
        `${report.predictLatencyMs.p50.toFixed(1)} / ${report.predictLatencyMs.p95.toFixed(1)} ms`,
        `${sizeMb.toFixed(2)} MB`,
      ]);
    }
  }
  const head = ['dataset', 'profile', 'train/test', 'image AUROC', 'pixel AUROC', 'precision', 'recall', 'F1', 'review band', 'acc. outside band', 'normals cleared', 'train time', 'predict p50/p95 (1 core)', 'model size'];
  console.log(`\n| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\npeak RSS ${peakRssMb().toFixed(0)} MB (target ≤ 1024 MB); targets: inspect p50 ≤ 40 ms at 256×256, screen ≤ 10 ms, training on 600 images ≤ 60 s, model ≤ 50 MB`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
