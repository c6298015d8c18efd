// Events published when state changes; GraphQL subscriptions listen to them.
// In-process by default; Redis when REDIS_URL is set, so several instances share them.

export interface AnomalyDetectedEvent {
  anomalyId: string;
  deviceId: string;
  inspectionId: string;
  type: string;
  confidence: number;
  status: string;
}
/** The ANOMALY_DETECTED event of an anomaly row as it is now: what detection, review and a resuming subscription publish. */
export const anomalyDetectedEvent = (a: {
  id: string;
  deviceId: string;
  inspectionId: string;
  type: string;
  confidence: number;
  status: string;
}): AnomalyDetectedEvent => ({
  anomalyId: a.id,
  deviceId: a.deviceId,
  inspectionId: a.inspectionId,
  type: a.type,
  confidence: a.confidence,
  status: a.status,
});

export interface InspectionUpdatedEvent {
  inspectionId: string;
  status: string;
}
export interface DeviceStatusChangedEvent {
  deviceId: string;
  status: string;
  previousStatus: string;
  deviceType: string;
}
export interface ReviewTaskCreatedEvent {
  reviewTaskId: string;
  imageId: string;
  reason: string;
}

export interface ReviewCompletedEvent {
  reviewTaskId: string;
  imageId: string;
  reason: string;
  verdict: string;
}

/** The agreement monitor found the serving model below MODEL_HEALTH_FLOOR (fired once per fall). */
export interface ModelDriftEvent {
  deviceType: string;
  modelVersionIds: string[];
  precision: number | null;
  recall: number | null;
  samples: number;
  floor: number;
  at: string;
}

/** A defect was opened, seen again, reopened, fixed, resolved or dismissed. */
export interface DefectChangedEvent {
  defectId: string;
  deviceId: string;
  type: string;
  status: string;
  severity: string;
  change: string;
}

/** A work order was created, edited, moved to another status or flagged. */
export interface WorkOrderChangedEvent {
  workOrderId: string;
  deviceId: string;
  status: string;
  change: string;
}

export interface VigilEvents {
  ANOMALY_DETECTED: AnomalyDetectedEvent;
  INSPECTION_UPDATED: InspectionUpdatedEvent;
  DEVICE_STATUS_CHANGED: DeviceStatusChangedEvent;
  REVIEW_TASK_CREATED: ReviewTaskCreatedEvent;
  REVIEW_COMPLETED: ReviewCompletedEvent;
  MODEL_DRIFT: ModelDriftEvent;
  DEFECT_CHANGED: DefectChangedEvent;
  WORK_ORDER_CHANGED: WorkOrderChangedEvent;
}
export type Topic = keyof VigilEvents;

/**
 * What one subscriber (a socket) may hold unread: the events waiting for its subscriptions, counted in
 * bytes of their JSON. Going over calls exceeded() and ends the subscription; an event is never skipped.
 */
export interface QueueBudget {
  queuedBytes: number;
  readonly maxBytes: number;
  exceeded(): void;
}

export interface EventBus {
  /** Fire and forget for the caller: delivery problems are logged, never thrown into a workflow. */
  publish<T extends Topic>(topic: T, payload: VigilEvents[T]): Promise<void>;
  /** Every event of the topic, in order; without a budget the events waiting are not limited. */
  subscribe<T extends Topic>(topic: T, budget?: QueueBudget): AsyncIterable<VigilEvents[T]>;
  /**
   * Calls `listener` with a time from which events may not have reached this process's subscribers
   * (the broker could not be reached for a while, here or where they were published); a subscription
   * that can read what it missed from the database does so. Returns what stops listening.
   */
  onGap(listener: (from: Date) => void): () => void;
  close(): Promise<void>;
}
