import { type Anomaly, type Defect, type Prisma, type PrismaClient, type WorkOrder } from '../generated/prisma/client';
import { DefectStatus, type Severity } from '../generated/prisma/enums';
import { type Caller } from '../auth/caller';
import { badInput, conflict, notFound } from '../common/errors';
import { rowsByIds } from '../common/pagination/batch';
import { type Connection } from '../common/pagination/connection.type';
import { columnEquals, enumIn } from '../common/pagination/json-model';
import { jsonModelOf } from '../common/pagination/json-models';
import { paginateJson } from '../common/pagination/json-page';
import { byId, type Ordering, type PageLimits, listOrdering } from '../common/pagination/keyset';
import { type PageArgs } from '../common/pagination/page.args';
import { type DefectTracker } from './defect-tracker.service';
import { SEVERITY_ORDER, rank } from './severity';
import { Announcements, lockDevice } from './work-orders';

export const DEFECT_ORDER: Ordering = listOrdering('Defect', [
  { field: 'createdAt', column: 'created_at', kind: 'date', direction: 'desc' },
  byId('desc'),
]);

const DEFECT_JSON = jsonModelOf('defects')!;

export interface DefectQuery {
  deviceId?: string;
  status?: DefectStatus[] | null;
  type?: string;
  minSeverity?: Severity | null;
}

const reasonOf = (reason: string, field = 'reason') => {
  const text = reason.trim();
  if (!text) throw badInput(field, 'say why');
  if (text.length > 1000) throw badInput(field, 'at most 1000 characters');
  return text;
};

/** Defects as people read and act on them: lists, an operator's resolution, a severity override. */
export class DefectService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tracker: DefectTracker,
    private readonly limits: PageLimits,
  ) {}

  /** `fields`: what the query reads of each row (src/graphql/projection.ts); the rows hold only those. */
  list(filter: DefectQuery, page: PageArgs, fields?: readonly string[]): Promise<Connection<Defect>> {
    const severities = filter.minSeverity ? SEVERITY_ORDER.filter((s) => rank(s) >= rank(filter.minSeverity!)) : undefined;
    const where: Prisma.DefectWhereInput = {
      deviceId: filter.deviceId,
      status: filter.status?.length ? { in: filter.status } : undefined,
      type: filter.type,
      severity: severities ? { in: severities } : undefined,
    };
    // The page is read as one JSON text (the same conditions as `where`, which counts), as anomalies are.
    return paginateJson({
      prisma: this.prisma,
      model: DEFECT_JSON,
      page,
      ordering: DEFECT_ORDER,
      limits: this.limits,
      filters: [
        columnEquals('device_id', filter.deviceId, 'uuid'),
        enumIn('status', 'DefectStatus', filter.status ?? undefined),
        columnEquals('type', filter.type, 'text'),
        enumIn('severity', 'Severity', severities),
      ],
      count: () => this.prisma.defect.count({ where }),
      fields,
    });
  }

  async get(id: string): Promise<Defect> {
    return (await this.prisma.defect.findUnique({ where: { id } })) ?? Promise.reject(notFound('Defect', id));
  }

  byIds(ids: readonly string[]): Promise<(Defect | null)[]> {
    return rowsByIds(ids, (in_) => this.prisma.defect.findMany({ where: { id: { in: in_ } } }));
  }

  /** Each defect's work orders, newest first. */
  async workOrdersOf(defectIds: readonly string[]): Promise<WorkOrder[][]> {
    const links = await this.prisma.workOrderDefect.findMany({
      where: { defectId: { in: [...defectIds] } },
      include: { workOrder: true },
      orderBy: [{ workOrder: { createdAt: 'desc' } }, { workOrderId: 'desc' }],
    });
    return defectIds.map((id) => links.filter((l) => l.defectId === id).map((l) => l.workOrder));
  }

  /** An operator closes a defect without waiting for the next inspection; the reason is kept. */
  async resolve(caller: Caller, id: string, reason: string): Promise<Defect> {
    const why = reasonOf(reason);
    const { defect, news } = await this.prisma.$transaction(async (tx) => {
      const db = tx as PrismaClient;
      const found = await db.defect.findUnique({ where: { id } });
      if (!found) throw notFound('Defect', id);
      await lockDevice(db, found.deviceId);
      const d = (await db.defect.findUnique({ where: { id } }))!;
      if (d.status !== DefectStatus.OPEN && d.status !== DefectStatus.FIXED)
        throw conflict('id', `defect ${id} is ${d.status}; only OPEN or FIXED defects can be resolved`);
      const news = new Announcements();
      const resolved = await this.tracker.resolve(db, d, caller.name, why);
      news.defect(resolved, 'RESOLVED');
      await news.record(db);
      return { defect: resolved, news };
    });
    await this.tracker.announce(news);
    return defect;
  }

  /** A reviewer or an operator sets an anomaly's severity instead of the rules; its defect follows. */
  async overrideSeverity(caller: Caller, anomalyId: string, severity: Severity, reason: string): Promise<Anomaly> {
    const why = reasonOf(reason);
    const { anomaly, news } = await this.prisma.$transaction(async (tx) => {
      const db = tx as PrismaClient;
      const found = await db.anomaly.findUnique({ where: { id: anomalyId } });
      if (!found) throw notFound('Anomaly', anomalyId);
      await lockDevice(db, found.deviceId);
      const anomaly = await db.anomaly.update({
        where: { id: anomalyId },
        data: { severityOverride: severity, severityReason: why, severitySetBy: caller.name, severitySetAt: new Date() },
      });
      // The tracker re-rates its defect (and may now plan it by the automatic rule).
      const news = await this.tracker.trackIn(db, anomaly.deviceId);
      await news.record(db);
      return { anomaly, news };
    });
    await this.tracker.announce(news);
    return anomaly;
  }
}
