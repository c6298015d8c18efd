import { type Readable } from 'node:stream';
import {
  anomaliesOf,
  coordinates,
  day,
  growthText,
  highestSeverity,
  type InspectionReport,
  metricsText,
  pct,
  pendingReviews,
  type Report,
  type ReportPicture,
  severityCounts,
  severityText,
  type SurveyReport,
  when,
} from './report-model';
import { type Cell, COLOURS, PdfWriter } from './pdf-layout';

const severityCell = (s: string | null): Cell => (s ? { text: s, bold: true, colour: COLOURS.severity[s] ?? COLOURS.ink } : '—');

function summary(w: PdfWriter, r: InspectionReport, kicker: string, generatedAt: Date): void {
  const { device, inspection } = r;
  w.banner(kicker, device.name, `${device.externalId} · ${device.type} · generated ${when(generatedAt)}`);
  const anomalies = anomaliesOf(r);
  const top = w.doc.y;
  const side = 150;
  const used = w.keyValues(
    [
      ['Device', `${device.name} (${device.externalId})`],
      ['Type', device.type],
      ['Criticality', device.criticality],
      ['Device status', device.status],
      ['Position', coordinates(device)],
      ['Captured', when(inspection.capturedAt)],
      ['Source', `${inspection.source}, requested by ${inspection.requestedBy}`],
      ['Inspection', `${inspection.status}${inspection.finishedAt ? `, finished ${when(inspection.finishedAt)}` : ''}`],
      ['Images', `${r.pictures.length} judged${r.unjudged.length ? `, ${r.unjudged.length} not judged` : ''}`],
      ['Anomalies', `${anomalies.length} (${severityCounts(anomalies)})`],
      ['Highest severity', highestSeverity(anomalies) ?? 'none'],
      ['Reviews', `${r.reviews.length - pendingReviews(r)} decided, ${pendingReviews(r)} waiting`],
    ],
    w.left,
    top,
    w.width - side - 16,
  );
  const point =
    device.latitude != null && device.longitude != null ? [{ latitude: device.latitude, longitude: device.longitude, label: '' }] : [];
  w.locator(point, w.left + w.width - side, top, side);
  w.text(coordinates(device), { x: w.left + w.width - side, y: top + side + 3, width: side, size: 7, colour: COLOURS.muted });
  w.doc.y = top + Math.max(used, side + 14) + 6;
  if (inspection.failure) w.note(`Detection failed: ${inspection.failure}`);
  if (inspection.notes) w.note(`Notes: ${inspection.notes}`);
}

function models(w: PdfWriter, r: InspectionReport): void {
  w.heading('Models used');
  if (!r.models.length) {
    w.note('No model judged these images (no model for this device type yet: every image went to a reviewer).');
    return;
  }
  w.table(
    [
      { title: 'Stage', width: 52 },
      { title: 'Model version', width: 140 },
      { title: 'Images', width: 40 },
      { title: 'Measured on its test split', width: w.width - 232 },
    ],
    r.models.map((m) => [
      m.stage,
      `${m.version}\n${m.detector}${m.trainedAt ? `, trained ${day(m.trainedAt)}` : ''}`,
      String(m.images),
      metricsText(m.metrics),
    ]),
  );
}

function findings(w: PdfWriter, r: InspectionReport): void {
  w.heading('Findings');
  const anomalies = anomaliesOf(r);
  if (!anomalies.length) {
    w.note('Nothing was found on this inspection.');
    return;
  }
  w.table(
    [
      { title: '#', width: 20 },
      { title: 'Type', width: 95 },
      { title: 'Confidence', width: 52 },
      { title: 'Severity', width: 110 },
      { title: 'Status', width: 70 },
      { title: 'Defect', width: w.width - 347 },
    ],
    anomalies.map((a) => [
      { text: String(a.n), bold: true, colour: COLOURS.box },
      `${a.type}\n${a.source === 'HUMAN' ? 'drawn by a reviewer' : 'found by the model'}`,
      pct(a.confidence, 0),
      a.severity
        ? { text: severityText(a), bold: true, colour: COLOURS.severity[a.severity] }
        : { text: 'not rated yet', colour: COLOURS.muted },
      a.status,
      a.defect ? `${a.defect.label} · ${a.defect.status}, seen ${a.defect.observationCount}× since ${day(a.defect.firstSeenAt)}` : '—',
    ]),
  );
  for (const a of anomalies.filter((x) => x.override)) {
    w.note(`#${a.n}: severity set to ${a.severity} by ${a.override!.by} on ${when(a.override!.at)}: "${a.override!.reason}"`);
  }
}

/** Where a picture and its heatmap go: side by side when there is a heatmap, alone and larger otherwise. */
function pictureLayout(w: PdfWriter, p: ReportPicture) {
  const gap = 12;
  const twoUp = !!p.heatmap;
  const aspect = p.photo ? p.photo.height / p.photo.width : 0.75;
  const boxWidth = twoUp ? (w.width - gap) / 2 : w.width;
  const maxHeight = twoUp ? 300 : 340;
  const [pw, ph] = boxWidth * aspect > maxHeight ? [maxHeight / aspect, maxHeight] : [boxWidth, boxWidth * aspect];
  return { gap, boxWidth, pw, ph, height: (p.photo ? ph : 20) + 44 };
}

function picture(w: PdfWriter, p: ReportPicture, index: number, total: number): void {
  const { gap, boxWidth, pw, ph, height } = pictureLayout(w, p);
  const caption = `Image ${index + 1} of ${total}: ${p.filename}`;
  const facts = [
    p.capturedAt ? `taken ${when(p.capturedAt)}` : null,
    p.width && p.height ? `${p.width}×${p.height} px` : null,
    p.outcome ? `outcome ${p.outcome}` : 'not judged by a run',
    `${p.anomalies.length} ${p.anomalies.length === 1 ? 'anomaly' : 'anomalies'}`,
  ].filter(Boolean);
  w.ensure(height);
  w.text(caption, { bold: true, size: 9.5 });
  w.text(facts.join(' · '), { size: 8, colour: COLOURS.muted });
  const y = w.doc.y + 4;
  if (!p.photo) {
    w.note('The picture is no longer in the object store.');
    return;
  }
  const boxes = p.anomalies.map((a) => ({ n: a.n, box: a.box, muted: a.status === 'REJECTED' }));
  w.picture(p.photo.jpeg, w.left, y, pw, ph, boxes);
  if (p.heatmap) {
    w.picture(p.heatmap, w.left + boxWidth + gap, y, pw, ph, boxes);
    w.text(`Heatmap of ${p.heatmapModel ?? 'the model'}: blue normal, yellow to red anomalous`, {
      x: w.left + boxWidth + gap,
      y: y + ph + 3,
      width: boxWidth,
      size: 7,
      colour: COLOURS.muted,
    });
  }
  w.doc.y = y + ph + (p.heatmap ? 16 : 8);
}

function pictures(w: PdfWriter, r: InspectionReport): void {
  // The heading stays with the first picture.
  w.heading('Images', r.pictures.length ? pictureLayout(w, r.pictures[0]).height + 20 : 20);
  w.note('Boxes are numbered as in Findings; a dashed grey box is one a reviewer rejected.');
  r.pictures.forEach((p, i) => {
    picture(w, p, i, r.pictures.length);
  });
  for (const u of r.unjudged) w.note(`Not judged: ${u.filename} (${u.reason})`);
}

function defects(w: PdfWriter, r: InspectionReport): void {
  w.heading('Defects and their history');
  if (!r.defects.length) {
    w.note('No anomaly of this inspection belongs to a defect.');
    return;
  }
  w.table(
    [
      { title: 'Defect', width: 40 },
      { title: 'Type', width: 70 },
      { title: 'Status', width: 75 },
      { title: 'Severity', width: 62 },
      { title: 'First seen', width: 60 },
      { title: 'Last seen', width: 60 },
      { title: 'Seen', width: 32 },
      { title: 'Box area, first to latest', width: w.width - 399 },
    ],
    r.defects.map((d) => [
      { text: d.label, bold: true },
      d.type,
      `${d.status}${d.confirmed ? '\nconfirmed' : ''}`,
      severityCell(d.severity),
      day(d.firstSeenAt),
      day(d.lastSeenAt),
      `${d.observationCount}×`,
      `${growthText(d)}${d.reopenCount ? `; seen again ${d.reopenCount}× after a repair` : ''}${d.resolution ? `; ${d.resolution}` : ''}`,
    ]),
  );
  for (const d of r.defects.filter((x) => x.observationCount > 1)) {
    w.ensure(70);
    w.text(
      `${d.label}: ${d.type} · ${d.status} · ${d.severity}${d.confirmed ? ' · confirmed by a person' : ''} · ${d.observationCount} observations`,
      {
        bold: true,
      },
    );
    w.doc.y += 3;
    w.table(
      [
        { title: 'Photographed', width: 160 },
        { title: 'Box area', width: 80 },
        { title: 'Severity', width: 90 },
        { title: 'Status', width: w.width - 330 },
      ],
      d.observations.map((o) => [
        { text: `${when(o.at)}${o.here ? ' (this inspection)' : ''}`, bold: o.here },
        pct(o.areaShare),
        severityCell(o.severity),
        o.status,
      ]),
    );
  }
}

function reviews(w: PdfWriter, r: InspectionReport): void {
  w.heading('Reviewer decisions');
  if (!r.reviews.length) {
    w.note('No image of this inspection went to a reviewer.');
    return;
  }
  const rows: Cell[][] = [];
  for (const t of r.reviews) {
    const decided = t.verdict ? { text: t.verdict, bold: true } : { text: t.status, colour: COLOURS.muted };
    if (!t.answers.length) rows.push([t.image, t.reason, '—', decided, '—', '']);
    for (const a of t.answers) rows.push([t.image, t.reason, a.reviewer, { text: a.verdict, bold: true }, when(a.at), a.comment ?? '']);
  }
  w.table(
    [
      { title: 'Image', width: 85 },
      { title: 'Why asked', width: 80 },
      { title: 'Reviewer (API key)', width: 110 },
      { title: 'Verdict', width: 65 },
      { title: 'When', width: 80 },
      { title: 'Comment', width: w.width - 420 },
    ],
    rows,
  );
}

function inspectionSection(w: PdfWriter, r: InspectionReport, kicker: string, generatedAt: Date): void {
  summary(w, r, kicker, generatedAt);
  models(w, r);
  findings(w, r);
  pictures(w, r);
  defects(w, r);
  reviews(w, r);
}

function cover(w: PdfWriter, s: SurveyReport, generatedAt: Date): void {
  w.banner('Survey report', s.survey.name, `${s.survey.source} · requested by ${s.survey.requestedBy} · generated ${when(generatedAt)}`);
  const all = s.inspections.flatMap(anomaliesOf);
  const top = w.doc.y;
  const side = 190;
  const used = w.keyValues(
    [
      ['Survey created', when(s.survey.createdAt)],
      [
        'Images',
        `${s.images.total} uploaded: ${s.images.placed} on a device, ${s.images.unassigned} unassigned, ${s.images.rejected} rejected`,
      ],
      ['Devices', String(s.inspections.length)],
      ['Anomalies', `${all.length} (${severityCounts(all)})`],
      ['Highest severity', highestSeverity(all) ?? 'none'],
      ['Reviews waiting', String(s.inspections.reduce((n, r) => n + pendingReviews(r), 0))],
    ],
    w.left,
    top,
    w.width - side - 16,
  );
  const points = s.inspections.flatMap((r, i) =>
    r.device.latitude != null && r.device.longitude != null
      ? [{ latitude: r.device.latitude, longitude: r.device.longitude, label: String(i + 1) }]
      : [],
  );
  w.locator(points, w.left + w.width - side, top, side);
  w.doc.y = top + Math.max(used, side) + 12;
  w.heading('Devices in this survey');
  w.table(
    [
      { title: '#', width: 20 },
      { title: 'Device', width: 125 },
      { title: 'Type', width: 60 },
      { title: 'Criticality', width: 55 },
      { title: 'Captured', width: 62 },
      { title: 'Images', width: 38 },
      { title: 'Anomalies', width: 50 },
      { title: 'Highest severity', width: w.width - 410 },
    ],
    s.inspections.map((r, i) => [
      { text: String(i + 1), bold: true },
      `${r.device.name}\n${r.device.externalId}`,
      r.device.type,
      r.device.criticality,
      day(r.inspection.capturedAt),
      String(r.pictures.length),
      String(anomaliesOf(r).length),
      severityCell(highestSeverity(anomaliesOf(r))),
    ]),
  );
}

/** The report as a PDF stream: pages are laid out now and sent as pdfkit writes them. */
export function renderPdf(report: Report): Readable {
  if (report.kind === 'inspection') {
    const r = report.body;
    const w = new PdfWriter(`Inspection report: ${r.device.name}`);
    inspectionSection(w, r, 'Inspection report', report.generatedAt);
    w.footers(`vigil · inspection report · ${r.device.name} · ${day(r.inspection.capturedAt)}`);
    w.doc.end();
    return w.doc;
  }
  const s = report.body;
  const w = new PdfWriter(`Survey report: ${s.survey.name}`);
  cover(w, s, report.generatedAt);
  s.inspections.forEach((r, i) => {
    w.doc.addPage();
    inspectionSection(w, r, `Survey ${s.survey.name} · device ${i + 1} of ${s.inspections.length}`, report.generatedAt);
  });
  w.footers(`vigil · survey report · ${s.survey.name}`);
  w.doc.end();
  return w.doc;
}
