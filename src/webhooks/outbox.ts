import { randomUUID } from 'node:crypto';
import {
  type Anomaly,
  type Defect,
  type ModelDeployment,
  type ModelVersion,
  type Prisma,
  type PrismaClient,
  type WorkOrder,
} from '../generated/prisma/client';
import { WebhookEventType } from '../generated/prisma/enums';
import { toGlobalId, toPlainId } from '../common/global-id';
import { type ModelDriftEvent } from '../adapters/event-bus/event-bus.port';

export { WebhookEventType };

/** The `type` receivers see: ANOMALY_DETECTED → "anomaly.detected". */
export const eventName = (type: WebhookEventType) => type.toLowerCase().replace(/^(work_order|[a-z]+)_/, '$1.');

export interface WebhookEventInput {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

/** The body every endpoint receives for one event, signed as sent. */
export interface WebhookPayload {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

type Db = Pick<PrismaClient, '$executeRaw'>;

/**
 * Writes events into the outbox inside the caller's transaction, so an event exists exactly when the
 * change it announces committed. One statement: an event nobody listens to is not stored; each
 * enabled endpoint of an unrevoked key that listens to its type gets one delivery row. Returns the
 * un-awaited statement so a batch transaction ($transaction([...])) can hold it too.
 */
export function webhookEvents(db: Db, events: WebhookEventInput[]): Prisma.PrismaPromise<number> {
  const at = new Date().toISOString();
  const rows = events.map((e) => {
    const id = randomUUID();
    const payload: WebhookPayload = { id, type: eventName(e.type), createdAt: at, data: e.data };
    return { id, type: e.type, payload: JSON.stringify(payload) };
  });
  return db.$executeRaw`
    WITH ev AS (
      SELECT * FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.payload)}::text[])
        AS x(id, type, payload)
    ), wanted AS (
      SELECT ev.id AS event_id, e.id AS endpoint_id
      FROM ev JOIN webhook_endpoints e ON ev.type::"WebhookEventType" = ANY(e.events)
      JOIN api_keys k ON k.id = e.api_key_id
      WHERE e.enabled AND k.revoked_at IS NULL
    ), stored AS (
      INSERT INTO webhook_events (id, type, payload)
      SELECT id, type::"WebhookEventType", payload::jsonb FROM ev WHERE id IN (SELECT event_id FROM wanted)
      RETURNING id
    )
    INSERT INTO webhook_deliveries (id, endpoint_id, event_id)
    SELECT gen_random_uuid(), w.endpoint_id, w.event_id FROM wanted w JOIN stored s ON s.id = w.event_id`;
}

// What each event says. Ids are the API's global ids, so a receiver can look the object up with node(id:) or the typed query.

export const anomalyEvent = (type: WebhookEventType, a: Anomaly): WebhookEventInput => ({
  type,
  data: {
    anomalyId: toGlobalId('Anomaly', a.id),
    deviceId: toGlobalId('Device', a.deviceId),
    inspectionId: toGlobalId('Inspection', a.inspectionId),
    imageId: toGlobalId('Image', a.imageId),
    type: a.type,
    status: a.status,
    confidence: a.confidence,
    severity: a.severityOverride ?? a.severity,
    box: { x: a.boxX, y: a.boxY, width: a.boxWidth, height: a.boxHeight },
  },
});

export const defectEvent = (type: WebhookEventType, d: Defect): WebhookEventInput => ({
  type,
  data: {
    defectId: toPlainId('Defect', d.id),
    deviceId: toGlobalId('Device', d.deviceId),
    type: d.type,
    status: d.status,
    severity: d.severity,
  },
});

export const workOrderEvent = (type: WebhookEventType, o: WorkOrder, change: string): WebhookEventInput => ({
  type,
  data: {
    workOrderId: toPlainId('WorkOrder', o.id),
    deviceId: toGlobalId('Device', o.deviceId),
    status: o.status,
    change,
    priority: o.priority,
    dueAt: o.dueAt?.toISOString() ?? null,
    assignee: o.assignee,
    flagged: o.flagged,
    automatic: o.automatic,
  },
});

export const inspectionFinishedEvent = (inspectionId: string, deviceId: string, status: string): WebhookEventInput => ({
  type: WebhookEventType.INSPECTION_FINISHED,
  data: { inspectionId: toGlobalId('Inspection', inspectionId), deviceId: toGlobalId('Device', deviceId), status },
});

export const modelDeployedEvent = (deployment: ModelDeployment, version: ModelVersion): WebhookEventInput => ({
  type: WebhookEventType.MODEL_DEPLOYED,
  data: {
    modelDeploymentId: toGlobalId('ModelDeployment', deployment.id),
    modelVersionId: toGlobalId('ModelVersion', version.id),
    deviceType: deployment.deviceType,
    profile: deployment.profile,
    action: deployment.action,
    overridden: deployment.overridden,
    previousVersionId: deployment.previousVersionId ? toGlobalId('ModelVersion', deployment.previousVersionId) : null,
  },
});

export const modelDriftEvent = (drift: Omit<ModelDriftEvent, 'at'>): WebhookEventInput => ({
  type: WebhookEventType.MODEL_DRIFT,
  data: { ...drift, modelVersionIds: drift.modelVersionIds.map((id) => toGlobalId('ModelVersion', id)) },
});
