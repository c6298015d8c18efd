import os from 'node:os';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import sharp from 'sharp';
import { type Backbone } from '../adapters/backbone/backbone.port';
import { loadArtifact, saveArtifact } from '../anomaly-model/artifact';
import { readDatasetFolder } from '../anomaly-model/dataset';
import { evaluate, predict, train } from '../anomaly-model/detector';
import { MAX_VIEWS, PROFILES } from '../anomaly-model/profiles';
import { renderReportHtml, viewSharesText } from '../anomaly-model/report-html';
import { wholeNumber } from './options';
import { type EvaluationReport, type Profile, type ReportExample } from '../anomaly-model/types';

/** One bar per phase on a terminal; a line per phase otherwise. */
function phaseProgress(out: NodeJS.WriteStream) {
  let bar: SingleBar | null = null;
  let phase = '';
  return {
    update(name: string, done: number, total: number) {
      if (name !== phase) {
        bar?.stop();
        phase = name;
        if (out.isTTY) {
          bar = new SingleBar(
            { stream: out, format: `${name.padEnd(16)} {bar} {value}/{total} | ETA {eta}s`, hideCursor: true },
            Presets.shades_classic,
          );
          bar.start(total, done);
        } else out.write(`${name}: ${total} step(s)\n`);
      }
      bar?.update(done);
    },
    stop: () => bar?.stop(),
  };
}

async function examples(
  report: EvaluationReport,
  root: string,
  heatmaps: (id: string) => Promise<Buffer>,
  kind: 'fp' | 'fn',
): Promise<ReportExample[]> {
  const wrong = report.images
    .filter((i) => (kind === 'fp' ? i.label === 'normal' && i.isAnomalous : i.label === 'anomalous' && !i.isAnomalous))
    .sort((a, b) => (kind === 'fp' ? b.score - a.score : a.score - b.score))
    .slice(0, 8);
  const out: ReportExample[] = [];
  for (const image of wrong) {
    const bytes = await fs.readFile(path.join(root, image.id));
    out.push({
      image,
      thumbnail: {
        data: await sharp(bytes).rotate().resize(192, 192, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer(),
        contentType: 'image/jpeg',
      },
      heatmap: {
        data: await sharp(await heatmaps(image.id))
          .resize(192, 192, { fit: 'inside' })
          .png()
          .toBuffer(),
        contentType: 'image/png',
      },
    });
  }
  return out;
}

const fixed = (v: number | null) => (v === null || Number.isNaN(v) ? 'n/a' : v.toFixed(3));

/** The backbone the environment configures (BACKBONE=…), open for one command. */
async function withBackbone<T>(open: () => Promise<Backbone>, run: (backbone: Backbone) => Promise<T>): Promise<T> {
  const backbone = await open();
  try {
    return await run(backbone);
  } finally {
    await backbone.close();
  }
}

type OpenBackbone = () => Promise<Backbone>;

/** Seeds are 32-bit (seededRandom): a larger one would wrap around to another's model. */
const MAX_SEED = 2 ** 32 - 1;

/** Cores a training may use by default: two where the machine has them (the second looks at flipped views). */
const defaultCores = () => Math.min(2, os.availableParallelism());

function registerTrain(model: Command, openBackbone: OpenBackbone, openSecondBackbone: OpenBackbone): void {
  model
    .command('train')
    .description('Train a model on a dataset folder: normal/*.{jpg,png} and anomalous/<type>/*.{jpg,png} (optional <name>.mask.png).')
    .argument('<dataset-dir>')
    .addOption(
      new Option('--profile <profile>', 'screen: cheap, tuned for recall; inspect: full resolution, tuned for F1')
        .choices(['screen', 'inspect'])
        .default('inspect'),
    )
    .requiredOption('--out <file>', 'where to write the model file')
    .option('--seed <n>', 'same seed, same model', wholeNumber(0, MAX_SEED), 42)
    .option(
      '--views <n>',
      `flipped views of each picture for the image classifier, 1-${MAX_VIEWS} (inspect ${PROFILES.inspect.views}, screen ${PROFILES.screen.views}): each is one more forward pass per picture`,
      wholeNumber(1, MAX_VIEWS),
    )
    .option(
      '--cores <n>',
      `1 or 2: with 2, a second backbone on a worker thread looks at the flipped views (default ${defaultCores()} on this machine)`,
      wholeNumber(1, 2),
    )
    .action(async (dir: string, opts: { profile: Profile; out: string; seed: number; views?: number; cores?: number }) => {
      const dataset = await readDatasetFolder(dir);
      const bar = phaseProgress(process.stderr);
      const cores = opts.cores ?? defaultCores();
      const artifact = await withBackbone(openBackbone, (backbone) =>
        train(backbone, dataset, {
          profile: opts.profile,
          seed: opts.seed,
          views: opts.views,
          onProgress: bar.update,
          openSecondBackbone:
            cores > 1
              ? () => {
                  process.stderr.write('a second backbone on another core looks at the flipped views\n');
                  return openSecondBackbone();
                }
              : undefined,
        }),
      );
      bar.stop();
      await saveArtifact(opts.out, artifact);
      const m = artifact.manifest;
      process.stdout.write(
        `${JSON.stringify({ out: opts.out, version: m.version, profile: m.profile, trainingSet: m.trainingSet, thresholds: m.thresholds, validation: m.validation }, null, 2)}\n`,
      );
    });
}

/** The evaluation's figures as a two-column table. */
function reportTable(report: EvaluationReport): string {
  const table = new Table({ head: ['metric', 'value'], style: process.stdout.isTTY ? {} : { head: [], border: [] } });
  table.push(
    ['images (normal / anomalous)', `${report.count} (${report.dataset.normal} / ${report.dataset.anomalous})`],
    ['image AUROC', fixed(report.imageAuroc)],
    ['pixel AUROC', fixed(report.pixelAuroc)],
    ['precision', fixed(report.precision)],
    ['recall', fixed(report.recall)],
    ['F1', fixed(report.f1)],
    ['threshold', report.threshold.toFixed(4)],
    ['review band', `[${report.reviewBand.low.toFixed(4)}, ${report.reviewBand.high.toFixed(4)})`],
    ['review-band share', `${(100 * report.reviewBandShare).toFixed(1)}%`],
    ['accuracy outside the band', `${(100 * report.accuracyOutsideBand).toFixed(1)}%`],
    ['predict p50 / p95', `${report.predictLatencyMs.p50.toFixed(1)} / ${report.predictLatencyMs.p95.toFixed(1)} ms`],
  );
  const views = viewSharesText(report);
  if (views) table.push(['views judged by', views]);
  return table.toString();
}

/** report.json, and report.html with the worst false positives and negatives and their heatmaps. */
async function writeReport(
  reportDir: string,
  report: EvaluationReport,
  root: string,
  heatmap: (id: string) => Promise<Buffer>,
): Promise<void> {
  await fs.mkdir(reportDir, { recursive: true });
  await fs.writeFile(path.join(reportDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const html = renderReportHtml(report, {
    falsePositives: await examples(report, root, heatmap, 'fp'),
    falseNegatives: await examples(report, root, heatmap, 'fn'),
  });
  await fs.writeFile(path.join(reportDir, 'report.html'), html);
  process.stdout.write(`wrote ${path.join(reportDir, 'report.json')} and report.html\n`);
}

function registerEval(model: Command, openBackbone: OpenBackbone): void {
  model
    .command('eval')
    .description('Evaluate a model on a labelled dataset folder; prints a table, and with --report-dir writes report.json and report.html.')
    .argument('<model>')
    .argument('<dataset-dir>')
    .option('--report-dir <dir>', 'where to write report.json and report.html')
    .action(async (file: string, dir: string, opts: { reportDir?: string }) =>
      withBackbone(openBackbone, async (backbone) => {
        const artifact = await loadArtifact(file);
        const dataset = await readDatasetFolder(dir);
        const bar = phaseProgress(process.stderr);
        const { report } = await evaluate(backbone, artifact, dataset, { onProgress: (d, t) => bar.update('evaluate', d, t) });
        bar.stop();
        process.stdout.write(`${reportTable(report)}\n`);
        if (opts.reportDir) {
          const heatmap = async (id: string) => (await predict(backbone, artifact, await fs.readFile(path.join(dataset.root, id)))).heatmap;
          await writeReport(opts.reportDir, report, dataset.root, heatmap);
        }
      }),
    );
}

function registerPredict(model: Command, openBackbone: OpenBackbone): void {
  model
    .command('predict')
    .description('Judge one image; prints the result as JSON.')
    .argument('<model>')
    .argument('<image>')
    .option('--heatmap <file>', 'write the anomaly heatmap PNG here')
    .action(async (file: string, imagePath: string, opts: { heatmap?: string }) => {
      const artifact = await loadArtifact(file);
      const bytes = await fs.readFile(imagePath).catch((err: NodeJS.ErrnoException) => {
        throw new Error(`cannot read ${imagePath}: ${err.code ?? err.message}`);
      });
      const result = await withBackbone(openBackbone, (backbone) => predict(backbone, artifact, bytes));
      if (opts.heatmap) await fs.writeFile(opts.heatmap, result.heatmap);
      const { heatmap: _heatmap, map: _map, ...rest } = result;
      process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
    });
}

/** `openSecondBackbone`: the same backbone on a worker thread, for training on a second core. */
export function registerModelCommands(program: Command, openBackbone: OpenBackbone, openSecondBackbone: OpenBackbone): void {
  const model = program.command('model').description('Train, evaluate and run the built-in anomaly model (no server needed).');
  registerTrain(model, openBackbone, openSecondBackbone);
  registerEval(model, openBackbone);
  registerPredict(model, openBackbone);
}
