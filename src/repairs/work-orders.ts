import { type Defect, type PrismaClient, type WorkOrder } from '../generated/prisma/client';
import { WorkOrderPriority, WorkOrderStatus } from '../generated/prisma/enums';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { defectEvent, WebhookEventType, webhookEvents, workOrderEvent, type WebhookEventInput } from '../webhooks/outbox';

/** The status flow; DONE is reached only through completeWorkOrder. */
export const NEXT_STATUSES: Record<WorkOrderStatus, WorkOrderStatus[]> = {
  OPEN: [WorkOrderStatus.SCHEDULED, WorkOrderStatus.CANCELLED],
  SCHEDULED: [WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.CANCELLED],
  IN_PROGRESS: [WorkOrderStatus.DONE, WorkOrderStatus.CANCELLED],
  DONE: [],
  CANCELLED: [],
};

export const ACTIVE_WORK_ORDER: WorkOrderStatus[] = [WorkOrderStatus.OPEN, WorkOrderStatus.SCHEDULED, WorkOrderStatus.IN_PROGRESS];

export interface NewWorkOrder {
  deviceId: string;
  defectIds: string[];
  priority?: WorkOrderPriority | null;
  dueAt?: Date | null;
  assignee?: string | null;
  notes?: string | null;
  idempotencyKey?: string | null;
  automatic: boolean;
  createdBy: string;
}

/** Writes a work order, its defects and its first transition inside the caller's transaction. */
export async function insertWorkOrder(db: PrismaClient, input: NewWorkOrder): Promise<WorkOrder> {
  const order = await db.workOrder.create({
    data: {
      deviceId: input.deviceId,
      priority: input.priority ?? WorkOrderPriority.NORMAL,
      dueAt: input.dueAt ?? null,
      assignee: input.assignee ?? null,
      notes: input.notes ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      automatic: input.automatic,
      createdBy: input.createdBy,
    },
  });
  await db.workOrderDefect.createMany({ data: input.defectIds.map((defectId) => ({ workOrderId: order.id, defectId })) });
  await db.workOrderTransition.create({ data: { workOrderId: order.id, toStatus: WorkOrderStatus.OPEN, by: input.createdBy } });
  return order;
}

/**
 * Serialises everything that changes a device's defects and work orders. NO KEY UPDATE, so rows that
 * reference the device (a review's new anomaly, a run's) can still be inserted meanwhile: no deadlock with them.
 */
export async function lockDevice(db: PrismaClient, deviceId: string): Promise<boolean> {
  const rows = await db.$queryRaw<{ id: string }[]>`SELECT id::text FROM devices WHERE id = ${deviceId}::uuid FOR NO KEY UPDATE`;
  return rows.length > 0;
}

export type DefectChange = 'OPENED' | 'OBSERVED' | 'REOPENED' | 'FIXED' | 'RESOLVED' | 'DISMISSED' | 'RATED' | 'RETYPED';
export type WorkOrderChange = 'CREATED' | 'UPDATED' | 'STATUS' | 'COMPLETED' | 'FLAGGED';

/** The defect changes integrators asked webhooks for; the rest reach subscriptions only. */
const DEFECT_WEBHOOKS: Partial<Record<DefectChange, WebhookEventType>> = {
  OPENED: WebhookEventType.DEFECT_OPENED,
  REOPENED: WebhookEventType.DEFECT_REOPENED,
  RESOLVED: WebhookEventType.DEFECT_RESOLVED,
};

/** What a committed change announces; published after the commit, each defect and work order once. */
export class Announcements {
  private readonly defects = new Map<string, { defect: Defect; change: DefectChange }>();
  private readonly orders = new Map<string, { order: WorkOrder; change: WorkOrderChange }>();
  private recorded = false;

  defect(defect: Defect, change: DefectChange) {
    const earlier = this.defects.get(defect.id);
    // The first change says what happened (OPENED beats a later RATED); the row is the latest.
    this.defects.set(defect.id, { defect, change: earlier?.change ?? change });
  }

  order(order: WorkOrder, change: WorkOrderChange) {
    const earlier = this.orders.get(order.id);
    this.orders.set(order.id, { order, change: earlier?.change ?? change });
  }

  /** Writes the webhook events of these changes into the caller's transaction; a second call writes nothing. */
  async record(db: PrismaClient): Promise<void> {
    if (this.recorded) return;
    this.recorded = true;
    const events: WebhookEventInput[] = [];
    for (const { defect, change } of this.defects.values()) {
      const type = DEFECT_WEBHOOKS[change];
      if (type) events.push(defectEvent(type, defect));
    }
    for (const { order, change } of this.orders.values()) {
      events.push(
        workOrderEvent(change === 'CREATED' ? WebhookEventType.WORK_ORDER_CREATED : WebhookEventType.WORK_ORDER_CHANGED, order, change),
      );
    }
    if (events.length) await webhookEvents(db, events);
  }

  get deviceIds(): string[] {
    return [...new Set([...this.defects.values()].map((d) => d.defect.deviceId))];
  }

  async publish(events: EventBus): Promise<void> {
    for (const { defect, change } of this.defects.values()) {
      await events.publish('DEFECT_CHANGED', {
        defectId: defect.id,
        deviceId: defect.deviceId,
        type: defect.type,
        status: defect.status,
        severity: defect.severity,
        change,
      });
    }
    for (const { order, change } of this.orders.values()) {
      await events.publish('WORK_ORDER_CHANGED', { workOrderId: order.id, deviceId: order.deviceId, status: order.status, change });
    }
  }
}
