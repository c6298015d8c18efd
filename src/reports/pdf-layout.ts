import type PDFDocumentClass from 'pdfkit';
import { type Box } from '../common/box';
import { type GeoPoint, locatorFrame, metresText } from './locator';

// Drawing primitives of the PDF report: A4 pages, headings, key-value blocks, tables that continue
// on the next page with their header, badges, boxed pictures and the locator.

export const COLOURS = {
  ink: '#1d2330',
  muted: '#5b6472',
  rule: '#d5d9e0',
  band: '#f2f4f7',
  accent: '#1f4e79',
  // Anomaly boxes: a pink the heatmap's blue-to-red scale never uses, so boxes stay visible on it.
  box: '#e6007e',
  severity: { LOW: '#4b5563', MEDIUM: '#a16207', HIGH: '#c2410c', CRITICAL: '#b91c1c' } as Record<string, string>,
};
const MARGIN = 48;

// pdfkit and its fonts take about 24 MB once loaded; most servers never render a report, so it loads with the first one.
const pdfDocument = (): typeof PDFDocumentClass => require('pdfkit');
const FOOTER = 28;

// The standard PDF fonts cover Windows-1252 only; anything else is spelled out or replaced, never dropped silently.
const WIN_ANSI_EXTRA = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';
const SPELLED: Record<string, string> = { '→': '->', '←': '<-', '≥': '>=', '≤': '<=', '≈': '~', '✓': 'v' };
export function pdfText(text: string): string {
  return Array.from(text, (c) => {
    const code = c.codePointAt(0)!;
    if ((code >= 0x20 && code < 0x7f) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.includes(c)) return c;
    if (c === '\n') return c;
    return SPELLED[c] ?? '?';
  }).join('');
}

export interface Column {
  title: string;
  width: number;
  align?: 'left' | 'right' | 'center';
}

export type Cell = string | { text: string; colour?: string; bold?: boolean };

export class PdfWriter {
  readonly doc: PDFKit.PDFDocument;
  readonly left = MARGIN;
  readonly width: number;

  constructor(title: string) {
    const PDFDocument = pdfDocument();
    this.doc = new PDFDocument({
      size: 'A4',
      margins: { top: MARGIN, left: MARGIN, right: MARGIN, bottom: MARGIN + FOOTER },
      bufferPages: true,
      info: { Title: pdfText(title), Creator: 'vigil', Producer: 'vigil (pdfkit)' },
    });
    this.width = this.doc.page.width - 2 * MARGIN;
    this.doc.font('Helvetica').fontSize(9).fillColor(COLOURS.ink);
  }

  get bottom(): number {
    return this.doc.page.height - MARGIN - FOOTER;
  }

  /** Starts a new page unless `height` still fits on this one. */
  ensure(height: number): void {
    if (this.doc.y + height > this.bottom) this.doc.addPage();
  }

  text(text: string, options: { x?: number; y?: number; width?: number; size?: number; bold?: boolean; colour?: string } = {}) {
    const { doc } = this;
    doc
      .font(options.bold ? 'Helvetica-Bold' : 'Helvetica')
      .fontSize(options.size ?? 9)
      .fillColor(options.colour ?? COLOURS.ink);
    doc.text(pdfText(text), options.x ?? this.left, options.y ?? doc.y, { width: options.width ?? this.width });
    return this;
  }

  heightOf(text: string, width: number, size = 9, bold = false): number {
    this.doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(size);
    return this.doc.heightOfString(pdfText(text), { width });
  }

  /** A page title: a coloured band with the kind of report and the subject's name. */
  banner(kicker: string, title: string, subtitle: string): void {
    const { doc } = this;
    const top = doc.y;
    const titleHeight = this.heightOf(title, this.width - 24, 18, true);
    const height = 26 + titleHeight + 18;
    doc.rect(this.left, top, this.width, height).fill(COLOURS.accent);
    this.text(kicker.toUpperCase(), { x: this.left + 12, y: top + 9, size: 8, colour: '#c9d6e3', bold: true });
    this.text(title, { x: this.left + 12, y: top + 21, size: 18, bold: true, colour: '#ffffff', width: this.width - 24 });
    this.text(subtitle, { x: this.left + 12, y: top + 24 + titleHeight, size: 8.5, colour: '#dfe7ef', width: this.width - 24 });
    doc.y = top + height + 14;
  }

  heading(text: string, keepWith = 60): void {
    this.ensure(28 + keepWith);
    const { doc } = this;
    doc.y += 6;
    this.text(text, { size: 12, bold: true, colour: COLOURS.accent });
    doc
      .moveTo(this.left, doc.y + 2)
      .lineTo(this.left + this.width, doc.y + 2)
      .lineWidth(0.75)
      .strokeColor(COLOURS.rule)
      .stroke();
    doc.y += 8;
  }

  note(text: string): void {
    this.ensure(this.heightOf(text, this.width) + 6);
    this.text(text, { colour: COLOURS.muted });
    this.doc.y += 6;
  }

  /** Label-value rows in two columns at (x, y); returns the height used. */
  keyValues(rows: [string, string][], x: number, y: number, width: number): number {
    const labelWidth = 92;
    let at = y;
    for (const [label, value] of rows) {
      const h = Math.max(this.heightOf(value, width - labelWidth), 11) + 3;
      this.text(label, { x, y: at, width: labelWidth - 6, colour: COLOURS.muted });
      this.text(value, { x: x + labelWidth, y: at, width: width - labelWidth });
      at += h;
    }
    return at - y;
  }

  /** A table whose header is repeated when it continues on the next page. */
  table(columns: Column[], rows: Cell[][]): void {
    const { doc } = this;
    const pad = 4;
    const header = () => {
      const h = 16;
      doc.rect(this.left, doc.y, this.width, h).fill(COLOURS.band);
      let x = this.left;
      const y = doc.y;
      for (const c of columns) {
        this.text(c.title, { x: x + pad, y: y + 4, width: c.width - 2 * pad, size: 7.5, bold: true, colour: COLOURS.muted });
        x += c.width;
      }
      doc.y = y + h;
    };
    this.ensure(40);
    header();
    for (const row of rows) {
      const cells = row.map((cell) => (typeof cell === 'string' ? { text: cell } : cell));
      const height = Math.max(...cells.map((c, i) => this.heightOf(c.text, columns[i].width - 2 * pad, 8.5, c.bold))) + 2 * pad;
      if (doc.y + height > this.bottom) {
        doc.addPage();
        header();
      }
      const y = doc.y;
      let x = this.left;
      cells.forEach((c, i) => {
        this.text(c.text, { x: x + pad, y: y + pad, width: columns[i].width - 2 * pad, size: 8.5, bold: c.bold, colour: c.colour });
        x += columns[i].width;
      });
      doc
        .moveTo(this.left, y + height)
        .lineTo(this.left + this.width, y + height)
        .lineWidth(0.5)
        .strokeColor(COLOURS.rule)
        .stroke();
      doc.y = y + height;
    }
    doc.y += 10;
  }

  /** A picture scaled into (x, y, width, height) with numbered anomaly boxes drawn over it as vectors. */
  picture(jpeg: Buffer, x: number, y: number, w: number, h: number, boxes: { n: number; box: Box; muted: boolean }[]): void {
    const { doc } = this;
    doc.image(jpeg, x, y, { width: w, height: h });
    doc.rect(x, y, w, h).lineWidth(0.5).strokeColor(COLOURS.rule).stroke();
    for (const b of boxes) {
      const colour = b.muted ? '#9ca3af' : COLOURS.box;
      const bx = x + b.box.x * w;
      const by = y + b.box.y * h;
      doc.save();
      if (b.muted) doc.dash(3, { space: 2 });
      doc
        .rect(bx, by, Math.max(1, b.box.width * w), Math.max(1, b.box.height * h))
        .lineWidth(1.6)
        .strokeColor(colour)
        .stroke();
      doc.restore();
      const label = String(b.n);
      doc.font('Helvetica-Bold').fontSize(7);
      const tw = doc.widthOfString(label) + 5;
      doc.rect(bx, by, tw, 10).fill(colour);
      doc.fillColor('#ffffff').text(label, bx + 2.5, by + 1.8, { width: tw, lineBreak: false });
    }
  }

  /** A small map: graticule, scale bar, north, and a numbered marker per point. */
  locator(points: (GeoPoint & { label: string })[], x: number, y: number, side: number): void {
    const { doc } = this;
    doc.rect(x, y, side, side).fill('#eef3f8');
    const frame = locatorFrame(points);
    if (!frame) {
      this.text('no position recorded', { x, y: y + side / 2 - 5, width: side, colour: COLOURS.muted });
      return;
    }
    doc.lineWidth(0.4).strokeColor('#b8c6d6');
    for (const l of frame.latitudes)
      doc
        .moveTo(x, y + l.y * side)
        .lineTo(x + side, y + l.y * side)
        .stroke();
    for (const l of frame.longitudes)
      doc
        .moveTo(x + l.x * side, y)
        .lineTo(x + l.x * side, y + side)
        .stroke();
    // Labels too near a corner would collide with the north arrow, the scale bar or each other.
    for (const l of frame.latitudes.filter((v) => v.y > 0.15 && v.y < 0.85))
      this.text(l.label, { x: x + 2, y: y + l.y * side - 8, width: side, size: 5.5, colour: COLOURS.muted });
    for (const l of frame.longitudes.filter((v) => v.x > 0.1 && v.x < 0.8))
      this.text(l.label, { x: x + l.x * side + 2, y: y + side - 8, width: 40, size: 5.5, colour: COLOURS.muted });
    const bar = frame.scale.share * side;
    doc.rect(x + side - bar - 8, y + 10, bar, 2.5).fill(COLOURS.ink);
    this.text(metresText(frame.scale.metres), { x: x + side - bar - 8, y: y + 14, width: bar + 8, size: 5.5, colour: COLOURS.ink });
    this.text('N ^', { x: x + 4, y: y + 4, width: 20, size: 7, bold: true });
    for (const p of points) {
      const at = frame.place(p);
      const px = x + at.x * side;
      const py = y + at.y * side;
      doc.polygon([px, py], [px - 4, py - 7], [px + 4, py - 7]).fill(COLOURS.box);
      doc.circle(px, py - 9, 4.5).fill(COLOURS.box);
      if (p.label) this.text(p.label, { x: px + 6, y: py - 13, width: 40, size: 6.5, bold: true });
    }
    doc.rect(x, y, side, side).lineWidth(0.5).strokeColor(COLOURS.rule).stroke();
  }

  /** "label · page n of m" at the foot of every page. */
  footers(label: string): void {
    const { doc } = this;
    const range = doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      doc.switchToPage(i);
      const bottomMargin = doc.page.margins.bottom;
      // Writing below the bottom margin would start a new page.
      doc.page.margins.bottom = 0;
      const y = doc.page.height - MARGIN;
      doc
        .moveTo(this.left, y - 6)
        .lineTo(this.left + this.width, y - 6)
        .lineWidth(0.5)
        .strokeColor(COLOURS.rule)
        .stroke();
      this.text(label, { x: this.left, y, width: this.width * 0.75, size: 7, colour: COLOURS.muted });
      doc.font('Helvetica').fontSize(7);
      doc.text(`page ${i + 1} of ${range.count}`, this.left, y, { width: this.width, align: 'right', lineBreak: false });
      doc.page.margins.bottom = bottomMargin;
    }
  }
}
