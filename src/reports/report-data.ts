import pLimit from 'p-limit';
import { type Anomaly, type Defect, type Detection, type Image, type PrismaClient } from '../generated/prisma/client';
import { DetectionStage, ImageStatus } from '../generated/prisma/enums';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { type Box, WHOLE_IMAGE } from '../common/box';
import { type ModelMetrics } from '../models/evaluation';
import {
  type InspectionReport,
  MAX_OBSERVATIONS,
  type ReportAnomaly,
  type ReportDefect,
  type ReportModelUse,
  type ReportPicture,
  type ReportReview,
} from './report-model';
import { type HeatmapSource, renderPicture } from './report-pictures';

// Pictures are decoded and encoded a few at a time: sharp has its own threads, and a survey has many images.
const PICTURE_CONCURRENCY = 4;

type Limit = ReturnType<typeof pLimit>;
type DefectRow = Defect & { observations: (Pick<Anomaly, 'boxWidth' | 'boxHeight' | 'status' | 'inspectionId'> & Sev & Seen)[] };
type Sev = Pick<Anomaly, 'severity' | 'severityOverride'>;
type Seen = { inspection: { capturedAt: Date } };

const effective = (a: Sev) => a.severityOverride ?? a.severity;

/** Every heatmap the image's latest stage-2 detection stored, where each sits in the image. */
function heatmapsOf(detection: Detection | undefined): HeatmapSource[] {
  const pictures = (detection?.result as { pictures?: { heatmapKey?: string | null; frame?: Box }[] } | null)?.pictures ?? [];
  return pictures.filter((p) => p.heatmapKey).map((p) => ({ key: p.heatmapKey!, frame: p.frame ?? { ...WHOLE_IMAGE } }));
}

function modelUses(images: (Image & { detections: Detection[] })[], registered: Map<string, ModelVersionRow>): ReportModelUse[] {
  const uses = new Map<string, ReportModelUse>();
  for (const image of images) {
    for (const d of image.detections) {
      const key = `${d.stage}|${d.detector}|${d.modelVersion}`;
      const use = uses.get(key);
      if (use) use.images++;
      else {
        const row = registered.get(d.modelVersion);
        uses.set(key, {
          stage: d.stage,
          detector: d.detector,
          version: d.modelVersion,
          images: 1,
          metrics: (row?.metrics as ModelMetrics | null) ?? null,
          trainedAt: row?.finishedAt ?? null,
        });
      }
    }
  }
  return [...uses.values()].sort((a, b) => a.stage.localeCompare(b.stage) || a.version.localeCompare(b.version));
}

type ModelVersionRow = { version: string | null; metrics: unknown; finishedAt: Date | null };

function toDefect(row: DefectRow, label: string, inspectionId: string): ReportDefect {
  return {
    label,
    type: row.type,
    status: row.status,
    severity: row.severity,
    confirmed: row.confirmed,
    firstSeenAt: row.firstSeenAt,
    lastSeenAt: row.lastSeenAt,
    observationCount: row.observationCount,
    firstArea: row.firstArea,
    lastArea: row.lastArea,
    reopenCount: row.reopenCount,
    resolution: row.resolution,
    observations: [...row.observations].reverse().map((o) => ({
      at: o.inspection.capturedAt,
      areaShare: o.boxWidth * o.boxHeight,
      severity: effective(o),
      status: o.status,
      here: o.inspectionId === inspectionId,
    })),
  };
}

function toAnomaly(a: Anomaly, n: number, defect: ReportDefect | null): ReportAnomaly {
  return {
    n,
    type: a.type,
    confidence: a.confidence,
    status: a.status,
    source: a.source,
    severity: effective(a),
    ruleSeverity: a.severity,
    override: a.severityOverride ? { reason: a.severityReason ?? '', by: a.severitySetBy ?? '', at: a.severitySetAt ?? a.updatedAt } : null,
    box: { x: a.boxX, y: a.boxY, width: a.boxWidth, height: a.boxHeight },
    defect,
  };
}

const UNJUDGED: Partial<Record<ImageStatus, string>> = {
  [ImageStatus.PENDING_UPLOAD]: 'never uploaded',
  [ImageStatus.UPLOADING]: 'upload in progress',
  [ImageStatus.UPLOADED]: 'uploaded, never checked',
};

/** Reads what a report needs about one inspection; pictures are rendered by `limit`, shared across a survey. */
export class ReportData {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly store: ObjectStore,
  ) {}

  newLimit(): Limit {
    return pLimit(PICTURE_CONCURRENCY);
  }

  async inspection(inspectionId: string, limit: Limit = this.newLimit()): Promise<InspectionReport> {
    const { prisma } = this;
    const inspection = await prisma.inspection.findUniqueOrThrow({
      where: { id: inspectionId },
      include: { device: true, workflowRuns: { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 1 } },
    });
    const images = await prisma.image.findMany({
      where: { inspectionId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      include: {
        detections: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
        runImages: { orderBy: { createdAt: 'desc' }, take: 1, select: { outcome: true } },
      },
    });
    const anomalies = await prisma.anomaly.findMany({ where: { inspectionId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    const defects = await this.defects(anomalies, inspectionId);
    const versions = [...new Set(images.flatMap((i) => i.detections.map((d) => d.modelVersion)))];
    const registered = await prisma.modelVersion.findMany({
      where: { version: { in: versions }, status: 'TRAINED' },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { version: true, metrics: true, finishedAt: true },
    });
    const run = inspection.workflowRuns[0];
    const ready = images.filter((i) => i.status === ImageStatus.READY);
    let n = 0;
    const pictures = await Promise.all(
      ready.map((image) => {
        const own = anomalies
          .filter((a) => a.imageId === image.id)
          .map((a) => toAnomaly(a, ++n, a.defectId ? defects.get(a.defectId)! : null));
        return limit(() => this.picture(image, own));
      }),
    );
    return {
      device: inspection.device,
      inspection: {
        status: inspection.status,
        source: inspection.source,
        capturedAt: inspection.capturedAt,
        requestedBy: inspection.requestedBy,
        notes: inspection.notes,
        finishedAt: run?.finishedAt ?? null,
        failure: run?.status === 'FAILED' ? [run.error, run.cause].filter(Boolean).join(': ') : null,
      },
      pictures,
      unjudged: images
        .filter((i) => i.status !== ImageStatus.READY)
        .map((i) => ({ filename: i.filename ?? 'unnamed', reason: i.rejectionMessage ?? UNJUDGED[i.status] ?? i.status })),
      models: modelUses(images, new Map(registered.map((r) => [r.version!, r]))),
      reviews: await this.reviews(inspectionId),
      defects: [...defects.values()],
    };
  }

  private async picture(image: Image & { detections: Detection[]; runImages: { outcome: string }[] }, anomalies: ReportAnomaly[]) {
    const inspect = image.detections.filter((d) => d.stage === DetectionStage.INSPECT).at(-1);
    const heatmaps = heatmapsOf(inspect);
    const rendered = await renderPicture(this.store, image.normalizedKey ?? image.objectKey, heatmaps);
    const picture: ReportPicture = {
      filename: image.filename ?? 'unnamed',
      capturedAt: image.capturedAt,
      width: image.width,
      height: image.height,
      outcome: image.runImages[0]?.outcome ?? null,
      ...rendered,
      heatmapModel: rendered.heatmap ? (inspect?.modelVersion ?? null) : null,
      anomalies,
    };
    return picture;
  }

  /** The defects the inspection's anomalies belong to, labelled D1, D2… in order of appearance, with their latest observations. */
  private async defects(anomalies: Anomaly[], inspectionId: string): Promise<Map<string, ReportDefect>> {
    const ids = [...new Set(anomalies.map((a) => a.defectId).filter((id): id is string => !!id))];
    const rows = await this.prisma.defect.findMany({
      where: { id: { in: ids } },
      include: {
        observations: {
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take: MAX_OBSERVATIONS,
          select: {
            boxWidth: true,
            boxHeight: true,
            status: true,
            inspectionId: true,
            severity: true,
            severityOverride: true,
            inspection: { select: { capturedAt: true } },
          },
        },
      },
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return new Map(ids.map((id, i) => [id, toDefect(byId.get(id)!, `D${i + 1}`, inspectionId)]));
  }

  private async reviews(inspectionId: string): Promise<ReportReview[]> {
    const tasks = await this.prisma.reviewTask.findMany({
      where: { inspectionId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      include: {
        image: { select: { filename: true } },
        answers: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], include: { apiKey: { select: { name: true, prefix: true } } } },
      },
    });
    return tasks.map((t) => ({
      image: t.image.filename ?? 'unnamed',
      reason: t.reason,
      status: t.status,
      verdict: t.verdict,
      completedAt: t.completedAt,
      answers: t.answers.map((a) => ({
        reviewer: a.apiKey ? `${a.apiKey.name} (key ${a.apiKey.prefix}…)` : a.reviewer,
        verdict: a.verdict,
        at: a.createdAt,
        comment: a.comment,
      })),
    }));
  }
}
