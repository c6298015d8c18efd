import { type Logger } from 'pino';
import { type Defect, type PrismaClient, type WorkOrder } from '../generated/prisma/client';
import { AnomalyStatus, DefectStatus, FieldFinding, ReviewVerdict } from '../generated/prisma/enums';
import { badInput } from '../common/errors';
import { type DatasetService, type LabelledRegion } from '../datasets/dataset.service';
import { LIVE_ANOMALY } from './defect-tracker.service';
import { type Announcements } from './work-orders';

export interface FieldReport {
  defectId: string;
  finding: FieldFinding;
  correctedType?: string | null;
  note?: string | null;
}

export interface FieldReportDeps {
  datasets: DatasetService;
  /** The anomaly types a DIFFERENT_PROBLEM may name (ANOMALY_TYPES). */
  anomalyTypes: string[];
  log: Logger;
}

const boxOf = (a: { boxX: number; boxY: number; boxWidth: number; boxHeight: number }) => ({
  x: a.boxX,
  y: a.boxY,
  width: a.boxWidth,
  height: a.boxHeight,
});

/**
 * What a crew found comes back: FIXED waits for the next inspection, NOTHING_FOUND dismisses the
 * defect and labels its latest image NORMAL, DIFFERENT_PROBLEM corrects its type and labels the image
 * with it. Runs inside the completion's transaction, so the labels are written exactly once.
 */
export class FieldReports {
  constructor(private readonly deps: FieldReportDeps) {}

  /** Applies the findings; returns the datasets whose manifests must be rewritten. */
  async apply(db: PrismaClient, order: WorkOrder, findings: FieldReport[], news: Announcements): Promise<string[]> {
    const links = await db.workOrderDefect.findMany({ where: { workOrderId: order.id }, include: { defect: true } });
    this.check(
      links.map((l) => l.defectId),
      findings,
    );
    const device = await db.device.findUniqueOrThrow({ where: { id: order.deviceId } });
    const datasetIds = new Set<string>();
    for (const f of findings) {
      const defect = links.find((l) => l.defectId === f.defectId)!.defect;
      const entryId = await this.applyOne(db, defect, device.type, f, order, news, datasetIds);
      await db.workOrderDefect.update({
        where: { workOrderId_defectId: { workOrderId: order.id, defectId: f.defectId } },
        data: { active: false, finding: f.finding, correctedType: f.correctedType ?? null, note: f.note ?? null, datasetEntryId: entryId },
      });
    }
    return [...datasetIds];
  }

  private check(planned: string[], findings: FieldReport[]) {
    const seen = new Set<string>();
    for (const [i, f] of findings.entries()) {
      const field = `findings[${i}]`;
      if (!planned.includes(f.defectId)) throw badInput(`${field}.defectId`, `defect ${f.defectId} is not part of this work order`);
      if (seen.has(f.defectId)) throw badInput(`${field}.defectId`, `defect ${f.defectId} has two findings`);
      seen.add(f.defectId);
      if (f.finding === FieldFinding.DIFFERENT_PROBLEM) {
        if (!f.correctedType) throw badInput(`${field}.correctedType`, 'DIFFERENT_PROBLEM needs the type the crew found');
        if (!this.deps.anomalyTypes.includes(f.correctedType))
          throw badInput(`${field}.correctedType`, `"${f.correctedType}" is not one of ${this.deps.anomalyTypes.join(', ')}`);
      } else if (f.correctedType) {
        throw badInput(`${field}.correctedType`, 'only a DIFFERENT_PROBLEM has a corrected type');
      }
    }
    const missing = planned.filter((id) => !seen.has(id));
    if (missing.length) throw badInput('findings', `say what the crew found at every defect; missing: ${missing.join(', ')}`);
  }

  private async applyOne(
    db: PrismaClient,
    defect: Defect,
    deviceType: string,
    f: FieldReport,
    order: WorkOrder,
    news: Announcements,
    datasetIds: Set<string>,
  ): Promise<string | null> {
    const live = defect.status === DefectStatus.OPEN || defect.status === DefectStatus.FIXED;
    const latest = await db.anomaly.findFirst({
      where: { defectId: defect.id, status: { in: LIVE_ANOMALY } },
      orderBy: [{ inspection: { capturedAt: 'desc' } }, { createdAt: 'desc' }, { id: 'desc' }],
    });
    const now = new Date();
    let regions: LabelledRegion[] | null = null;
    if (f.finding === FieldFinding.NOTHING_FOUND) {
      await db.anomaly.updateMany({
        where: { defectId: defect.id, status: { in: LIVE_ANOMALY } },
        data: { status: AnomalyStatus.REJECTED },
      });
      if (live) {
        const dismissed = await db.defect.update({
          where: { id: defect.id },
          data: {
            status: DefectStatus.DISMISSED,
            resolvedAt: now,
            resolvedBy: `work order ${order.id}`,
            resolution: 'nothing found in the field',
          },
        });
        news.defect(dismissed, 'DISMISSED');
      }
      if (latest) regions = [];
    } else {
      const type = f.finding === FieldFinding.DIFFERENT_PROBLEM ? f.correctedType! : defect.type;
      await db.anomaly.updateMany({
        where: { defectId: defect.id, status: { in: LIVE_ANOMALY } },
        data: { status: AnomalyStatus.CONFIRMED, type },
      });
      if (live) {
        const fixed = await db.defect.update({
          where: { id: defect.id },
          data: { status: DefectStatus.FIXED, fixedAt: now, type, confirmed: true },
        });
        news.defect(fixed, f.finding === FieldFinding.DIFFERENT_PROBLEM ? 'RETYPED' : 'FIXED');
      }
      if (latest && f.finding === FieldFinding.DIFFERENT_PROBLEM) regions = [{ box: boxOf(latest), type }];
    }
    if (!latest || !regions) return null;
    // Whatever else is open on the same image stays in its label.
    const others = await db.anomaly.findMany({
      where: { imageId: latest.imageId, status: { in: LIVE_ANOMALY }, OR: [{ defectId: null }, { defectId: { not: defect.id } }] },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    const all = [...others.map((a) => ({ box: boxOf(a), type: a.type })), ...regions];
    const entry = await this.deps.datasets.recordEntry(db, {
      deviceType,
      imageId: latest.imageId,
      reviewTaskId: null,
      label: all.length ? ReviewVerdict.ANOMALOUS : ReviewVerdict.NORMAL,
      regions: all,
    });
    datasetIds.add(entry.datasetId);
    return entry.id;
  }

  /** The manifests of the datasets that got labels: repeatable, a failure loses no label. */
  async publish(datasetIds: string[]): Promise<void> {
    for (const datasetId of datasetIds) {
      await this.deps.datasets.publish(datasetId).catch((err) => {
        this.deps.log.error({ err, datasetId }, 'dataset manifest not published; it is retried at the next label or start-up');
      });
    }
  }
}
