import { type Logger } from 'pino';
import { type Anomaly, type Prisma, type PrismaClient, type ReviewAnswer, type ReviewTask } from '../generated/prisma/client';
import { AnomalyStatus, ReviewTaskStatus, ReviewVerdict, Role } from '../generated/prisma/enums';
import { type Caller } from '../auth/caller';
import { WHOLE_IMAGE } from '../common/box';
import { conflict, DomainError, ErrorCode, forbidden, notFound } from '../common/errors';
import { type DatasetService } from '../datasets/dataset.service';
import { type DeviceService } from '../devices/device.service';
import { anomalyDetectedEvent, type EventBus } from '../adapters/event-bus/event-bus.port';
import { type HumanLoopOutcomes, type ReviewAnswerInput, type ReviewVerdictValue } from '../adapters/human-review/human-review.port';
import { mergeRegions, overlap, sameRegions, type TypedRegion, validateRegions } from './review-regions';
import { type ReviewQueue } from './review-queue.service';
import { anomalyEvent, WebhookEventType, webhookEvents } from '../webhooks/outbox';

export interface ReviewLifecycleSettings {
  leaseSeconds: number;
  anomalyTypes: string[];
  /** A2I loops a task may use before it is escalated to an ADMIN. */
  maxHumanLoops: number;
}

export interface ReviewLifecycleDeps {
  prisma: PrismaClient;
  tasks: ReviewQueue;
  datasets: DatasetService;
  /** Owns device status: recomputes it and announces the change. */
  devices: DeviceService;
  events: EventBus;
  settings: ReviewLifecycleSettings;
  /** After a label reached a dataset (and its task was announced): retraining and the agreement monitor look. */
  afterLabel?: (label: { datasetId: string; taskId: string }) => Promise<void>;
  log: Logger;
}

export interface SubmitInput {
  verdict: ReviewVerdictValue;
  regions: TypedRegion[];
  comment: string | null;
}

const OPEN = [ReviewTaskStatus.PENDING, ReviewTaskStatus.CLAIMED, ReviewTaskStatus.EXPIRED];
const MATCH = 0.3;

interface Settled {
  task: ReviewTask;
  completed: boolean;
  anomaliesChanged: Anomaly[];
  datasetId: string | null;
  deviceId: string | null;
}

/** A retry of a recorded answer: the same verdict and regions, and the same comment unless it leaves it out. */
function isSameAnswer(earlier: ReviewAnswer, verdict: ReviewVerdictValue, regions: TypedRegion[], comment: string | null): boolean {
  return (
    earlier.verdict === verdict &&
    sameRegions(earlier.regions as unknown as TypedRegion[], regions) &&
    (comment === null || comment === earlier.comment)
  );
}

function answerRecorded(taskId: string, earlier: ReviewAnswer): DomainError {
  const regions = earlier.regions as unknown as TypedRegion[];
  const summary = regions.length
    ? `${earlier.verdict}, ${regions.length} region${regions.length === 1 ? '' : 's'}: ${regions.map((r) => r.type).join(', ')}`
    : earlier.verdict;
  return new DomainError(
    ErrorCode.CONFLICT,
    `your answer to review task ${taskId} is already recorded (${summary}); it cannot be changed`,
    {
      field: 'taskId',
      recordedAnswer: { verdict: earlier.verdict, regions, comment: earlier.comment },
    },
  );
}

/**
 * The review lifecycle: PENDING → CLAIMED (a lease) → COMPLETED once enough reviewers agree, or
 * escalated to an ADMIN when they do not. Completion writes the label back exactly once: the
 * status change, the answers, the anomalies and the dataset entry commit in one transaction, and
 * every later step (manifest, events) can be repeated without effect.
 */
export class ReviewLifecycle implements HumanLoopOutcomes {
  constructor(private readonly deps: ReviewLifecycleDeps) {}

  /** The next task for this reviewer, claimed for the lease; null when nothing waits. */
  async claimNext(caller: Caller, skip: string[] = []): Promise<ReviewTask | null> {
    const now = new Date();
    const until = new Date(now.getTime() + this.deps.settings.leaseSeconds * 1000);
    const admin = caller.role === Role.ADMIN;
    // SKIP LOCKED: two reviewers claiming at once get different tasks, neither waits for the other.
    const rows = await this.deps.prisma.$queryRaw<{ id: string }[]>`
      UPDATE review_tasks SET status = 'CLAIMED', claimed_by_key_id = ${caller.apiKeyId}::uuid, lease_expires_at = ${until}, updated_at = ${now}
      WHERE id = (
        SELECT t.id FROM review_tasks t
        WHERE (t.status = 'PENDING' OR (t.status = 'CLAIMED' AND t.lease_expires_at < ${now}) OR (t.status = 'EXPIRED' AND t.escalated))
          AND (t.escalated = false OR ${admin})
          AND (t.human_loop_name IS NULL OR t.escalated)
          AND NOT (t.id::text = ANY(${skip}::text[]))
          AND NOT EXISTS (SELECT 1 FROM review_answers a WHERE a.task_id = t.id AND a.reviewer = ${caller.apiKeyId})
        ORDER BY t.escalated DESC, t.priority DESC, t.id ASC
        LIMIT 1
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id`;
    if (!rows.length) return null;
    return this.deps.prisma.reviewTask.findUniqueOrThrow({ where: { id: rows[0].id } });
  }

  /** Gives a held task back to the queue. */
  async release(caller: Caller, taskId: string): Promise<ReviewTask> {
    const [released] = await this.deps.prisma.reviewTask.updateManyAndReturn({
      where: { id: taskId, status: ReviewTaskStatus.CLAIMED, claimedByKeyId: caller.apiKeyId },
      data: { status: ReviewTaskStatus.PENDING, claimedByKeyId: null, leaseExpiresAt: null },
    });
    if (released) return released;
    const task = await this.deps.prisma.reviewTask.findUnique({ where: { id: taskId } });
    if (!task) throw notFound('ReviewTask', taskId);
    throw conflict(
      'taskId',
      `you do not hold review task ${taskId} (it is ${task.status}); only the reviewer who claimed it can release it`,
    );
  }

  /** A REVIEWER sees a task it holds or answered; the other roles see every task. */
  async visibleTo(caller: Caller, taskId: string): Promise<ReviewTask | null> {
    const task = await this.deps.prisma.reviewTask.findUnique({ where: { id: taskId } });
    if (!task || caller.role !== Role.REVIEWER || task.claimedByKeyId === caller.apiKeyId) return task;
    const answered = await this.deps.prisma.reviewAnswer.count({ where: { taskId, reviewer: caller.apiKeyId } });
    if (!answered) throw forbidden(`review task ${taskId} is not one you hold or answered`);
    return task;
  }

  /**
   * One reviewer's answer. The same reviewer submitting the same answer again (a retry) changes
   * nothing and gets the task back, a different one is refused; anyone else must hold an unexpired claim.
   */
  async submit(caller: Caller, taskId: string, input: SubmitInput): Promise<ReviewTask> {
    const regions = validateRegions(input.regions, this.deps.settings.anomalyTypes, input.verdict);
    const comment = input.comment?.trim().slice(0, 2000) || null;
    const settled = await this.deps.prisma.$transaction(async (tx) => {
      const db = tx as PrismaClient;
      const task = await this.lock(db, taskId);
      if (!task) throw notFound('ReviewTask', taskId);
      // The task's row lock makes racing submits take turns: the first records its answer, the others meet it here.
      const earlier = await db.reviewAnswer.findUnique({ where: { taskId_reviewer: { taskId, reviewer: caller.apiKeyId } } });
      if (earlier) {
        if (!isSameAnswer(earlier, input.verdict, regions, comment)) throw answerRecorded(taskId, earlier);
        return null;
      }
      if (!OPEN.includes(task.status as never))
        throw conflict('taskId', `review task ${taskId} is ${task.status}; it takes no more answers`);
      if (task.status !== ReviewTaskStatus.CLAIMED || task.claimedByKeyId !== caller.apiKeyId) {
        throw conflict('taskId', `you do not hold review task ${taskId}; claim it with claimNextReview first`);
      }
      if (task.leaseExpiresAt && task.leaseExpiresAt < new Date()) {
        throw conflict('taskId', `your claim on review task ${taskId} expired at ${task.leaseExpiresAt.toISOString()}; claim a task again`);
      }
      await db.reviewAnswer.create({
        data: {
          taskId,
          reviewer: caller.apiKeyId,
          apiKeyId: caller.apiKeyId,
          verdict: input.verdict,
          regions: regions as unknown as Prisma.InputJsonValue,
          comment,
        },
      });
      return this.settle(db, task, { decidedByAdmin: task.escalated && caller.role === Role.ADMIN, reviewer: caller.apiKeyId });
    });
    if (!settled) return (await this.deps.prisma.reviewTask.findUnique({ where: { id: taskId } }))!;
    await this.afterSettled(settled);
    return settled.task;
  }

  async applyHumanLoopAnswers(humanLoopName: string, answers: ReviewAnswerInput[]): Promise<{ taskId: string; status: string } | null> {
    const settled = await this.deps.prisma.$transaction(async (tx) => {
      const db = tx as PrismaClient;
      const found = await db.reviewTask.findUnique({ where: { humanLoopName } });
      if (!found) return null;
      const task = (await this.lock(db, found.id))!;
      if (!OPEN.includes(task.status as never)) return { task, replay: true as const };
      const rows = answers.map((a, i) => {
        const valid = validateRegions(a.regions, this.deps.settings.anomalyTypes, a.verdict, `humanAnswers[${i}].regions`);
        return {
          taskId: task.id,
          reviewer: a.reviewer,
          verdict: a.verdict,
          regions: valid as unknown as Prisma.InputJsonValue,
          comment: a.comment,
        };
      });
      // A loop's output never changes: nothing new means a redelivered event, and a decided or escalated task stays as it is.
      const { count } = await db.reviewAnswer.createMany({ data: rows, skipDuplicates: true });
      if (count === 0) return { task, replay: true as const };
      // A2I decides how many workers answer; all of them count.
      return this.settle(db, { ...task, requiredAnswers: Math.max(1, rows.length) }, { decidedByAdmin: false, reviewer: null });
    });
    if (!settled) {
      this.deps.log.warn({ humanLoopName }, 'A2I answers for a human loop no review task has; ignored');
      return null;
    }
    if ('replay' in settled) return { taskId: settled.task.id, status: settled.task.status };
    await this.afterSettled(settled);
    return { taskId: settled.task.id, status: settled.task.status };
  }

  async humanLoopEnded(
    humanLoopName: string,
    status: 'Failed' | 'Stopped',
    failureReason: string | null,
  ): Promise<{ taskId: string; status: string } | null> {
    const task = await this.deps.prisma.reviewTask.findUnique({ where: { humanLoopName } });
    if (!task) return null;
    if (task.status !== ReviewTaskStatus.PENDING || task.escalated) return { taskId: task.id, status: task.status };
    const note = `A2I human loop ${humanLoopName} ${status.toLowerCase()}${failureReason ? `: ${failureReason}` : ''}`.slice(0, 1000);
    if (task.humanLoopCount < this.deps.settings.maxHumanLoops) {
      await this.deps.prisma.reviewTask.update({ where: { id: task.id }, data: { note } });
      const again = await this.deps.tasks.startHumanLoop({ ...task, note });
      return { taskId: again.id, status: again.status };
    }
    const [expired] = await this.deps.prisma.reviewTask.updateManyAndReturn({
      where: { id: task.id, humanLoopName, status: ReviewTaskStatus.PENDING },
      data: { status: ReviewTaskStatus.EXPIRED, escalated: true, note },
    });
    this.deps.log.warn({ reviewTaskId: task.id, humanLoopName, status }, 'A2I gave up on a review task; it waits for an ADMIN on /review');
    return { taskId: task.id, status: (expired ?? task).status };
  }

  private async lock(db: PrismaClient, taskId: string): Promise<ReviewTask | null> {
    await db.$queryRaw`SELECT id FROM review_tasks WHERE id = ${taskId}::uuid FOR UPDATE`;
    return db.reviewTask.findUnique({ where: { id: taskId } });
  }

  /** Decides the task after a new answer: wait for more, escalate a disagreement, or complete and write back. */
  private async settle(db: PrismaClient, task: ReviewTask, how: { decidedByAdmin: boolean; reviewer: string | null }): Promise<Settled> {
    const answers = await db.reviewAnswer.findMany({ where: { taskId: task.id }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    const requeue = { claimedByKeyId: null, leaseExpiresAt: null };
    const deciding: ReviewAnswer[] = how.decidedByAdmin ? answers.filter((a) => a.reviewer === how.reviewer) : answers;
    if (!how.decidedByAdmin && answers.length < task.requiredAnswers) {
      const waiting = await db.reviewTask.update({ where: { id: task.id }, data: { status: ReviewTaskStatus.PENDING, ...requeue } });
      return { task: waiting, completed: false, anomaliesChanged: [], datasetId: null, deviceId: null };
    }
    if (new Set(deciding.map((a) => a.verdict)).size > 1) {
      const escalated = await db.reviewTask.update({
        where: { id: task.id },
        data: {
          status: ReviewTaskStatus.PENDING,
          escalated: true,
          note: `reviewers disagreed (${answers.map((a) => a.verdict).join(' vs ')}); an ADMIN decides`,
          ...requeue,
        },
      });
      return { task: escalated, completed: false, anomaliesChanged: [], datasetId: null, deviceId: null };
    }
    const verdict = deciding[0].verdict;
    const regions = verdict === ReviewVerdict.ANOMALOUS ? mergeRegions(deciding.map((a) => a.regions as unknown as TypedRegion[])) : [];
    const completed = await db.reviewTask.update({
      where: { id: task.id },
      data: { status: ReviewTaskStatus.COMPLETED, verdict, completedAt: new Date(), ...requeue },
    });
    const written = await this.writeBack(db, completed, verdict, regions);
    return { task: completed, completed: true, ...written };
  }

  /** The label reaches the anomalies and the dataset; other open tasks on the image are answered by it. */
  private async writeBack(db: PrismaClient, task: ReviewTask, verdict: ReviewVerdict, regions: TypedRegion[]) {
    const image = await db.image.findUniqueOrThrow({ where: { id: task.imageId }, include: { inspection: { include: { device: true } } } });
    const device = image.inspection!.device;
    const open = await db.anomaly.findMany({
      where: { imageId: task.imageId, source: 'MODEL', status: AnomalyStatus.SUSPECTED },
      orderBy: { regionIndex: 'asc' },
    });
    const changed: Anomaly[] = [];
    const used = new Set<number>();
    for (const a of open) {
      const box = { x: a.boxX, y: a.boxY, width: a.boxWidth, height: a.boxHeight };
      const match = regions.findIndex((r) => overlap(r.box, box) >= MATCH);
      // Anomalous without boxes confirms what the model found.
      const confirmed = verdict === ReviewVerdict.ANOMALOUS && (match >= 0 || regions.length === 0);
      if (match >= 0) used.add(match);
      changed.push(
        await db.anomaly.update({
          where: { id: a.id },
          data: { status: confirmed ? AnomalyStatus.CONFIRMED : AnomalyStatus.REJECTED, type: match >= 0 ? regions[match].type : a.type },
        }),
      );
    }
    let added = regions.map((r, regionIndex) => ({ r, regionIndex })).filter(({ regionIndex }) => !used.has(regionIndex));
    if (verdict === ReviewVerdict.ANOMALOUS && !regions.length && !open.length) {
      const types = this.deps.settings.anomalyTypes;
      added = [{ r: { box: { ...WHOLE_IMAGE }, type: types.includes('other') ? 'other' : types[0] }, regionIndex: 0 }];
    }
    if (added.length) {
      const created = await db.anomaly.createManyAndReturn({
        data: added.map(({ r, regionIndex }) => ({
          imageId: image.id,
          inspectionId: image.inspectionId!,
          deviceId: device.id,
          reviewTaskId: task.id,
          regionIndex,
          type: r.type,
          confidence: 1,
          boxX: r.box.x,
          boxY: r.box.y,
          boxWidth: r.box.width,
          boxHeight: r.box.height,
          status: AnomalyStatus.CONFIRMED,
          source: 'HUMAN' as const,
        })),
        skipDuplicates: true,
      });
      changed.push(...created);
    }
    const entry = await this.deps.datasets.recordEntry(db, {
      deviceType: device.type,
      imageId: image.id,
      reviewTaskId: task.id,
      label: verdict,
      regions,
    });
    await db.reviewTask.updateMany({
      where: {
        imageId: image.id,
        id: { not: task.id },
        status: { in: [ReviewTaskStatus.PENDING, ReviewTaskStatus.CLAIMED] },
        humanLoopName: null,
      },
      data: { status: ReviewTaskStatus.CANCELLED, note: `answered by review task ${task.id}`, claimedByKeyId: null, leaseExpiresAt: null },
    });
    const confirmed = changed.filter((a) => a.status === AnomalyStatus.CONFIRMED);
    if (confirmed.length)
      await webhookEvents(
        db,
        confirmed.map((a) => anomalyEvent(WebhookEventType.ANOMALY_CONFIRMED, a)),
      );
    return { anomaliesChanged: changed, datasetId: entry.datasetId, deviceId: device.id };
  }

  /** Announcements and the dataset's files: repeatable, and a failure here loses nothing already committed. */
  private async afterSettled(settled: Settled): Promise<void> {
    const { task } = settled;
    if (!settled.completed) return;
    for (const a of settled.anomaliesChanged) {
      await this.deps.events.publish('ANOMALY_DETECTED', anomalyDetectedEvent(a));
    }
    if (settled.deviceId) {
      await this.deps.devices.refreshStatus(settled.deviceId);
    }
    await this.deps.events.publish('REVIEW_COMPLETED', {
      reviewTaskId: task.id,
      imageId: task.imageId,
      reason: task.reason,
      verdict: task.verdict!,
    });
    if (settled.datasetId) {
      await this.deps.datasets.publish(settled.datasetId).catch((err) => {
        this.deps.log.error(
          { err, datasetId: settled.datasetId },
          'dataset manifest not published; it is retried at the next review or start-up',
        );
      });
      await this.deps.afterLabel?.({ datasetId: settled.datasetId, taskId: task.id }).catch((err) => {
        this.deps.log.error({ err, datasetId: settled.datasetId }, 'after-label step failed (retraining trigger, agreement monitor)');
      });
    }
  }
}
