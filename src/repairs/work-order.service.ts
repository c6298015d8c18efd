import { type Defect, type Prisma, type PrismaClient, type WorkOrder, type WorkOrderDefect } from '../generated/prisma/client';
import { DefectStatus, WorkOrderStatus } from '../generated/prisma/enums';
import { type Caller } from '../auth/caller';
import { badInput, conflict, notFound } from '../common/errors';
import { rowsByIds } from '../common/pagination/batch';
import { type Connection } from '../common/pagination/connection.type';
import { byId, type Ordering, type PageLimits, paginate, listOrdering } from '../common/pagination/keyset';
import { type PageArgs } from '../common/pagination/page.args';
import { isUniqueViolation } from '../db/prisma-errors';
import { type DefectTracker } from './defect-tracker.service';
import { type FieldReport, type FieldReports } from './field-report.service';
import { Announcements, insertWorkOrder, lockDevice, NEXT_STATUSES, type NewWorkOrder } from './work-orders';

export const WORK_ORDER_ORDER: Ordering = listOrdering('WorkOrder', [
  { field: 'createdAt', column: 'created_at', kind: 'date', direction: 'desc' },
  byId('desc'),
]);

export interface WorkOrderQuery {
  deviceId?: string;
  status?: WorkOrderStatus[] | null;
  flagged?: boolean;
}

export interface WorkOrderPlan {
  defectIds: string[];
  priority?: NewWorkOrder['priority'];
  dueAt?: Date | null;
  assignee?: string | null;
  notes?: string | null;
  idempotencyKey?: string | null;
}

export type WorkOrderEdit = Omit<WorkOrderPlan, 'defectIds' | 'idempotencyKey'>;

function checkDue(dueAt: Date | null | undefined) {
  if (dueAt && dueAt.getTime() <= Date.now())
    throw badInput('dueAt', `${dueAt.toISOString()} is in the past; a due date must be in the future`);
}

function checkNote(note: string | null | undefined) {
  if (note && note.length > 1000) throw badInput('note', 'at most 1000 characters');
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

/** Work orders: planned from open defects of one device, moved along the status flow, completed with the crew's findings. */
export class WorkOrderService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tracker: DefectTracker,
    private readonly field: FieldReports,
    private readonly limits: PageLimits,
  ) {}

  list(filter: WorkOrderQuery, page: PageArgs): Promise<Connection<WorkOrder>> {
    const where: Prisma.WorkOrderWhereInput = {
      deviceId: filter.deviceId,
      status: filter.status?.length ? { in: filter.status } : undefined,
      flagged: filter.flagged ?? undefined,
    };
    return paginate({
      page,
      ordering: WORK_ORDER_ORDER,
      limits: this.limits,
      where,
      find: (q) => this.prisma.workOrder.findMany(q),
      count: (w) => this.prisma.workOrder.count({ where: w }),
    });
  }

  async get(id: string): Promise<WorkOrder> {
    return (await this.prisma.workOrder.findUnique({ where: { id } })) ?? Promise.reject(notFound('WorkOrder', id));
  }

  byIds(ids: readonly string[]): Promise<(WorkOrder | null)[]> {
    return rowsByIds(ids, (in_) => this.prisma.workOrder.findMany({ where: { id: { in: in_ } } }));
  }

  async defectsOf(ids: readonly string[]): Promise<(WorkOrderDefect & { defect: Defect })[][]> {
    const rows = await this.prisma.workOrderDefect.findMany({
      where: { workOrderId: { in: [...ids] } },
      include: { defect: true },
      orderBy: [{ defect: { createdAt: 'asc' } }, { defectId: 'asc' }],
    });
    return ids.map((id) => rows.filter((r) => r.workOrderId === id));
  }

  async transitionsOf(ids: readonly string[]) {
    const rows = await this.prisma.workOrderTransition.findMany({
      where: { workOrderId: { in: [...ids] } },
      orderBy: [{ at: 'asc' }, { id: 'asc' }],
    });
    return ids.map((id) => rows.filter((r) => r.workOrderId === id));
  }

  /**
   * A work order for open defects of one device. A retry with the same idempotency key returns the
   * first work order; the same key for other defects is a CONFLICT.
   */
  async create(caller: Caller, plan: WorkOrderPlan): Promise<WorkOrder> {
    const defectIds = [...new Set(plan.defectIds)];
    if (!defectIds.length) throw badInput('defectIds', 'name at least one defect');
    checkDue(plan.dueAt);
    const key = plan.idempotencyKey ?? null;
    const earlier = key ? await this.byKey(key, defectIds) : null;
    if (earlier) return earlier;
    let news: Announcements;
    let order: WorkOrder;
    try {
      ({ order, news } = await this.prisma.$transaction((tx) => this.createIn(tx as PrismaClient, caller, defectIds, plan)));
    } catch (err) {
      // A concurrent twin with the same key won the race: answer with its work order.
      const winner = key && isUniqueViolation(err) ? await this.byKey(key, defectIds) : null;
      if (winner) return winner;
      if (isUniqueViolation(err))
        throw conflict('defectIds', 'a defect of this work order was planned in another work order at the same time');
      throw err;
    }
    await this.tracker.announce(news);
    return order;
  }

  private async byKey(key: string, defectIds: string[], db = this.prisma): Promise<WorkOrder | null> {
    const found = await db.workOrder.findUnique({ where: { idempotencyKey: key }, include: { defects: true } });
    if (!found) return null;
    if (
      !sameSet(
        found.defects.map((d) => d.defectId),
        defectIds,
      )
    )
      throw conflict('idempotencyKey', `idempotency key "${key}" was already used for a work order of other defects`);
    const { defects: _, ...order } = found;
    return order;
  }

  private async createIn(db: PrismaClient, caller: Caller, defectIds: string[], plan: WorkOrderPlan) {
    const defects = await db.defect.findMany({ where: { id: { in: defectIds } } });
    const missing = defectIds.find((id) => !defects.some((d) => d.id === id));
    if (missing) throw notFound('Defect', missing);
    const deviceId = defects[0].deviceId;
    if (defects.some((d) => d.deviceId !== deviceId))
      throw badInput('defectIds', 'the defects of one work order must all be on one device');
    await lockDevice(db, deviceId);
    // A twin request that held the lock first has committed its work order by now.
    const twin = plan.idempotencyKey ? await this.byKey(plan.idempotencyKey, defectIds, db) : null;
    if (twin) return { order: twin, news: new Announcements() };
    const current = await db.defect.findMany({ where: { id: { in: defectIds } }, include: { workOrders: { where: { active: true } } } });
    for (const d of current) {
      if (d.status !== DefectStatus.OPEN) throw conflict('defectIds', `defect ${d.id} is ${d.status}; only OPEN defects can be planned`);
      if (d.workOrders.length)
        throw conflict('defectIds', `defect ${d.id} is already planned in work order ${d.workOrders[0].workOrderId}`);
    }
    const order = await insertWorkOrder(db, { ...plan, deviceId, defectIds, automatic: false, createdBy: caller.name });
    const news = new Announcements();
    news.order(order, 'CREATED');
    await news.record(db);
    return { order, news };
  }

  /** Priority, due date, assignee, notes; not once DONE or CANCELLED. */
  async update(id: string, edit: WorkOrderEdit): Promise<WorkOrder> {
    checkDue(edit.dueAt);
    if (edit.priority === null) throw badInput('priority', 'a work order always has a priority; omit it to keep the current one');
    const news = new Announcements();
    const order = await this.prisma.$transaction(async (tx) => {
      const db = tx as PrismaClient;
      const current = await this.lock(db, id);
      if (!NEXT_STATUSES[current.status].length) throw conflict('id', `work order ${id} is ${current.status}; it can no longer be changed`);
      const data = Object.fromEntries(Object.entries(edit).filter(([, v]) => v !== undefined));
      const order = await db.workOrder.update({ where: { id }, data });
      news.order(order, 'UPDATED');
      await news.record(db);
      return order;
    });
    await this.tracker.announce(news);
    return order;
  }

  /** One step of the flow, recorded with who and when; a step out of order is a CONFLICT. */
  async transition(caller: Caller, id: string, to: WorkOrderStatus, note?: string | null): Promise<WorkOrder> {
    if (to === WorkOrderStatus.DONE) throw badInput('status', 'use completeWorkOrder, with what the crew found, to finish a work order');
    checkNote(note);
    const news = new Announcements();
    const order = await this.prisma.$transaction(async (tx) => {
      const db = tx as PrismaClient;
      const current = await this.lock(db, id);
      if (!NEXT_STATUSES[current.status].includes(to)) {
        const allowed = NEXT_STATUSES[current.status];
        throw conflict(
          'status',
          `work order ${id} is ${current.status}; it can move to ${allowed.length ? allowed.join(' or ') : 'nothing'}, not ${to}`,
        );
      }
      await db.workOrderTransition.create({
        data: { workOrderId: id, fromStatus: current.status, toStatus: to, by: caller.name, note: note ?? null },
      });
      if (to === WorkOrderStatus.CANCELLED) await db.workOrderDefect.updateMany({ where: { workOrderId: id }, data: { active: false } });
      const order = await db.workOrder.update({ where: { id }, data: { status: to } });
      news.order(order, 'STATUS');
      await news.record(db);
      return order;
    });
    await this.tracker.announce(news);
    return order;
  }

  /** IN_PROGRESS → DONE with a finding for every defect; the labels reach the training dataset exactly once. */
  async complete(caller: Caller, id: string, findings: FieldReport[], note?: string | null): Promise<WorkOrder> {
    checkNote(note);
    const { order, news, datasetIds } = await this.prisma.$transaction(
      async (tx) => {
        const db = tx as PrismaClient;
        const current = await this.lock(db, id);
        if (current.status !== WorkOrderStatus.IN_PROGRESS)
          throw conflict('id', `work order ${id} is ${current.status}; only an IN_PROGRESS work order can be completed`);
        const news = new Announcements();
        const datasetIds = await this.field.apply(db, current, findings, news);
        await db.workOrderTransition.create({
          data: { workOrderId: id, fromStatus: current.status, toStatus: WorkOrderStatus.DONE, by: caller.name, note: note ?? null },
        });
        const order = await db.workOrder.update({ where: { id }, data: { status: WorkOrderStatus.DONE, completedAt: new Date() } });
        news.order(order, 'COMPLETED');
        await news.record(db);
        return { order, news, datasetIds };
      },
      { timeout: 30_000 },
    );
    await this.tracker.announce(news);
    await this.field.publish(datasetIds);
    return order;
  }

  /** The work order under its device's lock and its own, so completions and transitions take turns. */
  private async lock(db: PrismaClient, id: string): Promise<WorkOrder> {
    const found = await db.workOrder.findUnique({ where: { id } });
    if (!found) throw notFound('WorkOrder', id);
    await lockDevice(db, found.deviceId);
    await db.$queryRaw`SELECT id FROM work_orders WHERE id = ${id}::uuid FOR UPDATE`;
    return db.workOrder.findUniqueOrThrow({ where: { id } });
  }
}
