import { Arg, Authorized, ID, Resolver, Root, Subscription } from 'type-graphql';
import { injectable } from 'tsyringe';
import { AnomalyService } from '../anomalies/anomaly.service';
import { DeviceService } from '../devices/device.service';
import { InspectionService } from '../inspections/inspection.service';
import { ReviewQueue } from '../reviews/review-queue.service';
import { AnomalyType } from '../anomalies/anomaly.type';
import { READ_FLEET } from '../auth/roles';
import { notFound } from '../common/errors';
import { fromGlobalId } from '../common/global-id';
import { DeviceType } from '../devices/device.type';
import { type Context } from '../graphql/context';
import { InspectionType } from '../inspections/inspection.type';
import { ReviewReason, ReviewTaskType } from '../reviews/review-task.type';
import { ModelDriftEventType } from '../models/model.type';
import {
  type AnomalyDetectedEvent,
  type DeviceStatusChangedEvent,
  type ModelDriftEvent,
  type InspectionUpdatedEvent,
  type ReviewCompletedEvent,
  type ReviewTaskCreatedEvent,
} from '../adapters/event-bus/event-bus.port';
import { anomalyMatcher, checkedFilter, deviceStatusMatcher, where } from './event-filters';
import { AnomalySubscriptionFilter, DeviceStatusFilter } from './subscription.input';

interface SubscribeData<Args> {
  args: Args;
  context: Context;
}

/**
 * Live events over graphql-ws. In each subscription, `subscribe` listens to one topic of
 * context.events and keeps the events whose payload matches the arguments; the method then
 * loads the row the event names. To add one (e.g. reviewTaskCreated on REVIEW_TASK_CREATED):
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
  ) {}

  @Authorized(READ_FLEET)
  @Subscription(() => AnomalyType, {
    description: 'Each anomaly as it is found.',
    subscribe: async ({ args, context }: SubscribeData<{ filter?: AnomalySubscriptionFilter }>) => {
      const matches = anomalyMatcher(await checkedFilter(AnomalySubscriptionFilter, args.filter));
      return where(context.events.subscribe('ANOMALY_DETECTED'), matches);
    },
  })
  async anomalyDetected(
    @Root() event: AnomalyDetectedEvent,
    // Checked once when subscribing, not again for every event.
    @Arg('filter', () => AnomalySubscriptionFilter, { nullable: true, validate: false }) _filter?: AnomalySubscriptionFilter,
  ) {
    return (await this.anomalyService.get(event.anomalyId)) ?? Promise.reject(notFound('Anomaly', event.anomalyId));
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
  inspectionUpdated(@Root() event: InspectionUpdatedEvent, @Arg('id', () => ID) _id: string) {
    return this.inspectionService.get(event.inspectionId);
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
    @Arg('filter', () => DeviceStatusFilter, { nullable: true, validate: false }) _filter?: DeviceStatusFilter,
  ) {
    return this.deviceService.get(event.deviceId);
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
    @Arg('reasons', () => [ReviewReason], { nullable: true, description: 'Only these reasons; all when empty.' }) _reasons?: ReviewReason[],
  ) {
    return (await this.queue.get(event.reviewTaskId)) ?? Promise.reject(notFound('ReviewTask', event.reviewTaskId));
  }

  @Authorized(READ_FLEET)
  @Subscription(() => ReviewTaskType, {
    description: 'Each review task as it is completed: its verdict has been written to the anomalies and the dataset.',
    subscribe: ({ args, context }: SubscribeData<{ reasons?: ReviewReason[] | null }>) =>
      where(context.events.subscribe('REVIEW_COMPLETED'), (e) => !args.reasons?.length || args.reasons.includes(e.reason as ReviewReason)),
  })
  async reviewCompleted(
    @Root() event: ReviewCompletedEvent,
    @Arg('reasons', () => [ReviewReason], { nullable: true, description: 'Only these reasons; all when empty.' }) _reasons?: ReviewReason[],
  ) {
    return (await this.queue.get(event.reviewTaskId)) ?? Promise.reject(notFound('ReviewTask', event.reviewTaskId));
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
