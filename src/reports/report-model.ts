import { type Box } from '../common/box';
import { type ModelMetrics } from '../models/evaluation';
import { type Severity, SEVERITY_ORDER, rank } from '../repairs/severity';

// What a report shows, read once from the database and the object store; the PDF and the HTML render the same facts.

export type ReportFormat = 'PDF' | 'HTML';

export interface ReportDevice {
  name: string;
  externalId: string;
  type: string;
  criticality: string;
  status: string;
  latitude: number | null;
  longitude: number | null;
}

export interface ReportObservation {
  at: Date;
  areaShare: number;
  severity: Severity | null;
  status: string;
  /** Seen in the inspection the report is about. */
  here: boolean;
}

export interface ReportDefect {
  /** D1, D2… in the order of first appearance in the report. */
  label: string;
  type: string;
  status: string;
  severity: Severity;
  confirmed: boolean;
  firstSeenAt: Date;
  lastSeenAt: Date;
  observationCount: number;
  firstArea: number;
  lastArea: number;
  reopenCount: number;
  resolution: string | null;
  /** Oldest first, at most MAX_OBSERVATIONS of them (the latest). */
  observations: ReportObservation[];
}

export interface ReportAnomaly {
  /** 1, 2… across the inspection: the number drawn on the picture. */
  n: number;
  type: string;
  confidence: number;
  status: string;
  source: string;
  /** The override when a person set one, else the rules' rating; null until the repair tracker rated it. */
  severity: Severity | null;
  ruleSeverity: Severity | null;
  override: { reason: string; by: string; at: Date } | null;
  box: Box;
  defect: ReportDefect | null;
}

export interface ReportPicture {
  filename: string;
  capturedAt: Date | null;
  width: number | null;
  height: number | null;
  /** Where the detection run left the image (ANOMALY, NORMAL, CLEAR, COLD_START…); null when no run judged it. */
  outcome: string | null;
  /** The downscaled JPEG and its pixel size; null when the stored copy could not be read. */
  photo: { jpeg: Buffer; width: number; height: number } | null;
  /** The photo with the model's heatmap laid over it; null when the model made none. */
  heatmap: Buffer | null;
  heatmapModel: string | null;
  anomalies: ReportAnomaly[];
}

export interface ReportModelUse {
  stage: string;
  detector: string;
  version: string;
  images: number;
  /** The registered version's figures on its test split; null when the version was not trained through vigil. */
  metrics: ModelMetrics | null;
  trainedAt: Date | null;
}

export interface ReportReview {
  image: string;
  reason: string;
  status: string;
  verdict: string | null;
  completedAt: Date | null;
  answers: { reviewer: string; verdict: string; at: Date; comment: string | null }[];
}

export interface InspectionReport {
  device: ReportDevice;
  inspection: {
    status: string;
    source: string;
    capturedAt: Date;
    requestedBy: string;
    notes: string | null;
    finishedAt: Date | null;
    failure: string | null;
  };
  pictures: ReportPicture[];
  /** Images no model or person judged: rejected or never-finished uploads, with why. */
  unjudged: { filename: string; reason: string }[];
  models: ReportModelUse[];
  reviews: ReportReview[];
  defects: ReportDefect[];
}

export interface SurveyReport {
  survey: { name: string; source: string; requestedBy: string; createdAt: Date };
  images: { total: number; placed: number; unassigned: number; rejected: number };
  inspections: InspectionReport[];
}

export type Report =
  | { kind: 'inspection'; generatedAt: Date; body: InspectionReport }
  | { kind: 'survey'; generatedAt: Date; body: SurveyReport };

export const MAX_OBSERVATIONS = 8;

export const anomaliesOf = (r: InspectionReport) => r.pictures.flatMap((p) => p.anomalies);

/** The worst effective severity among anomalies people did not reject; null when there is none. */
export function highestSeverity(anomalies: ReportAnomaly[]): Severity | null {
  let worst: Severity | null = null;
  for (const a of anomalies) {
    if (a.status === 'REJECTED' || !a.severity) continue;
    if (!worst || rank(a.severity) > rank(worst)) worst = a.severity;
  }
  return worst;
}

/** "1 CRITICAL, 2 MEDIUM": counts of the anomalies not rejected, worst first. */
export function severityCounts(anomalies: ReportAnomaly[]): string {
  const live = anomalies.filter((a) => a.status !== 'REJECTED');
  const parts = [...SEVERITY_ORDER]
    .reverse()
    .map((s) => [s, live.filter((a) => a.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  const unrated = live.filter((a) => !a.severity).length;
  if (unrated) parts.push(`${unrated} not rated yet`);
  return parts.join(', ') || 'none';
}

export const pendingReviews = (r: InspectionReport) => r.reviews.filter((v) => v.status === 'PENDING' || v.status === 'CLAIMED').length;

// Every date in a report is UTC, so two readers in different time zones see the same text.
export const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : '—');
export const when = (d: Date | null) => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—');
export const pct = (v: number | null | undefined, digits = 1) => (v == null ? '—' : `${(v * 100).toFixed(digits)} %`);
export const fixed = (v: number | null | undefined, digits = 3) => (v == null ? '—' : v.toFixed(digits));

export function coordinates(device: ReportDevice): string {
  if (device.latitude == null || device.longitude == null) return 'no position recorded';
  const lat = `${Math.abs(device.latitude).toFixed(5)}° ${device.latitude >= 0 ? 'N' : 'S'}`;
  const lon = `${Math.abs(device.longitude).toFixed(5)}° ${device.longitude >= 0 ? 'E' : 'W'}`;
  return `${lat}, ${lon}`;
}

export function growthText(d: ReportDefect): string {
  const growth = d.firstArea > 0 ? d.lastArea / d.firstArea : 1;
  return `${pct(d.firstArea)} to ${pct(d.lastArea)} of the image (×${growth.toFixed(2)})`;
}

export function severityText(a: ReportAnomaly): string {
  if (!a.severity) return 'not rated yet';
  if (!a.override) return a.severity;
  return `${a.severity} (set by ${a.override.by}; rules: ${a.ruleSeverity ?? '—'})`;
}

/** The measured figures of a model version in one line. */
export function metricsText(m: ModelMetrics | null): string {
  if (!m) return 'not measured by vigil (installed model file)';
  const parts = [`AUROC ${fixed(m.auroc)}`];
  if (m.precisionAtRecall != null) parts.push(`precision at ${pct(m.atRecall ?? 0.95, 0)} recall ${fixed(m.precisionAtRecall)}`);
  parts.push(`precision ${fixed(m.precision)}`, `recall ${fixed(m.recall)}`, `F1 ${fixed(m.f1)}`);
  if (m.reviewBandShare != null) parts.push(`review band ${pct(m.reviewBandShare)}`);
  parts.push(`on ${m.testCount} test images (${m.anomalous} anomalous)`);
  return parts.join(' · ');
}
