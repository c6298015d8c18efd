import { type Logger } from 'pino';
import { type Detection, type PrismaClient, type ReviewTask } from '../generated/prisma/client';
import { DetectionStage, ImageOutcome, ReviewReason } from '../generated/prisma/enums';
import { anomalyProbability, type LearningBudget, type LearningCandidate, selectForLearning } from './active-learning';
import { type ReviewQueue } from './review-queue.service';

export interface ActiveLearningDeps {
  prisma: PrismaClient;
  tasks: ReviewQueue;
  budget: LearningBudget;
  log: Logger;
}

/** Outcomes whose verdict stood without a person: what active learning chooses from. */
const CONFIDENT: ImageOutcome[] = [ImageOutcome.CLEAR, ImageOutcome.NORMAL, ImageOutcome.ANOMALY];

const utcMidnight = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));

/**
 * Active learning: at the end of a run, some confident verdicts (the screen cleared the image, or
 * stage 2 judged it NORMAL or ANOMALY outside its review band) also go to people, chosen by how close
 * the model came to the other answer and spread over the scores. Apart from SAMPLED_QA, which stays
 * an unbiased random sample for the agreement monitor. Idempotent: tasks are unique per (image,
 * reason), the run's earlier picks count against its budget, and a replay picks nothing new.
 */
export class ActiveLearningService {
  constructor(private readonly deps: ActiveLearningDeps) {}

  async sampleRun(runId: string, now = new Date()): Promise<ReviewTask[]> {
    const { prisma, budget } = this.deps;
    if (budget.perRun <= 0 || budget.perDay <= 0) return [];
    const run = await prisma.workflowRun.findUnique({
      where: { id: runId },
      select: { inspectionId: true, inspection: { select: { device: { select: { type: true } } } } },
    });
    if (!run) return [];
    const deviceType = run.inspection.device.type;
    const { chosen, picked } = await prisma.$transaction(async (tx) => {
      const db = tx as PrismaClient;
      // One device type's picks at a time, so two runs finishing together cannot both spend the day's
      // last places, and a replay racing the first attempt sees its picks.
      await db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`vigil-learning:${deviceType}`}))`;
      const { candidates, chosen } = await this.candidates(db, runId);
      if (!candidates.length) return { chosen, picked: [] };
      const today = await db.reviewTask.count({
        where: { reason: ReviewReason.ACTIVE_LEARNING, createdAt: { gte: utcMidnight(now) }, inspection: { device: { type: deviceType } } },
      });
      const limit = Math.min(budget.perRun - chosen.length, budget.perDay - today);
      const byImage = new Map(candidates.map((c) => [c.imageId, c]));
      const picked = [];
      for (const p of selectForLearning(candidates, { limit, chosen: chosen.map((c) => c.candidate) })) {
        picked.push(
          await this.deps.tasks.createOnce(db, {
            imageId: p.imageId,
            inspectionId: run.inspectionId,
            detectionId: byImage.get(p.imageId)!.detectionId,
            reason: ReviewReason.ACTIVE_LEARNING,
            uncertainty: p.uncertainty,
            priority: p.priority,
          }),
        );
      }
      return { chosen, picked };
    });
    // Announced (and handed to A2I) after the commit; a replay hands over what the first attempt could not.
    const tasks: ReviewTask[] = [];
    for (const result of [...chosen.map((c) => ({ task: c.task, created: false })), ...picked])
      tasks.push(await this.deps.tasks.created(result));
    if (picked.length)
      this.deps.log.info({ runId, deviceType, picked: picked.length }, 'confident verdicts sent to review for active learning');
    return tasks;
  }

  /**
   * The run's confident verdicts on images no person was asked about for another reason, and the
   * ACTIVE_LEARNING tasks its images already have (an earlier attempt's, or an earlier run's over the
   * same images): those count against the run's budget and are never picked twice.
   */
  private async candidates(prisma: PrismaClient, runId: string) {
    const outcomes = await prisma.workflowRunImage.findMany({ where: { runId, outcome: { in: CONFIDENT } }, orderBy: { imageId: 'asc' } });
    const imageIds = outcomes.map((o) => o.imageId);
    const detections = new Map<string, Detection[]>();
    for (const d of await prisma.detection.findMany({
      where: { imageId: { in: imageIds } },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    })) {
      detections.set(d.imageId, [...(detections.get(d.imageId) ?? []), d]);
    }
    const tasks = await prisma.reviewTask.findMany({ where: { imageId: { in: imageIds } } });
    const asked = new Set(tasks.filter((t) => t.reason !== ReviewReason.ACTIVE_LEARNING).map((t) => t.imageId));
    const learning = new Map(tasks.filter((t) => t.reason === ReviewReason.ACTIVE_LEARNING).map((t) => [t.imageId, t]));
    const candidates: (LearningCandidate & { detectionId: string | null })[] = [];
    const chosen: { candidate: LearningCandidate; task: ReviewTask }[] = [];
    for (const o of outcomes) {
      if (asked.has(o.imageId)) continue;
      const stage = o.outcome === ImageOutcome.CLEAR ? DetectionStage.SCREEN : DetectionStage.INSPECT;
      const version = stage === DetectionStage.SCREEN ? o.screenModelVersion : o.inspectModelVersion;
      const ofImage = (detections.get(o.imageId) ?? []).filter((d) => d.stage === stage);
      const detection: Detection | undefined = ofImage.find((d) => d.modelVersion === version) ?? ofImage[0];
      if (!detection) continue;
      const candidate = {
        imageId: o.imageId,
        stage,
        modelVersion: detection.modelVersion,
        probability: anomalyProbability(detection),
        // Tasks link stage-2 verdicts only: reviewers see the model output of those.
        detectionId: stage === DetectionStage.INSPECT ? detection.id : null,
      };
      const task = learning.get(o.imageId);
      if (task) chosen.push({ candidate, task });
      else candidates.push(candidate);
    }
    return { candidates, chosen };
  }
}
