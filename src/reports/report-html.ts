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
import { type GeoPoint, locatorFrame, metresText } from './locator';
import { COLOURS } from './pdf-layout';

// The HTML report: one self-contained page (pictures inlined as data URIs, no script, no outside request),
// so a saved or mailed copy still shows everything after the signed links have expired.

/** Everything typed by people (device names, notes, comments) goes through this. */
const esc = (v: unknown) =>
  String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:${COLOURS.ink};margin:0;background:#e9edf2}
main{max-width:960px;margin:0 auto;background:#fff;padding:32px 40px}
section.report{page-break-before:always;margin-top:40px}section.report:first-of-type{page-break-before:auto;margin-top:0}
header.banner{background:${COLOURS.accent};color:#fff;padding:14px 18px;border-radius:4px}
header.banner .kicker{font-size:11px;letter-spacing:.08em;text-transform:uppercase;color:#c9d6e3;font-weight:600}
header.banner h1{margin:4px 0;font-size:26px}header.banner .sub{font-size:12px;color:#dfe7ef}
h2{color:${COLOURS.accent};font-size:17px;border-bottom:1px solid ${COLOURS.rule};padding-bottom:3px;margin:26px 0 10px}
.facts{display:flex;gap:24px;align-items:flex-start;margin-top:16px}.facts dl{flex:1;display:grid;grid-template-columns:130px 1fr;margin:0;gap:3px 10px}
dt{color:${COLOURS.muted}}dd{margin:0}.locator{flex:none;text-align:center;font-size:11px;color:${COLOURS.muted}}
table{border-collapse:collapse;width:100%;font-size:13px}th{background:${COLOURS.band};color:${COLOURS.muted};text-align:left;font-size:11px;padding:5px 6px}
td{border-bottom:1px solid ${COLOURS.rule};padding:5px 6px;vertical-align:top}.muted{color:${COLOURS.muted}}
.sev{font-weight:700}.n{font-weight:700;color:${COLOURS.box}}figure{margin:0}
.pair{display:flex;gap:12px;flex-wrap:wrap}.pic{position:relative;display:inline-block;line-height:0}.pic img{max-width:100%;max-height:420px;border:1px solid ${COLOURS.rule}}
.pic svg{position:absolute;inset:0;width:100%;height:100%;overflow:visible}.image{margin:18px 0;break-inside:avoid}
figcaption{font-size:11px;color:${COLOURS.muted};line-height:1.4;margin-top:3px}.note{color:${COLOURS.muted}}
@media print{body{background:#fff}main{padding:0}}`;

const sev = (s: string | null) =>
  s ? `<span class="sev" style="color:${COLOURS.severity[s] ?? COLOURS.ink}">${esc(s)}</span>` : '<span class="muted">—</span>';

function table(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function locatorSvg(points: (GeoPoint & { label: string })[], side: number): string {
  const frame = locatorFrame(points);
  if (!frame) return `<svg width="${side}" height="${side}"><rect width="100%" height="100%" fill="#eef3f8"/></svg>`;
  const s = (v: number) => (v * side).toFixed(1);
  // As in the PDF: labels near a corner would collide with the north arrow and the scale bar.
  const grid = [
    ...frame.latitudes
      .filter((l) => l.y > 0.15 && l.y < 0.85)
      .map((l) => `<line x1="0" x2="${side}" y1="${s(l.y)}" y2="${s(l.y)}"/><text x="2" y="${s(l.y)}" dy="-2">${esc(l.label)}</text>`),
    ...frame.longitudes
      .filter((l) => l.x > 0.1 && l.x < 0.8)
      .map(
        (l) => `<line y1="0" y2="${side}" x1="${s(l.x)}" x2="${s(l.x)}"/><text x="${s(l.x)}" dx="2" y="${side - 3}">${esc(l.label)}</text>`,
      ),
  ].join('');
  const bar = frame.scale.share * side;
  const markers = points
    .map((p) => {
      const at = frame.place(p);
      const [x, y] = [at.x * side, at.y * side];
      return `<path d="M${x} ${y} l-4 -7 a5 5 0 1 1 8 0 z" fill="${COLOURS.box}"/><text x="${x + 7}" y="${y - 9}" font-weight="700" fill="${COLOURS.ink}">${esc(p.label)}</text>`;
    })
    .join('');
  return `<svg width="${side}" height="${side}" viewBox="0 0 ${side} ${side}" role="img" aria-label="position">
<rect width="100%" height="100%" fill="#eef3f8" stroke="${COLOURS.rule}"/><g stroke="#b8c6d6" stroke-width=".6" font-size="8" fill="${COLOURS.muted}">${grid}</g>
<rect x="${side - bar - 8}" y="8" width="${bar}" height="3" fill="${COLOURS.ink}"/><text x="${side - bar - 8}" y="22" font-size="8">${metresText(frame.scale.metres)}</text>
<text x="5" y="13" font-size="10" font-weight="700">N ↑</text><g font-size="10">${markers}</g></svg>`;
}

function boxedPicture(jpeg: Buffer, p: ReportPicture, alt: string): string {
  const boxes = p.anomalies
    .map((a) => {
      const colour = a.status === 'REJECTED' ? '#9ca3af' : COLOURS.box;
      const dash = a.status === 'REJECTED' ? ' stroke-dasharray="4 3"' : '';
      const { x, y, width, height } = a.box;
      return `<svg viewBox="0 0 1000 1000" preserveAspectRatio="none"><rect x="${x * 1000}" y="${y * 1000}" width="${width * 1000}" height="${height * 1000}" fill="none" stroke="${colour}" stroke-width="2.5" vector-effect="non-scaling-stroke"${dash}/></svg>
<span style="position:absolute;left:${x * 100}%;top:${y * 100}%;background:${colour};color:#fff;font:700 11px/1 sans-serif;padding:2px 4px">${a.n}</span>`;
    })
    .join('');
  return `<div class="pic"><img alt="${esc(alt)}" src="data:image/jpeg;base64,${jpeg.toString('base64')}">${boxes}</div>`;
}

function pictureHtml(p: ReportPicture, i: number, total: number): string {
  const facts = [
    p.capturedAt ? `taken ${when(p.capturedAt)}` : null,
    p.width && p.height ? `${p.width}×${p.height} px` : null,
    p.outcome ? `outcome ${p.outcome}` : 'not judged by a run',
    `${p.anomalies.length} ${p.anomalies.length === 1 ? 'anomaly' : 'anomalies'}`,
  ].filter(Boolean);
  const body = !p.photo
    ? '<p class="note">The picture is no longer in the object store.</p>'
    : `<div class="pair"><figure>${boxedPicture(p.photo.jpeg, p, p.filename)}</figure>${
        p.heatmap
          ? `<figure>${boxedPicture(p.heatmap, p, `heatmap of ${p.filename}`)}<figcaption>Heatmap of ${esc(p.heatmapModel ?? 'the model')}: blue normal, yellow to red anomalous</figcaption></figure>`
          : ''
      }</div>`;
  return `<div class="image"><strong>Image ${i + 1} of ${total}: ${esc(p.filename)}</strong><div class="muted">${esc(facts.join(' · '))}</div>${body}</div>`;
}

function factsHtml(r: InspectionReport): string {
  const { device, inspection } = r;
  const anomalies = anomaliesOf(r);
  const rows: [string, string][] = [
    ['Device', `${esc(device.name)} (${esc(device.externalId)})`],
    ['Type', esc(device.type)],
    ['Criticality', esc(device.criticality)],
    ['Device status', esc(device.status)],
    ['Position', esc(coordinates(device))],
    ['Captured', when(inspection.capturedAt)],
    ['Source', `${esc(inspection.source)}, requested by ${esc(inspection.requestedBy)}`],
    ['Inspection', `${esc(inspection.status)}${inspection.finishedAt ? `, finished ${when(inspection.finishedAt)}` : ''}`],
    ['Images', `${r.pictures.length} judged${r.unjudged.length ? `, ${r.unjudged.length} not judged` : ''}`],
    ['Anomalies', `${anomalies.length} (${esc(severityCounts(anomalies))})`],
    ['Highest severity', sev(highestSeverity(anomalies))],
    ['Reviews', `${r.reviews.length - pendingReviews(r)} decided, ${pendingReviews(r)} waiting`],
  ];
  const point =
    device.latitude != null && device.longitude != null ? [{ latitude: device.latitude, longitude: device.longitude, label: '' }] : [];
  const extra = [
    inspection.failure ? `<p class="note">Detection failed: ${esc(inspection.failure)}</p>` : '',
    inspection.notes ? `<p class="note">Notes: ${esc(inspection.notes)}</p>` : '',
  ].join('');
  return `<div class="facts"><dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
<div class="locator">${locatorSvg(point, 180)}<div>${esc(coordinates(device))}</div></div></div>${extra}`;
}

function findingsHtml(r: InspectionReport): string {
  const anomalies = anomaliesOf(r);
  if (!anomalies.length) return '<p class="note">Nothing was found on this inspection.</p>';
  const rows = anomalies.map((a) => [
    `<span class="n">${a.n}</span>`,
    `${esc(a.type)}<div class="muted">${a.source === 'HUMAN' ? 'drawn by a reviewer' : 'found by the model'}</div>`,
    pct(a.confidence, 0),
    a.severity ? `<span class="sev" style="color:${COLOURS.severity[a.severity]}">${esc(severityText(a))}</span>` : sev(null),
    esc(a.status),
    a.defect ? `${a.defect.label} · ${esc(a.defect.status)}, seen ${a.defect.observationCount}× since ${day(a.defect.firstSeenAt)}` : '—',
  ]);
  const overrides = anomalies
    .filter((a) => a.override)
    .map(
      (a) =>
        `<p class="note">#${a.n}: severity set to ${a.severity} by ${esc(a.override!.by)} on ${when(a.override!.at)}: “${esc(a.override!.reason)}”</p>`,
    );
  return table(['#', 'Type', 'Confidence', 'Severity', 'Status', 'Defect'], rows) + overrides.join('');
}

function defectsHtml(r: InspectionReport): string {
  if (!r.defects.length) return '<p class="note">No anomaly of this inspection belongs to a defect.</p>';
  const summary = table(
    ['Defect', 'Type', 'Status', 'Severity', 'First seen', 'Last seen', 'Seen', 'Box area, first to latest'],
    r.defects.map((d) => [
      `<strong>${d.label}</strong>`,
      esc(d.type),
      `${esc(d.status)}${d.confirmed ? '<div class="muted">confirmed</div>' : ''}`,
      sev(d.severity),
      day(d.firstSeenAt),
      day(d.lastSeenAt),
      `${d.observationCount}×`,
      `${esc(growthText(d))}${d.reopenCount ? `; seen again ${d.reopenCount}× after a repair` : ''}${d.resolution ? `; ${esc(d.resolution)}` : ''}`,
    ]),
  );
  const histories = r.defects
    .filter((d) => d.observationCount > 1)
    .map((d) => {
      const head = `<p><strong>${d.label}: ${esc(d.type)} · ${esc(d.status)} · ${sev(d.severity)}${d.confirmed ? ' · confirmed by a person' : ''} · ${d.observationCount} observations</strong></p>`;
      const rows = d.observations.map((o) => [
        o.here ? `<strong>${when(o.at)} (this inspection)</strong>` : when(o.at),
        pct(o.areaShare),
        sev(o.severity),
        esc(o.status),
      ]);
      return head + table(['Photographed', 'Box area', 'Severity', 'Status'], rows);
    });
  return summary + histories.join('');
}

function reviewsHtml(r: InspectionReport): string {
  if (!r.reviews.length) return '<p class="note">No image of this inspection went to a reviewer.</p>';
  const rows = r.reviews.flatMap((t) =>
    t.answers.length
      ? t.answers.map((a) => [
          esc(t.image),
          esc(t.reason),
          esc(a.reviewer),
          `<strong>${esc(a.verdict)}</strong>`,
          when(a.at),
          esc(a.comment ?? ''),
        ])
      : [[esc(t.image), esc(t.reason), '—', `<span class="muted">${esc(t.verdict ?? t.status)}</span>`, '—', '']],
  );
  return table(['Image', 'Why asked', 'Reviewer (API key)', 'Verdict', 'When', 'Comment'], rows);
}

function inspectionHtml(r: InspectionReport, kicker: string, generatedAt: Date): string {
  const models = r.models.length
    ? table(
        ['Stage', 'Model version', 'Images', 'Measured on its test split'],
        r.models.map((m) => [
          esc(m.stage),
          `${esc(m.version)}<div class="muted">${esc(m.detector)}${m.trainedAt ? `, trained ${day(m.trainedAt)}` : ''}</div>`,
          String(m.images),
          esc(metricsText(m.metrics)),
        ]),
      )
    : '<p class="note">No model judged these images (no model for this device type yet: every image went to a reviewer).</p>';
  const unjudged = r.unjudged.map((u) => `<p class="note">Not judged: ${esc(u.filename)} (${esc(u.reason)})</p>`).join('');
  return `<section class="report"><header class="banner"><div class="kicker">${esc(kicker)}</div><h1>${esc(r.device.name)}</h1>
<div class="sub">${esc(r.device.externalId)} · ${esc(r.device.type)} · generated ${when(generatedAt)}</div></header>${factsHtml(r)}
<h2>Models used</h2>${models}<h2>Findings</h2>${findingsHtml(r)}
<h2>Images</h2><p class="note">Boxes are numbered as in Findings; a dashed grey box is one a reviewer rejected.</p>${r.pictures.map((p, i) => pictureHtml(p, i, r.pictures.length)).join('')}${unjudged}
<h2>Defects and their history</h2>${defectsHtml(r)}<h2>Reviewer decisions</h2>${reviewsHtml(r)}</section>`;
}

function coverHtml(s: SurveyReport, generatedAt: Date): string {
  const all = s.inspections.flatMap(anomaliesOf);
  const points = s.inspections.flatMap((r, i) =>
    r.device.latitude != null && r.device.longitude != null
      ? [{ latitude: r.device.latitude, longitude: r.device.longitude, label: String(i + 1) }]
      : [],
  );
  const facts: [string, string][] = [
    ['Survey created', when(s.survey.createdAt)],
    [
      'Images',
      `${s.images.total} uploaded: ${s.images.placed} on a device, ${s.images.unassigned} unassigned, ${s.images.rejected} rejected`,
    ],
    ['Devices', String(s.inspections.length)],
    ['Anomalies', `${all.length} (${esc(severityCounts(all))})`],
    ['Highest severity', sev(highestSeverity(all))],
    ['Reviews waiting', String(s.inspections.reduce((n, r) => n + pendingReviews(r), 0))],
  ];
  const rows = s.inspections.map((r, i) => [
    `<strong>${i + 1}</strong>`,
    `${esc(r.device.name)}<div class="muted">${esc(r.device.externalId)}</div>`,
    esc(r.device.type),
    esc(r.device.criticality),
    day(r.inspection.capturedAt),
    String(r.pictures.length),
    String(anomaliesOf(r).length),
    sev(highestSeverity(anomaliesOf(r))),
  ]);
  return `<section class="report"><header class="banner"><div class="kicker">Survey report</div><h1>${esc(s.survey.name)}</h1>
<div class="sub">${esc(s.survey.source)} · requested by ${esc(s.survey.requestedBy)} · generated ${when(generatedAt)}</div></header>
<div class="facts"><dl>${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl><div class="locator">${locatorSvg(points, 240)}</div></div>
<h2>Devices in this survey</h2>${table(['#', 'Device', 'Type', 'Criticality', 'Captured', 'Images', 'Anomalies', 'Highest severity'], rows)}</section>`;
}

/** The report as one HTML page. */
export function renderHtml(report: Report): string {
  const title =
    report.kind === 'inspection' ? `Inspection report: ${report.body.device.name}` : `Survey report: ${report.body.survey.name}`;
  const body =
    report.kind === 'inspection'
      ? inspectionHtml(report.body, 'Inspection report', report.generatedAt)
      : coverHtml(report.body, report.generatedAt) +
        report.body.inspections
          .map((r, i, all) => inspectionHtml(r, `Survey ${report.body.survey.name} · device ${i + 1} of ${all.length}`, report.generatedAt))
          .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

export const HTML_CSP = CSP;
