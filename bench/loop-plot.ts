// The loop benchmark's chart: test metrics against reviewed labels, as a self-contained SVG.
import sharp from 'sharp';

export interface PlotPoint {
  /** Reviewed labels used by the training. */
  labels: number;
  auroc: number | null;
  f1: number | null;
  reviewBandShare: number | null;
  /** The deploy of this round's INSPECT model was accepted by the gate. */
  deployed: boolean;
}

export interface PlotInput {
  title: string;
  subtitle?: string;
  points: PlotPoint[];
}

const SERIES = [
  { key: 'auroc', name: 'test AUROC (INSPECT)', colour: '#1f77b4', dash: '' },
  { key: 'f1', name: 'test F1 (INSPECT)', colour: '#ff7f0e', dash: '' },
  { key: 'reviewBandShare', name: 'review-band share', colour: '#2ca02c', dash: '6 4' },
] as const;

const W = 900;
const H = 540;
const M = { left: 70, right: 30, top: 74, bottom: 96 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick steps (1, 2, 5 × 10^k) giving about `count` ticks over [0, max]. */
function ticks(max: number, count: number): number[] {
  const raw = Math.max(max, 1) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  if (out[out.length - 1] < max) out.push(out[out.length - 1] + step);
  return out;
}

export function renderLoopSvg({ title, subtitle, points }: PlotInput): string {
  const xTicks = ticks(Math.max(1, ...points.map((p) => p.labels)), 8);
  const xMax = xTicks[xTicks.length - 1];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (v: number) => M.left + (v / xMax) * pw;
  const sy = (v: number) => M.top + (1 - v) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="30" text-anchor="middle" font-size="19" font-weight="bold">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${W / 2}" y="52" text-anchor="middle" font-size="12" fill="#555">${esc(subtitle)}</text>`);
  // Grid and ticks.
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(v)}" y2="${sy(v)}" stroke="${i % 5 ? '#eee' : '#ccc'}"/>`);
    out.push(`<text x="${M.left - 8}" y="${sy(v) + 4}" text-anchor="end" font-size="12">${v.toFixed(1)}</text>`);
  }
  for (const t of xTicks) {
    out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${M.top}" y2="${M.top + ph}" stroke="#f3f3f3"/>`);
    out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${sx(t)}" y="${M.top + ph + 20}" text-anchor="middle" font-size="12">${t}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${M.top + ph + 42}" text-anchor="middle" font-size="14">reviewed labels (cumulative)</text>`);
  out.push(`<text transform="translate(20 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="14">score / share (0..1)</text>`);
  // Lines and points; a hollow point marks a round whose deploy the gate refused.
  for (const s of SERIES) {
    const pts = points
      .filter((p) => p[s.key] !== null)
      .map((p) => ({ x: sx(p.labels), y: sy(Math.min(1, Math.max(0, p[s.key]!))), deployed: p.deployed }));
    if (pts.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${s.colour}" stroke-width="2.2" stroke-dasharray="${s.dash}" points="${pts.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const p of pts) {
      out.push(
        `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="4.5" fill="${p.deployed ? s.colour : '#fff'}" stroke="${s.colour}" stroke-width="2"/>`,
      );
    }
  }
  // Legend under the axis label, in one row.
  const ly = H - 22;
  let lx = M.left;
  for (const s of SERIES) {
    out.push(
      `<line x1="${lx}" x2="${lx + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2.2" stroke-dasharray="${s.dash}"/>`,
    );
    out.push(`<circle cx="${lx + 14}" cy="${ly - 4}" r="4" fill="${s.colour}"/>`);
    out.push(`<text x="${lx + 36}" y="${ly}" font-size="13">${esc(s.name)}</text>`);
    lx += 52 + s.name.length * 7.2;
  }
  out.push(`<circle cx="${lx + 14}" cy="${ly - 4}" r="4" fill="#fff" stroke="#666" stroke-width="2"/>`);
  out.push(`<text x="${lx + 26}" y="${ly}" font-size="13">deploy refused by the gate</text>`);
  out.push('</svg>');
  return out.join('\n');
}

export function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}
