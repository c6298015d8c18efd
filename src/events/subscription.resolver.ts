import { Arg, Authorized, Ctx, ID, Resolver, Root, Subscription } from 'type-graphql';
import { injectable } from 'tsyringe';
import { AnomalyService } from '../anomalies/anomaly.service';
import { DeviceService } from '../devices/device.service';
import { InspectionService } from '../inspections/inspection.service';
import { ReviewQueue } from '../reviews/review-queue.service';
import { DefectService } from '../repairs/defect.service';
import { WorkOrderService } from '../repairs/work-order.service';
import { AnomalyType } from '../anomalies/anomaly.type';
import { READ_FLEET, READ_REPAIRS } from '../auth/roles';
import { DefectType, WorkOrderType } from '../repairs/repair.type';
import { notFound } from '../common/errors';
import { fromGlobalId } from '../common/global-id';
import { DeviceType } from '../devices/device.type';
import { type Context } from '../graphql/context';
import { sharedRow } from '../graphql/event-scope';
import { InspectionType } from '../inspections/inspection.type';
import { ReviewReason, ReviewTaskType } from '../reviews/review-task.type';
import { ModelDriftEventType } from '../models/model.type';
import {
  anomalyDetectedEvent,
  type AnomalyDetectedEvent,
  type DefectChangedEvent,
  type WorkOrderChangedEvent,
  type DeviceStatusChangedEvent,
  type ModelDriftEvent,
  type InspectionUpdatedEvent,
  type ReviewCompletedEvent,
  type ReviewTaskCreatedEvent,
} from '../adapters/event-bus/event-bus.port';
import { replayOnGaps, replayThenLive } from './replay';
import { anomalyMatcher, checkedFilter, defectMatcher, deviceStatusMatcher, where, workOrderMatcher } from './event-filters';
import { AnomalySubscriptionFilter, DefectSubscriptionFilter, DeviceStatusFilter, WorkOrderSubscriptionFilter } from './subscription.input';

interface SubscribeData<Args> {
  args: Args;
  context: Context;
}

/** At most this many missed anomalies are replayed to a resuming subscriber; more is refused with a clear error. */
const REPLAY_LIMIT = 1000;

/**
 * Live events over graphql-ws. In each subscription, `subscribe` listens to one topic of
 * context.events and keeps the events whose payload matches the arguments; the method then
 * loads the row the event names, once per event for all its subscribers (sharedRow). To add one (e.g. reviewTaskCreated on REVIEW_TASK_CREATED):
 * a filter input in subscription.input.ts, a matcher in event-filters.ts, a method like anomalyDetected.
 */
@injectable()
@Resolver()
export class SubscriptionResolver {
  constructor(
    private readonly anomalyService: AnomalyService,
    private readonly inspectionService: InspectionService,
    private readonly deviceService: DeviceService,
    private readonly queue: ReviewQueue,
    private readonly defectService: DefectService,
    private readonly workOrderService: WorkOrderService,
  ) {}

  @Authorized(READ_REPAIRS)
  @Subscription(() => DefectType, {
    description: 'Each defect as it is opened, seen again, re-rated, reopened, fixed, resolved or dismissed.',
    subscribe: async ({ args, context }: SubscribeData<{ filter?: DefectSubscriptionFilter }>) => {
      const matches = defectMatcher(await checkedFilter(DefectSubscriptionFilter, args.filter));
      return where(context.events.subscribe('DEFECT_CHANGED'), matches);
    },
  })
  defectChanged(
    @Root() event: DefectChangedEvent,
    @Ctx() ctx: Context,
    @Arg('filter', () => DefectSubscriptionFilter, { nullable: true, validate: false }) _filter?: DefectSubscriptionFilter,
  ) {
    return sharedRow(ctx, event, 'defect', () => this.defectService.get(event.defectId));
  }

  @Authorized(READ_REPAIRS)
  @Subscription(() => WorkOrderType, {
    description: 'Each work order as it is created, edited, moved, completed or flagged.',
    subscribe: async ({ args, context }: SubscribeData<{ filter?: WorkOrderSubscriptionFilter }>) => {
      const matches = workOrderMatcher(await checkedFilter(WorkOrderSubscriptionFilter, args.filter));
      return where(context.events.subscribe('WORK_ORDER_CHANGED'), matches);
    },
  })
  workOrderChanged(
    @Root() event: WorkOrderChangedEvent,
    @Ctx() ctx: Context,
    @Arg('filter', () => WorkOrderSubscriptionFilter, { nullable: true, validate: false }) _filter?: WorkOrderSubscriptionFilter,
  ) {
    return sharedRow(ctx, event, 'workOrder', () => this.workOrderService.get(event.workOrderId));
  }

  @Authorized(READ_FLEET)
  @Subscription(() => AnomalyType, {
    description:
      'Each anomaly as it is found, and again when a review changes it. With `since`, first every anomaly found or changed at or ' +
      'after that time (oldest first, at most ' +
      `${REPLAY_LIMIT}), then the live ones: a client that reconnects passes the updatedAt of the last anomaly it received and ` +
      "misses nothing. Around that point an anomaly may come twice: drop repeats by id and updatedAt. If the server's event broker " +
      '(Redis) loses events for a while, what was found or changed meanwhile is read back and sent late, maybe twice.',
    subscribe: async ({ args, context }: SubscribeData<{ filter?: AnomalySubscriptionFilter; since?: Date | null }>) => {
      const filter = await checkedFilter(AnomalySubscriptionFilter, args.filter);
      const replay = {
        deviceIds: filter?.deviceIds?.map((id, i) => fromGlobalId('Device', id, `filter.deviceIds[${i}]`)),
        types: filter?.types ?? undefined,
        minConfidence: filter?.minConfidence ?? undefined,
      };
      const changedSince = async (from: Date) =>
        (await context.loaders.anomaliesChangedSince(from, replay, REPLAY_LIMIT)).map(anomalyDetectedEvent);
      // What the event broker loses (Redis unreachable for a while) is read back from the database.
      const live = replayOnGaps(
        where(context.events.subscribe('ANOMALY_DETECTED'), anomalyMatcher(filter)),
        (l) => context.events.onGap(l),
        changedSince,
      );
      if (!args.since) return live;
      const since = args.since;
      return replayThenLive(
        live,
        () => changedSince(since),
        (e) => `${e.anomalyId}:${e.status}`,
      );
    },
  })
  async anomalyDetected(
    @Root() event: AnomalyDetectedEvent,
    @Ctx() ctx: Context,
    // Checked once when subscribing, not again for every event.
    @Arg('filter', () => AnomalySubscriptionFilter, { nullable: true, validate: false }) _filter?: AnomalySubscriptionFilter,
    @Arg('since', () => Date, { nullable: true, description: 'Replay what was found or changed from this time on, then go live.' })
    _since?: Date,
  ) {
    const anomaly = await sharedRow(ctx, event, 'anomaly', () => this.anomalyService.get(event.anomalyId));
    return anomaly ?? Promise.reject(notFound('Anomaly', event.anomalyId));
  }

  @Authorized(READ_FLEET)
  @Subscription(() => InspectionType, {
    description: 'The inspection each time its status changes.',
    subscribe: async ({ args, context }: SubscribeData<{ id: string }>) => {
      const id = fromGlobalId('Inspection', args.id, 'id');
      // NOT_FOUND now rather than a subscription that never hears anything.
      if (!(await context.loaders.inspection.load(id))) throw notFound('Inspection', id);
      return where(context.events.subscribe('INSPECTION_UPDATED'), (e) => e.inspectionId === id);
    },
  })
  inspectionUpdated(@Root() event: InspectionUpdatedEvent, @Ctx() ctx: Context, @Arg('id', () => ID) _id: string) {
    return sharedRow(ctx, event, 'inspection', () => this.inspectionService.get(event.inspectionId));
  }

  @Authorized(READ_FLEET)
  @Subscription(() => DeviceType, {
    description: 'Each device whose status changes.',
    subscribe: async ({ args, context }: SubscribeData<{ filter?: DeviceStatusFilter }>) => {
      const matches = deviceStatusMatcher(await checkedFilter(DeviceStatusFilter, args.filter));
      return where(context.events.subscribe('DEVICE_STATUS_CHANGED'), matches);
    },
  })
  deviceStatusChanged(
    @Root() event: DeviceStatusChangedEvent,
    @Ctx() ctx: Context,
    @Arg('filter', () => DeviceStatusFilter, { nullable: true, validate: false }) _filter?: DeviceStatusFilter,
  ) {
    return sharedRow(ctx, event, 'device', () => this.deviceService.get(event.deviceId));
  }

  @Authorized(READ_FLEET)
  @Subscription(() => ReviewTaskType, {
    description: 'Each review task as a workflow creates it (a person should look at an image).',
    subscribe: ({ args, context }: SubscribeData<{ reasons?: ReviewReason[] | null }>) =>
      where(
        context.events.subscribe('REVIEW_TASK_CREATED'),
        (e) => !args.reasons?.length || args.reasons.includes(e.reason as ReviewReason),
      ),
  })
  async reviewTaskCreated(
    @Root() event: ReviewTaskCreatedEvent,
    @Ctx() ctx: Context,
    @Arg('reasons', () => [ReviewReason], { nullable: true, description: 'Only these reasons; all when empty.' }) _reasons?: ReviewReason[],
  ) {
    const task = await sharedRow(ctx, event, 'reviewTask', () => this.queue.get(event.reviewTaskId));
    return task ?? Promise.reject(notFound('ReviewTask', event.reviewTaskId));
  }

  @Authorized(READ_FLEET)
  @Subscription(() => ReviewTaskType, {
    description: 'Each review task as it is completed: its verdict has been written to the anomalies and the dataset.',
    subscribe: ({ args, context }: SubscribeData<{ reasons?: ReviewReason[] | null }>) =>
      where(context.events.subscribe('REVIEW_COMPLETED'), (e) => !args.reasons?.length || args.reasons.includes(e.reason as ReviewReason)),
  })
  async reviewCompleted(
    @Root() event: ReviewCompletedEvent,
    @Ctx() ctx: Context,
    @Arg('reasons', () => [ReviewReason], { nullable: true, description: 'Only these reasons; all when empty.' }) _reasons?: ReviewReason[],
  ) {
    const task = await sharedRow(ctx, event, 'reviewTask', () => this.queue.get(event.reviewTaskId));
    return task ?? Promise.reject(notFound('ReviewTask', event.reviewTaskId));
  }

  @Authorized(READ_FLEET)
  @Subscription(() => ModelDriftEventType, {
    description:
      "Each time a serving model's agreement with reviewers (on SAMPLED_QA tasks) falls below MODEL_HEALTH_FLOOR; once per fall.",
    subscribe: ({ args, context }: SubscribeData<{ deviceType?: string | null }>) =>
      where(context.events.subscribe('MODEL_DRIFT'), (e) => !args.deviceType || e.deviceType === args.deviceType),
  })
  modelDrift(
    @Root() event: ModelDriftEvent,
    @Arg('deviceType', () => String, { nullable: true, description: 'Only this device type.' }) _deviceType?: string | null,
  ): ModelDriftEventType {
    return { ...event, at: new Date(event.at) };
  }
}
