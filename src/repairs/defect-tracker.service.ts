import { type Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { type Anomaly, type Defect, type PrismaClient } from '../generated/prisma/client';
import { AnomalyStatus, DefectStatus, ReviewTaskStatus, Severity } from '../generated/prisma/enums';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { type Box } from '../common/box';
import { type DeviceService } from '../devices/device.service';
import { ANY, maxSeverity, rank, rate, rulesFor } from './severity';
import { Announcements, insertWorkOrder, lockDevice } from './work-orders';

/** A new anomaly overlapping an open defect of its type by at least this IoU is that defect again. */
export const IOU_THRESHOLD = 0.3;
export const LIVE_ANOMALY: AnomalyStatus[] = [AnomalyStatus.SUSPECTED, AnomalyStatus.CONFIRMED];
const TRACKED: DefectStatus[] = [DefectStatus.OPEN, DefectStatus.FIXED];
const OPEN_REVIEW: ReviewTaskStatus[] = [ReviewTaskStatus.PENDING, ReviewTaskStatus.CLAIMED, ReviewTaskStatus.EXPIRED];

type Observation = Anomaly & { inspection: { capturedAt: Date } };
/** An observation linked to its defect, with the severity the rules gave it. */
type Link = { anomalyId: string; defectId: string; severity: Severity };

/** Links observations to their defects in one statement. */
async function linkObservations(db: PrismaClient, links: Link[]): Promise<void> {
  if (!links.length) return;
  await db.$executeRaw`UPDATE anomalies a SET defect_id = v.defect_id, severity = v.severity::"Severity", updated_at = ${new Date()}
    FROM unnest(${links.map((l) => l.anomalyId)}::uuid[], ${links.map((l) => l.defectId)}::uuid[], ${links.map((l) => l.severity)}::text[])
      AS v(id, defect_id, severity)
    WHERE a.id = v.id`;
}

const boxOf = (a: { boxX: number; boxY: number; boxWidth: number; boxHeight: number }): Box => ({
  x: a.boxX,
  y: a.boxY,
  width: a.boxWidth,
  height: a.boxHeight,
});

export function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const union = a.width * a.height + b.width * b.height - w * h;
  return union > 0 ? (w * h) / union : 0;
}

export const effectiveSeverity = (a: Anomaly): Severity => a.severityOverride ?? a.severity ?? Severity.LOW;

export interface TrackerDeps {
  prisma: PrismaClient;
  devices: DeviceService;
  events: EventBus;
  log: Logger;
}

/**
 * Follows each device's anomalies as defects: rates new anomalies, links one that overlaps an open
 * defect of its type to it (a repeat observation) or opens a defect, reopens a fixed defect seen
 * again, resolves a fixed one the next inspection no longer shows, and applies the automatic
 * work-order rule. One transaction per device under the device's row lock, so it can run again at
 * any time (a retried workflow step, a second instance) and finds nothing left to do.
 */
export class DefectTracker {
  constructor(private readonly deps: TrackerDeps) {}

  /** `completingInspectionId`: an inspection whose run is finishing, counted as COMPLETED when fixes are verified. */
  async track(deviceId: string, completingInspectionId?: string): Promise<void> {
    const news = await this.deps.prisma.$transaction(
      async (tx) => {
        const news = await this.trackIn(tx as PrismaClient, deviceId, undefined, completingInspectionId);
        await news.record(tx as PrismaClient);
        return news;
      },
      { timeout: 30_000 },
    );
    await this.announce(news);
  }

  /** Publishes what a committed change announces and recomputes the status of the devices it touched. */
  async announce(news: Announcements): Promise<void> {
    await news.publish(this.deps.events);
    for (const deviceId of news.deviceIds) await this.deps.devices.announceStatus(deviceId);
  }

  async trackIn(db: PrismaClient, deviceId: string, news = new Announcements(), completingInspectionId?: string): Promise<Announcements> {
    if (!(await lockDevice(db, deviceId))) return news;
    const device = await db.device.findUniqueOrThrow({ where: { id: deviceId } });
    const rules = rulesFor(await db.severityRule.findMany(), device.type);
    // A reviewer renamed an observation: it leaves its defect and is linked again below.
    await db.$executeRaw`UPDATE anomalies a SET defect_id = NULL FROM defects d
      WHERE a.defect_id = d.id AND a.device_id = ${deviceId}::uuid AND a.type <> d.type AND a.status IN ('SUSPECTED', 'CONFIRMED')`;
    const fresh: Observation[] = await db.anomaly.findMany({
      where: { deviceId, defectId: null, status: { in: LIVE_ANOMALY } },
      include: { inspection: { select: { capturedAt: true } } },
      orderBy: [{ inspection: { capturedAt: 'asc' } }, { createdAt: 'asc' }, { id: 'asc' }],
    });
    const defects = await db.defect.findMany({ where: { deviceId, status: { in: TRACKED } } });
    const touched = new Set<string>();
    const links: Link[] = [];
    // New defects are drafts (their ids made here) until one statement inserts them all below.
    const drafts = new Map<string, Defect>();
    for (const a of fresh) {
      const severity = a.severity ?? rate(rules, a);
      const match = this.bestMatch(defects, a);
      let defect: Defect;
      if (match) {
        defect = match;
        if (match.status === DefectStatus.FIXED && match.fixedAt && a.inspection.capturedAt > match.fixedAt) {
          defect = await this.reopen(db, match, a, news);
          defects[defects.indexOf(match)] = defect;
        }
      } else {
        defect = this.draft(a, severity);
        drafts.set(defect.id, defect);
        defects.push(defect);
        news.defect(defect, 'OPENED');
      }
      links.push({ anomalyId: a.id, defectId: defect.id, severity });
      touched.add(defect.id);
      if (match) news.defect(defect, 'OBSERVED');
    }
    if (drafts.size) {
      const created = await db.defect.createManyAndReturn({ data: [...drafts.values()].map(({ createdAt, updatedAt, ...d }) => d) });
      for (const row of created) {
        defects[defects.findIndex((d) => d.id === row.id)] = row;
        news.defect(row, 'OPENED');
      }
    }
    await linkObservations(db, links);
    const recomputed = await this.recomputeAll(db, defects);
    for (const [i, d] of defects.entries()) {
      const updated = recomputed[i];
      if (updated && (touched.has(d.id) || updated.status !== d.status || updated.severity !== d.severity))
        news.defect(updated, updated.status === DefectStatus.DISMISSED ? 'DISMISSED' : 'RATED');
    }
    await this.verifyFixes(db, deviceId, news, completingInspectionId);
    await this.autoWorkOrders(db, device.type, deviceId, news);
    return news;
  }

  private bestMatch(defects: Defect[], a: Observation): Defect | null {
    let best: Defect | null = null;
    let bestIou = IOU_THRESHOLD;
    for (const d of defects) {
      if (d.type !== a.type || !TRACKED.includes(d.status)) continue;
      const overlap = iou(boxOf(d), boxOf(a));
      if (overlap >= bestIou) [best, bestIou] = [d, overlap];
    }
    return best;
  }

  /** The defect a first observation opens, as it will be inserted (with its time-ordered id). */
  private draft(a: Observation, severity: Severity): Defect {
    const area = a.boxWidth * a.boxHeight;
    const now = new Date();
    return {
      id: uuidv7(),
      deviceId: a.deviceId,
      type: a.type,
      status: DefectStatus.OPEN,
      severity: a.severityOverride ?? severity,
      confirmed: a.status === AnomalyStatus.CONFIRMED,
      confidence: a.confidence,
      firstSeenAt: a.inspection.capturedAt,
      lastSeenAt: a.inspection.capturedAt,
      observationCount: 1,
      firstArea: area,
      lastArea: area,
      boxX: a.boxX,
      boxY: a.boxY,
      boxWidth: a.boxWidth,
      boxHeight: a.boxHeight,
      fixedAt: null,
      resolvedAt: null,
      resolvedBy: null,
      resolution: null,
      reopenCount: 0,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** A fixed defect seen again after the fix: open again, and the work order that fixed it is flagged. */
  private async reopen(db: PrismaClient, d: Defect, a: Observation, news: Announcements): Promise<Defect> {
    const reopened = await db.defect.update({
      where: { id: d.id },
      data: { status: DefectStatus.OPEN, fixedAt: null, reopenCount: { increment: 1 } },
    });
    const reason = `defect ${d.id} (${d.type}) was seen again in inspection ${a.inspectionId} after it was fixed`;
    const fixedBy = await db.workOrderDefect.findFirst({
      where: { defectId: d.id, finding: { in: ['FIXED', 'DIFFERENT_PROBLEM'] } },
      orderBy: { workOrder: { completedAt: 'desc' } },
    });
    if (fixedBy) {
      const order = await db.workOrder.update({ where: { id: fixedBy.workOrderId }, data: { flagged: true, flagReason: reason } });
      news.order(order, 'FLAGGED');
    }
    news.defect(reopened, 'REOPENED');
    return reopened;
  }

  /**
   * Severity, confidence, first/last seen and the growth of each defect from the observations no one rejected (read in
   * one statement for all); none left dismisses an open one. A defect whose figures did not change is not written.
   */
  private async recomputeAll(db: PrismaClient, defects: Defect[]): Promise<(Defect | null)[]> {
    if (!defects.length) return [];
    const seen: Observation[] = await db.anomaly.findMany({
      where: { defectId: { in: defects.map((d) => d.id) }, status: { not: AnomalyStatus.REJECTED } },
      include: { inspection: { select: { capturedAt: true } } },
      orderBy: [{ inspection: { capturedAt: 'asc' } }, { createdAt: 'asc' }, { id: 'asc' }],
    });
    const byDefect = new Map<string, Observation[]>();
    for (const a of seen) {
      const list = byDefect.get(a.defectId!);
      if (list) list.push(a);
      else byDefect.set(a.defectId!, [a]);
    }
    const out: (Defect | null)[] = [];
    for (const d of defects) out.push(await this.recompute(db, d, byDefect.get(d.id) ?? []));
    return out;
  }

  private async recompute(db: PrismaClient, d: Defect, seen: Observation[]): Promise<Defect | null> {
    if (!seen.length) {
      if (d.status !== DefectStatus.OPEN) return null;
      return db.defect.update({
        where: { id: d.id },
        data: {
          status: DefectStatus.DISMISSED,
          resolvedAt: new Date(),
          resolvedBy: 'reviewers',
          resolution: 'every observation was rejected',
        },
      });
    }
    const first = seen[0];
    const last = seen[seen.length - 1];
    const figures = {
      severity: seen.map(effectiveSeverity).reduce(maxSeverity),
      confirmed: seen.some((a) => a.status === AnomalyStatus.CONFIRMED || a.status === AnomalyStatus.RESOLVED),
      confidence: Math.max(...seen.map((a) => a.confidence)),
      observationCount: seen.length,
      firstSeenAt: first.inspection.capturedAt,
      lastSeenAt: last.inspection.capturedAt,
      firstArea: first.boxWidth * first.boxHeight,
      lastArea: last.boxWidth * last.boxHeight,
      boxX: last.boxX,
      boxY: last.boxY,
      boxWidth: last.boxWidth,
      boxHeight: last.boxHeight,
    };
    const same = (Object.keys(figures) as (keyof typeof figures)[]).every((k) => {
      const [now, was] = [figures[k], d[k]];
      return now instanceof Date && was instanceof Date ? now.getTime() === was.getTime() : now === was;
    });
    return same ? d : db.defect.update({ where: { id: d.id }, data: figures });
  }

  /** A fixed defect is resolved by the first completed inspection after the fix that shows nothing there and waits for no review. */
  private async verifyFixes(db: PrismaClient, deviceId: string, news: Announcements, completing?: string): Promise<void> {
    const fixed = await db.defect.findMany({ where: { deviceId, status: DefectStatus.FIXED, fixedAt: { not: null } } });
    for (const d of fixed) {
      const after = await db.inspection.findFirst({
        where: {
          deviceId,
          OR: [{ status: 'COMPLETED' }, ...(completing ? [{ id: completing }] : [])],
          capturedAt: { gt: d.fixedAt! },
          reviewTasks: { none: { status: { in: OPEN_REVIEW } } },
        },
        orderBy: [{ capturedAt: 'asc' }, { id: 'asc' }],
      });
      if (!after) continue;
      news.defect(
        await this.resolve(db, d, `inspection ${after.id}`, `the inspection of ${after.capturedAt.toISOString()} shows nothing there`),
        'RESOLVED',
      );
    }
  }

  /** RESOLVED, with its live observations. */
  async resolve(db: PrismaClient, d: Defect, by: string, reason: string): Promise<Defect> {
    await db.anomaly.updateMany({ where: { defectId: d.id, status: { in: LIVE_ANOMALY } }, data: { status: AnomalyStatus.RESOLVED } });
    await db.workOrderDefect.updateMany({ where: { defectId: d.id, active: true }, data: { active: false } });
    return db.defect.update({
      where: { id: d.id },
      data: { status: DefectStatus.RESOLVED, resolvedAt: new Date(), resolvedBy: by.slice(0, 200), resolution: reason.slice(0, 1000) },
    });
  }

  /** The device type's rule (or "*"): a work order for each confirmed open defect at least that severe and not planned yet. */
  private async autoWorkOrders(db: PrismaClient, deviceType: string, deviceId: string, news: Announcements): Promise<void> {
    const rules = await db.autoWorkOrderRule.findMany({ where: { deviceType: { in: [deviceType, ANY] } } });
    const rule = rules.find((r) => r.deviceType === deviceType) ?? rules.find((r) => r.deviceType === ANY);
    if (!rule?.enabled) return;
    const due = await db.defect.findMany({
      where: { deviceId, status: DefectStatus.OPEN, confirmed: true, workOrders: { none: { active: true } } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    for (const d of due.filter((x) => rank(x.severity) >= rank(rule.minSeverity))) {
      const key = `auto:${d.id}:${d.reopenCount}`;
      if (await db.workOrder.findUnique({ where: { idempotencyKey: key } })) continue;
      const order = await insertWorkOrder(db, {
        deviceId,
        defectIds: [d.id],
        priority: rule.priority,
        dueAt: rule.dueInDays ? new Date(Date.now() + rule.dueInDays * 86_400_000) : null,
        idempotencyKey: key,
        automatic: true,
        createdBy: `rule:${rule.deviceType}`,
        notes: `created by the automatic rule for ${rule.deviceType}: confirmed and at least ${rule.minSeverity}`,
      });
      news.order(order, 'CREATED');
    }
  }
}
