import { type Logger } from 'pino';
import { type Prisma, type PrismaClient, type ReviewAnswer, type ReviewTask } from '../generated/prisma/client';
import { ReviewReason, ReviewTaskStatus } from '../generated/prisma/enums';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { byId, type Ordering, type PageLimits, paginate, listOrdering } from '../common/pagination/keyset';
import { type PageArgs } from '../common/pagination/page.args';
import { type Connection } from '../common/pagination/connection.type';
import { unitHash } from '../common/unit-hash';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { storedImageSize } from '../image-processing/stored-image-size';
import { type HumanReviewPort } from '../adapters/human-review/human-review.port';
import { type InspectRegion } from '../adapters/detectors/detector.port';
import { type LearningBudget } from './active-learning';

export interface NewReviewTask {
  imageId: string;
  inspectionId: string;
  detectionId: string | null;
  reason: ReviewReason;
  uncertainty: number;
}

export interface ReviewQueueSettings {
  consensus: number;
  qaShare: number;
  anomalyTypes: string[];
  leaseSeconds: number;
  humanReview: 'builtin' | 'a2i';
  /** ACTIVE_LEARNING budgets (REVIEW_LEARNING_PER_RUN, REVIEW_LEARNING_PER_DAY); the defaults when not given. */
  learning?: LearningBudget;
}

export interface ReviewQueueDeps {
  prisma: PrismaClient;
  settings: ReviewQueueSettings;
  events: EventBus;
  /** Amazon A2I when HUMAN_REVIEW=a2i; null: reviewers use vigil's own queue. */
  humanReview: HumanReviewPort | null;
  store: ObjectStore;
  /** The S3 bucket images live in (A2I workers read them from there). */
  bucket: string | null;
  limits: PageLimits;
  log: Logger;
}

/** Queue order: the most informative first (priority), oldest first among equals. */
export const QUEUE_ORDER: Ordering = listOrdering('ReviewTask', [
  { field: 'priority', column: 'priority', kind: 'number', direction: 'desc' },
  byId('asc'),
]);

export interface QueueFilter {
  reasons?: ReviewReason[];
  statuses?: ReviewTaskStatus[];
}

/** Review tasks: one per (image, reason), so a retried or replayed workflow step asks once. */
export class ReviewQueue {
  constructor(private readonly deps: ReviewQueueDeps) {}

  get settings(): ReviewQueueSettings {
    return this.deps.settings;
  }

  /** `created` is false when the task existed already (nothing to announce). */
  async createOnce(db: PrismaClient, input: NewReviewTask & { priority?: number }): Promise<{ task: ReviewTask; created: boolean }> {
    const key = { imageId_reason: { imageId: input.imageId, reason: input.reason } };
    const earlier = await db.reviewTask.findUnique({ where: key });
    if (earlier) return { task: earlier, created: false };
    const data = { ...input, priority: input.priority ?? input.uncertainty, requiredAnswers: this.deps.settings.consensus };
    const [task] = await db.reviewTask.createManyAndReturn({ data: [data], skipDuplicates: true });
    if (task) return { task, created: true };
    return { task: (await db.reviewTask.findUnique({ where: key }))!, created: false };
  }

  /**
   * Whether a confident verdict is also sampled for review. Drawn from the image and model
   * version, so a replay draws the same; the QA task's place in the queue is a second draw, so
   * samples are spread through the queue instead of waiting behind the uncertain ones.
   */
  qaSample(imageId: string, modelVersion: string): { sampled: boolean; priority: number } {
    const share = this.deps.settings.qaShare;
    return {
      sampled: share > 0 && unitHash(`${imageId}:${modelVersion}:qa`) < share,
      priority: unitHash(`${imageId}:${modelVersion}:qa-order`),
    };
  }

  /** After a task was created (or found by a replay): announce it, and hand it to A2I when that is the review channel. */
  async created(result: { task: ReviewTask; created: boolean }): Promise<ReviewTask> {
    let task = result.task;
    if (result.created)
      await this.deps.events.publish('REVIEW_TASK_CREATED', { reviewTaskId: task.id, imageId: task.imageId, reason: task.reason });
    if (this.deps.humanReview && !task.humanLoopName && task.status === ReviewTaskStatus.PENDING && !task.escalated)
      task = await this.startHumanLoop(task);
    return task;
  }

  /** Starts the task's next A2I loop; the name is derived from the task and attempt, so a repeat finds the same loop. */
  async startHumanLoop(task: ReviewTask): Promise<ReviewTask> {
    const port = this.deps.humanReview!;
    const image = await this.deps.prisma.image.findUniqueOrThrow({
      where: { id: task.imageId },
      include: { inspection: { include: { device: true } } },
    });
    if (!image.normalizedKey || !this.deps.bucket)
      throw new Error(`review task ${task.id}: image ${image.id} has no normalised copy in S3 for A2I workers`);
    const size = await storedImageSize(this.deps.store, image.normalizedKey);
    const detection = task.detectionId ? await this.deps.prisma.detection.findUnique({ where: { id: task.detectionId } }) : null;
    const regions = ((detection?.result as { regions?: InspectRegion[] } | undefined)?.regions ?? []).map((r) => ({
      box: r.box,
      type: r.type,
      confidence: r.confidence ?? null,
    }));
    const { humanLoopName } = await port.startHumanLoop({
      taskId: task.id,
      attempt: task.humanLoopCount,
      reason: task.reason,
      deviceType: image.inspection?.device.type ?? 'unknown',
      imageS3Uri: `s3://${this.deps.bucket}/${image.normalizedKey}`,
      imageWidth: size.width ?? image.width ?? 1,
      imageHeight: size.height ?? image.height ?? 1,
      modelRegions: regions,
      confidence: detection?.confidence ?? null,
      anomalyTypes: this.deps.settings.anomalyTypes,
    });
    const [updated] = await this.deps.prisma.reviewTask.updateManyAndReturn({
      where: { id: task.id, humanLoopCount: task.humanLoopCount },
      data: { humanLoopName, humanLoopCount: task.humanLoopCount + 1 },
    });
    this.deps.log.info({ reviewTaskId: task.id, humanLoopName }, 'A2I human loop started');
    return updated ?? (await this.deps.prisma.reviewTask.findUniqueOrThrow({ where: { id: task.id } }));
  }

  get(id: string): Promise<ReviewTask | null> {
    return this.deps.prisma.reviewTask.findUnique({ where: { id } });
  }

  byIds(ids: readonly string[]): Promise<ReviewTask[]> {
    return this.deps.prisma.reviewTask.findMany({ where: { id: { in: [...ids] } } });
  }

  ofInspections(inspectionIds: readonly string[]): Promise<ReviewTask[]> {
    return this.deps.prisma.reviewTask.findMany({
      where: { inspectionId: { in: [...inspectionIds] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  answersOf(taskIds: readonly string[]): Promise<ReviewAnswer[]> {
    return this.deps.prisma.reviewAnswer.findMany({
      where: { taskId: { in: [...taskIds] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  /** Tasks in the order reviewers get them. */
  /** What reviewers' tools need to know: the anomaly types to offer, the lease, the consensus. */
  publicSettings() {
    const s = this.deps.settings;
    return { anomalyTypes: s.anomalyTypes, leaseSeconds: s.leaseSeconds, requiredAnswers: s.consensus, humanReview: s.humanReview };
  }

  queue(filter: QueueFilter, page: PageArgs): Promise<Connection<ReviewTask>> {
    const limits = this.deps.limits;
    const where: Prisma.ReviewTaskWhereInput = {
      reason: filter.reasons?.length ? { in: filter.reasons } : undefined,
      status: { in: filter.statuses?.length ? filter.statuses : [ReviewTaskStatus.PENDING, ReviewTaskStatus.CLAIMED] },
    };
    return paginate({
      page,
      ordering: QUEUE_ORDER,
      limits,
      where,
      find: (q) => this.deps.prisma.reviewTask.findMany(q),
      count: (w) => this.deps.prisma.reviewTask.count({ where: w }),
    });
  }

  /** Counts for a progress display; `mine` counts the answers of one reviewer since UTC midnight. */
  async stats(reviewer: string | null, now = new Date()) {
    const { prisma } = this.deps;
    const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const lapsed = { status: ReviewTaskStatus.CLAIMED, leaseExpiresAt: { lt: now } };
    const claimable = { escalated: false, OR: [{ status: ReviewTaskStatus.PENDING }, lapsed] };
    const [pending, claimed, escalated, byStatus, completedToday, mineToday, byReason] = await Promise.all([
      prisma.reviewTask.count({ where: { ...claimable, humanLoopName: null } }),
      prisma.reviewTask.count({ where: { status: ReviewTaskStatus.CLAIMED, leaseExpiresAt: { gte: now } } }),
      prisma.reviewTask.count({
        where: { escalated: true, status: { in: [ReviewTaskStatus.PENDING, ReviewTaskStatus.CLAIMED, ReviewTaskStatus.EXPIRED] } },
      }),
      prisma.reviewTask.groupBy({ by: ['status'], _count: { _all: true } }),
      prisma.reviewTask.count({ where: { status: ReviewTaskStatus.COMPLETED, completedAt: { gte: midnight } } }),
      reviewer ? prisma.reviewAnswer.count({ where: { reviewer, createdAt: { gte: midnight } } }) : Promise.resolve(0),
      prisma.reviewTask.groupBy({ by: ['reason', 'status'], _count: { _all: true } }),
    ]);
    const status = (s: ReviewTaskStatus) => byStatus.find((r) => r.status === s)?._count._all ?? 0;
    return {
      pending,
      claimed,
      escalated,
      completed: status(ReviewTaskStatus.COMPLETED),
      expired: status(ReviewTaskStatus.EXPIRED),
      cancelled: status(ReviewTaskStatus.CANCELLED),
      completedToday,
      mineToday,
      byReason: Object.values(ReviewReason).map((reason) => ({
        reason,
        pending: byReason
          .filter((r) => r.reason === reason && (r.status === 'PENDING' || r.status === 'CLAIMED'))
          .reduce((n, r) => n + r._count._all, 0),
        completed: byReason.find((r) => r.reason === reason && r.status === 'COMPLETED')?._count._all ?? 0,
      })),
    };
  }
}
