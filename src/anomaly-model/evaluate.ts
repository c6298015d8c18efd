import { type Backbone } from '../adapters/backbone/backbone.port';
import { judgingViews, looksOf, type ModelArtifact } from './artifact';
import { type Dataset } from './dataset';
import { auroc, confusion, histogramAuroc, percentile, precisionRecallF1, prCurve, rocCurve, type Scored } from './metrics';
import { predict } from './predict';
import { maskGrid } from './scoring';
import { type EvaluationReport, type PredictResult, type ScoredImage } from './types';

export interface EvaluateOptions {
  onProgress?: (done: number, total: number) => void;
}

/** Every image of the dataset judged: its scores, its latency and, where a mask (or a normal label) says, its pixels' labels. */
async function judgeAll(backbone: Backbone, model: ModelArtifact, dataset: Dataset, options: EvaluateOptions) {
  const images: ScoredImage[] = [];
  const results = new Map<string, PredictResult>();
  const latencies: number[] = [];
  const pixelValues: number[] = [];
  const pixelLabels: number[] = [];
  let masked = 0;
  for (const [n, item] of dataset.items.entries()) {
    const bytes = await item.load();
    const started = performance.now();
    const r = await predict(backbone, model, bytes, { heatmap: false });
    latencies.push(performance.now() - started);
    results.set(item.id, r);
    images.push({
      id: item.id,
      label: item.label,
      type: item.type,
      score: r.score,
      anomalyProbability: r.anomalyProbability,
      isAnomalous: r.isAnomalous,
      uncertain: r.uncertain,
      views: r.views,
    });
    const mask = item.loadMask
      ? await maskGrid(await item.loadMask(), r.map)
      : item.label === 'normal'
        ? new Float32Array(r.map.values.length)
        : null;
    if (mask) {
      if (item.loadMask) masked++;
      mask.forEach((m, i) => {
        pixelValues.push(r.map.values[i]);
        pixelLabels.push(m >= 0.5 ? 1 : 0);
      });
    }
    options.onProgress?.(n + 1, dataset.items.length);
  }
  return {
    images,
    results,
    latencies,
    pixelAuroc: masked ? histogramAuroc(Float32Array.from(pixelValues), Uint8Array.from(pixelLabels)) : null,
  };
}

const viewsPhrase = (views: number, manifest: ModelArtifact['manifest']) => {
  const looks = looksOf(manifest).map((l) => l.views.length);
  return looks.length ? `${views} flipped views, ${looks.join(' then ')} where that is clear` : `${views} flipped views`;
};

/** Scores a labelled dataset with a model: AUROC (image and, with masks, pixel), P/R/F1 at the operating threshold, review load. */
export async function evaluate(
  backbone: Backbone,
  model: ModelArtifact,
  dataset: Dataset,
  options: EvaluateOptions = {},
): Promise<{ report: EvaluationReport; results: Map<string, PredictResult> }> {
  const { manifest } = model;
  const { images, results, latencies, pixelAuroc } = await judgeAll(backbone, model, dataset, options);
  const scored: Scored[] = images.map((i) => ({ score: i.score, positive: i.label === 'anomalous' }));
  const threshold = manifest.thresholds.operating;
  const c = confusion(scored, threshold);
  const { precision, recall, f1 } = precisionRecallF1(c);
  const outside = images.filter((i) => !i.uncertain);
  const types = [...new Set(images.map((i) => i.type).filter((t): t is string => !!t))].sort();
  const views = judgingViews(manifest);
  const report: EvaluationReport = {
    model: {
      version: manifest.version,
      profile: manifest.profile,
      method: `${manifest.method} (${manifest.scoreMode}, ${manifest.backbone.name}${views > 1 ? `, ${viewsPhrase(views, manifest)}` : ''})`,
    },
    dataset: {
      root: dataset.root,
      count: images.length,
      normal: images.filter((i) => i.label === 'normal').length,
      anomalous: images.filter((i) => i.label === 'anomalous').length,
    },
    count: images.length,
    imageAuroc: auroc(scored),
    pixelAuroc,
    precision,
    recall,
    f1,
    threshold,
    reviewBand: manifest.thresholds.reviewBand,
    reviewBandShare: images.length ? (images.length - outside.length) / images.length : 0,
    accuracyOutsideBand: outside.length ? outside.filter((i) => i.isAnomalous === (i.label === 'anomalous')).length / outside.length : 1,
    confusion: c,
    roc: rocCurve(scored),
    pr: prCurve(scored),
    byType: types.map((type) => {
      const ofType = images.filter((i) => i.type === type);
      return { type, count: ofType.length, caught: ofType.filter((i) => i.isAnomalous).length };
    }),
    images,
    predictLatencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
    oneViewShare: images.length ? images.filter((i) => i.views === 1).length / images.length : 1,
    viewShares: [...new Set(images.map((i) => i.views ?? 1))]
      .sort((a, b) => a - b)
      .map((n) => ({ views: n, share: images.filter((i) => (i.views ?? 1) === n).length / images.length })),
  };
  return { report, results };
}
