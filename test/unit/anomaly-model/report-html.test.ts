import sharp from 'sharp';
import { CHART_LAYOUT, escapeHtml, renderReportHtml } from '../../../src/anomaly-model/report-html';
import type { EvaluationReport, ReportExample } from '../../../src/anomaly-model/types';

const HOSTILE_ID = '<script>alert(1)</script>.jpg';

function buildReport(): EvaluationReport {
  return {
    model: { version: 'v7', profile: 'inspect', method: 'patchcore' },
    dataset: { root: '/data/bottles & caps', count: 10, normal: 6, anomalous: 4 },
    count: 10,
    imageAuroc: 0.93456,
    pixelAuroc: null,
    precision: 0.75,
    recall: 0.75,
    f1: 0.75,
    threshold: 0.512345,
    reviewBand: { low: 0.4, high: 0.6 },
    reviewBandShare: 0.2,
    accuracyOutsideBand: 0.9876,
    confusion: { tp: 3, fp: 1, tn: 5, fn: 1 },
    // Deliberately not in threshold order: the renderer traces curves by descending threshold.
    roc: [
      { threshold: 0.2, x: 0.5, y: 1 },
      { threshold: Infinity, x: 0, y: 0 },
      { threshold: 0.8, x: 0, y: 0.5 },
      { threshold: 0.5, x: 0.25, y: 0.75 },
      { threshold: 0, x: 1, y: 1 },
    ],
    pr: [
      { threshold: 0.8, x: 0.5, y: 1 },
      { threshold: 0.5, x: 0.75, y: 0.75 },
      { threshold: 0.2, x: 1, y: 0.5 },
    ],
    byType: [
      { type: 'crack', count: 3, caught: 2 },
      { type: 'scratch<b>', count: 1, caught: 1 },
    ],
    images: [],
    predictLatencyMs: { p50: 12.34, p95: 45.67 },
  };
}

function pngOf(colour: string): Promise<Buffer> {
  return sharp({ create: { width: 4, height: 4, channels: 3, background: colour } })
    .png()
    .toBuffer();
}

/** The `points` attribute of the n-th curve polyline in the document. */
function curvePoints(html: string, index: number): string[] {
  const matches = [...html.matchAll(/<polyline class="curve" points="([^"]*)"/g)];
  return matches[index][1].split(' ');
}

function svgBlocks(html: string): string[] {
  return [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
}

describe('the views row', () => {
  it('says how many images each number of views judged, and is left out when every image got the same', () => {
    const report = {
      ...buildReport(),
      viewShares: [
        { views: 1, share: 0.462 },
        { views: 2, share: 0.229 },
        { views: 4, share: 0.309 },
      ],
    };
    expect(renderReportHtml(report, { falsePositives: [], falseNegatives: [] })).toContain(
      '<th scope="row">Views judged by (share of images)</th><td class="num">1 view 46.2%, 2 views 22.9%, 4 views 30.9%</td>',
    );
    const once = renderReportHtml({ ...report, viewShares: [{ views: 4, share: 1 }] }, { falsePositives: [], falseNegatives: [] });
    expect(once).not.toContain('Views judged by');
  });
});

describe('renderReportHtml', () => {
  let html: string;
  let thumbnail: Buffer;
  let heatmap: Buffer;

  beforeAll(async () => {
    thumbnail = await pngOf('#f00');
    heatmap = await pngOf('#00f');
    const falsePositive: ReportExample = {
      image: {
        id: HOSTILE_ID,
        label: 'normal',
        type: null,
        score: 0.91234,
        anomalyProbability: 0.8766,
        isAnomalous: true,
        uncertain: false,
      },
      thumbnail: { data: thumbnail, contentType: 'image/png' },
      heatmap: { data: heatmap, contentType: 'image/png' },
    };
    html = renderReportHtml(buildReport(), { falsePositives: [falsePositive], falseNegatives: [] });
  });

  it('is an HTML5 document with the model and dataset in the heading', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('</html>');
    expect(html).toMatch(/<h1>[^<]*v7 \(inspect\)[^<]*<\/h1>/);
    expect(html).toContain('/data/bottles &amp; caps');
  });

  it('summarises the headline figures', () => {
    expect(html).toContain('0.935'); // image AUROC, 3 decimals
    expect(html).toMatch(/Pixel AUROC<\/th><td class="num">n\/a</);
    expect(html).toMatch(/F1 \(at operating threshold\)<\/th><td class="num">0\.750</);
    expect(html).toContain('0.5123'); // threshold, 4 significant digits
    expect(html).toContain('[0.4, 0.6]');
    expect(html).toContain('20.0%'); // review-band share as a percentage
    expect(html).toContain('0.988'); // accuracy outside the band
    expect(html).toContain('10 (6 / 4)');
    expect(html).toContain('12.3 ms / 45.7 ms');
  });

  it('draws the ROC and PR curves as inline SVG polylines', () => {
    const svgs = svgBlocks(html);
    expect(svgs).toHaveLength(2);
    expect(svgs[0]).toContain('ROC curve — AUROC 0.935');
    expect(svgs[0]).toContain('class="chance"');
    expect(svgs[0]).toContain('False-positive rate');
    expect(svgs[1]).toContain('Precision–recall curve');
    expect(svgs[1]).not.toContain('class="chance"');
    expect(svgs[1]).toContain('Recall');

    const { plotLeft, plotTop, plotWidth, plotHeight } = CHART_LAYOUT;
    const at = (x: number, y: number): string => `${plotLeft + x * plotWidth},${plotTop + (1 - y) * plotHeight}`;
    // Traced by descending threshold: (0,0) → (0,0.5) → (0.25,0.75) → (0.5,1) → (1,1).
    expect(curvePoints(html, 0)).toEqual([at(0, 0), at(0, 0.5), at(0.25, 0.75), at(0.5, 1), at(1, 1)]);
    // One literal coordinate, independent of the layout constants' use above.
    expect(at(0.25, 0.75)).toBe('135,100');
    expect(curvePoints(html, 1)).toEqual([at(0.5, 1), at(0.75, 0.75), at(1, 0.5)]);
  });

  it('shows the confusion matrix counts with actual/predicted headers', () => {
    const table = /<table class="confusion">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    expect(table).toContain('Predicted anomalous');
    expect(table).toContain('Actual normal');
    const counts = [...table.matchAll(/<td style="background:rgba\([^"]+\)" title="(\w+)">(\d+)</g)].map((m) => `${m[1]}=${m[2]}`);
    expect(counts).toEqual(['TP=3', 'FN=1', 'FP=1', 'TN=5']);
  });

  it('lists the per-type results with the share caught', () => {
    expect(html).toMatch(/<td>crack<\/td><td class="num">3<\/td><td class="num">2<\/td><td class="num">66\.7%<\/td>/);
    expect(html).toContain('<td>scratch&lt;b&gt;</td>');
  });

  it('embeds the example images as data: URLs and says "none" for an empty gallery', () => {
    expect(html).toContain(`<img src="data:image/png;base64,${thumbnail.toString('base64')}"`);
    expect(html).toContain(`<img src="data:image/png;base64,${heatmap.toString('base64')}"`);
    expect(html).toContain('score 0.9123');
    expect(html).toContain('anomaly probability 0.877');
    expect(html).toMatch(/<h2>Worst false negatives<\/h2><p>none<\/p>/);
    expect(html).not.toMatch(/<h2>Worst false positives<\/h2><p>none<\/p>/);
  });

  it('escapes strings that come from the data', () => {
    expect(html).not.toContain('<script');
    expect(html).toContain(escapeHtml(HOSTILE_ID));
    expect(escapeHtml(HOSTILE_ID)).toBe('&lt;script&gt;alert(1)&lt;/script&gt;.jpg');
  });

  it('references nothing outside the document', () => {
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<(link|script|iframe)\b/i);
  });
});
