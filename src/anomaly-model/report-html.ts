// Renders an EvaluationReport as one self-contained HTML page: inline CSS, inline SVG charts and
// data: URL images, no scripts and no external references, so it can be opened offline.

import type { CurvePoint, EvaluationReport, ReportExample } from './types';

export interface ReportExamples {
  falsePositives: ReportExample[];
  falseNegatives: ReportExample[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Draw the y = x chance line (ROC). */
  diagonal?: boolean;
}

/** Pixel layout of every chart; the plot area maps 0..1 on both axes. */
export const CHART_LAYOUT = {
  width: 380,
  height: 330,
  plotLeft: 60,
  plotTop: 40,
  plotWidth: 300,
  plotHeight: 240,
} as const;

const TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;color:#1f2328;margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#57606a;margin:0 0 16px;word-break:break-all}
table{border-collapse:collapse;margin:4px 0}
th,td{border:1px solid #d0d7de;padding:4px 10px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
thead th,th[scope=row]{background:#f6f8fa}
.charts{display:flex;flex-wrap:wrap;gap:16px}
svg{background:#fff;border:1px solid #d0d7de}
svg text{font:11px system-ui,sans-serif;fill:#1f2328}
svg .chart-title{font-size:13px;font-weight:600}
svg .grid{stroke:#eaeef2}svg .axis{stroke:#57606a}
svg .chance{stroke:#8c959f;stroke-dasharray:4 4}
svg .curve{fill:none;stroke:#0969da;stroke-width:2}
.confusion td{text-align:center;min-width:110px;font-size:16px}
.gallery{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;border:1px solid #d0d7de;padding:8px;max-width:340px}
figure img{width:160px;height:auto;image-rendering:pixelated}
figcaption{font-size:12px;word-break:break-all}
`;

/** Escapes text for use in HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Metric in [0, 1] with 3 decimals; "n/a" when missing or not a number. */
export function formatMetric(value: number | null): string {
  return value === null || !Number.isFinite(value) ? 'n/a' : value.toFixed(3);
}

/** A share as a percentage with one decimal. */
export function formatPercent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : 'n/a';
}

/** How many of the images each number of views judged ("1 view 46.2%, 2 views 22.9%, 4 views 30.8%"); null when every image got the same. */
export function viewSharesText(report: Pick<EvaluationReport, 'viewShares'>): string | null {
  const shares = report.viewShares ?? [];
  return shares.length > 1 ? shares.map((s) => `${s.views} view${s.views === 1 ? '' : 's'} ${formatPercent(s.share)}`).join(', ') : null;
}

/** Raw scores have no fixed scale, so keep 4 significant digits rather than fixed decimals. */
export function formatScore(score: number): string {
  return Number.isFinite(score) ? String(Number(score.toPrecision(4))) : 'n/a';
}

function formatMs(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'n/a';
}

function formatCoordinate(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function clampUnit(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/** Pixel position of a (0..1, 0..1) value inside the chart's plot area; y grows upwards. */
export function chartPosition(x: number, y: number): { px: number; py: number } {
  const { plotLeft, plotTop, plotWidth, plotHeight } = CHART_LAYOUT;
  return {
    px: plotLeft + clampUnit(x) * plotWidth,
    py: plotTop + (1 - clampUnit(y)) * plotHeight,
  };
}

/** The `points` attribute of an SVG polyline through the given (x, y) points, in order. */
export function polylinePoints(points: readonly { x: number; y: number }[]): string {
  return points
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
    .map((p) => {
      const { px, py } = chartPosition(p.x, p.y);
      return `${formatCoordinate(px)},${formatCoordinate(py)}`;
    })
    .join(' ');
}

/** An inline SVG line chart with both axes fixed to 0..1. */
export function svgLineChart(points: readonly { x: number; y: number }[], options: LineChartOptions): string {
  const { width, height, plotLeft, plotTop, plotWidth, plotHeight } = CHART_LAYOUT;
  const plotRight = plotLeft + plotWidth;
  const plotBottom = plotTop + plotHeight;
  const parts: string[] = [];

  for (const tick of TICKS) {
    const { px, py } = chartPosition(tick, tick);
    const x = formatCoordinate(px);
    const y = formatCoordinate(py);
    const label = tick.toFixed(1);
    parts.push(
      `<line class="grid" x1="${x}" y1="${plotTop}" x2="${x}" y2="${plotBottom}"/>`,
      `<line class="grid" x1="${plotLeft}" y1="${y}" x2="${plotRight}" y2="${y}"/>`,
      `<text x="${x}" y="${plotBottom + 16}" text-anchor="middle">${label}</text>`,
      `<text x="${plotLeft - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${label}</text>`,
    );
  }
  parts.push(
    `<line class="axis" x1="${plotLeft}" y1="${plotBottom}" x2="${plotRight}" y2="${plotBottom}"/>`,
    `<line class="axis" x1="${plotLeft}" y1="${plotTop}" x2="${plotLeft}" y2="${plotBottom}"/>`,
  );
  if (options.diagonal) {
    parts.push(`<line class="chance" x1="${plotLeft}" y1="${plotBottom}" x2="${plotRight}" y2="${plotTop}"/>`);
  }

  const curve = polylinePoints(points);
  parts.push(
    curve === ''
      ? `<text x="${plotLeft + plotWidth / 2}" y="${plotTop + plotHeight / 2}" text-anchor="middle">no data</text>`
      : `<polyline class="curve" points="${curve}"/>`,
  );

  const title = escapeHtml(options.title);
  parts.push(
    `<text class="chart-title" x="${width / 2}" y="22" text-anchor="middle">${title}</text>`,
    `<text x="${plotLeft + plotWidth / 2}" y="${height - 10}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`,
    `<text x="16" y="${plotTop + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 16 ${plotTop + plotHeight / 2})">${escapeHtml(options.yLabel)}</text>`,
  );

  return (
    `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}">` +
    parts.join('') +
    '</svg>'
  );
}

/** Both ROC and PR curves are traced by lowering the threshold; keep that order whatever the input's. */
function byDescendingThreshold(points: readonly CurvePoint[]): CurvePoint[] {
  return [...points].sort((a, b) => (a.threshold === b.threshold ? 0 : a.threshold > b.threshold ? -1 : 1));
}

function summaryTable(report: EvaluationReport): string {
  const { dataset, reviewBand, predictLatencyMs } = report;
  const rows: [string, string][] = [
    ['Image AUROC', formatMetric(report.imageAuroc)],
    ['Pixel AUROC', formatMetric(report.pixelAuroc)],
    ['Precision (at operating threshold)', formatMetric(report.precision)],
    ['Recall (at operating threshold)', formatMetric(report.recall)],
    ['F1 (at operating threshold)', formatMetric(report.f1)],
    ['Operating threshold', formatScore(report.threshold)],
    ['Review band [low, high]', `[${formatScore(reviewBand.low)}, ${formatScore(reviewBand.high)}]`],
    ['Review-band share (human review load)', formatPercent(report.reviewBandShare)],
    ['Accuracy outside the band', formatMetric(report.accuracyOutsideBand)],
    ['Images (normal / anomalous)', `${report.count} (${dataset.normal} / ${dataset.anomalous})`],
    ['Predict latency p50 / p95', `${formatMs(predictLatencyMs.p50)} / ${formatMs(predictLatencyMs.p95)}`],
    ...(viewSharesText(report) ? ([['Views judged by (share of images)', viewSharesText(report)!]] as [string, string][]) : []),
  ];
  const body = rows
    .map(([name, value]) => `<tr><th scope="row">${escapeHtml(name)}</th><td class="num">${escapeHtml(value)}</td></tr>`)
    .join('');
  return `<table class="summary"><tbody>${body}</tbody></table>`;
}

/** Background for a confusion cell: darker for larger counts, light enough to keep text readable. */
function cellShade(count: number, maxCount: number): string {
  const share = maxCount > 0 ? count / maxCount : 0;
  return `rgba(9,105,218,${(0.06 + 0.5 * share).toFixed(3)})`;
}

function confusionTable(confusion: EvaluationReport['confusion']): string {
  const maxCount = Math.max(confusion.tp, confusion.fp, confusion.tn, confusion.fn);
  const cell = (count: number, name: string): string =>
    `<td style="background:${cellShade(count, maxCount)}" title="${name}">${count}<br><small>${name}</small></td>`;
  return (
    '<table class="confusion"><thead><tr><th></th>' +
    '<th scope="col">Predicted anomalous</th><th scope="col">Predicted normal</th></tr></thead><tbody>' +
    `<tr><th scope="row">Actual anomalous</th>${cell(confusion.tp, 'TP')}${cell(confusion.fn, 'FN')}</tr>` +
    `<tr><th scope="row">Actual normal</th>${cell(confusion.fp, 'FP')}${cell(confusion.tn, 'TN')}</tr>` +
    '</tbody></table>'
  );
}

function byTypeTable(byType: EvaluationReport['byType']): string {
  const rows =
    byType.length === 0
      ? '<tr><td colspan="4">none</td></tr>'
      : byType
          .map(
            (row) =>
              `<tr><td>${escapeHtml(row.type)}</td><td class="num">${row.count}</td>` +
              `<td class="num">${row.caught}</td>` +
              `<td class="num">${row.count > 0 ? formatPercent(row.caught / row.count) : 'n/a'}</td></tr>`,
          )
          .join('');
  return (
    '<table class="by-type"><thead><tr><th scope="col">Type</th><th scope="col">Count</th>' +
    `<th scope="col">Caught</th><th scope="col">Share caught</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

function dataUrl(image: { data: Buffer; contentType: string }): string {
  return `data:${escapeHtml(image.contentType)};base64,${image.data.toString('base64')}`;
}

function exampleFigure(example: ReportExample): string {
  const { image } = example;
  const id = escapeHtml(image.id);
  const type = image.type === null ? '' : ` · type ${escapeHtml(image.type)}`;
  return (
    '<figure>' +
    `<img src="${dataUrl(example.thumbnail)}" alt="image ${id}"> ` +
    `<img src="${dataUrl(example.heatmap)}" alt="heatmap of ${id}">` +
    `<figcaption><strong>${id}</strong><br>score ${formatScore(image.score)} · ` +
    `anomaly probability ${formatMetric(image.anomalyProbability)} · label ${escapeHtml(image.label)}${type}</figcaption>` +
    '</figure>'
  );
}

function gallery(title: string, examples: readonly ReportExample[]): string {
  const content = examples.length === 0 ? '<p>none</p>' : `<div class="gallery">${examples.map(exampleFigure).join('')}</div>`;
  return `<section><h2>${escapeHtml(title)}</h2>${content}</section>`;
}

/** The evaluation report as one self-contained HTML5 document. */
export function renderReportHtml(report: EvaluationReport, examples: ReportExamples): string {
  const model = `${report.model.version} (${report.model.profile})`;
  const rocChart = svgLineChart(byDescendingThreshold(report.roc), {
    title: `ROC curve — AUROC ${formatMetric(report.imageAuroc)}`,
    xLabel: 'False-positive rate',
    yLabel: 'True-positive rate',
    diagonal: true,
  });
  const prChart = svgLineChart(byDescendingThreshold(report.pr), {
    title: 'Precision–recall curve',
    xLabel: 'Recall',
    yLabel: 'Precision',
  });

  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>vigil model evaluation — ${escapeHtml(model)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>Model evaluation — ${escapeHtml(model)}</h1>`,
    `<p class="sub">Method ${escapeHtml(report.model.method)} · dataset ${escapeHtml(report.dataset.root)}</p>`,
    '<section><h2>Summary</h2>',
    summaryTable(report),
    '</section>',
    `<section><h2>Curves</h2><div class="charts">${rocChart}${prChart}</div></section>`,
    `<section><h2>Confusion matrix at threshold ${formatScore(report.threshold)}</h2>`,
    confusionTable(report.confusion),
    '</section>',
    '<section><h2>By anomaly type</h2>',
    byTypeTable(report.byType),
    '</section>',
    gallery('Worst false positives', examples.falsePositives),
    gallery('Worst false negatives', examples.falseNegatives),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
