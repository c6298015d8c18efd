import { injectable } from 'tsyringe';
import { UploadService } from '../images/upload.service';
import { ReviewLifecycle } from './review-lifecycle.service';
import { ReviewQueue } from './review-queue.service';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type ReviewTask } from '../generated/prisma/client';
import { ANY_ROLE, READ_FLEET, REVIEW } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { type Context } from '../graphql/context';
import { type Box, WHOLE_IMAGE } from '../common/box';
import { ReviewRegionInput } from './review.input';
import {
  ReviewAnswer,
  ReviewModelOutput,
  ReviewReason,
  ReviewSettings,
  ReviewStats,
  ReviewTaskConnection,
  ReviewTaskStatus,
  ReviewTaskType,
  ReviewVerdict,
} from './review-task.type';

@injectable()
@Resolver(() => ReviewTaskType)
export class ReviewResolver {
  constructor(
    private readonly queue: ReviewQueue,
    private readonly lifecycle: ReviewLifecycle,
    private readonly uploadService: UploadService,
  ) {}

  @Authorized(READ_FLEET)
  @Query(() => ReviewTaskConnection, {
    description: 'Open tasks in the order reviewers get them (most informative first), or those of the given statuses.',
  })
  reviewQueue(
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Arg('reasons', () => [ReviewReason], { nullable: true }) reasons?: ReviewReason[],
    @Arg('statuses', () => [ReviewTaskStatus], { nullable: true, description: 'Default: PENDING and CLAIMED.' })
    statuses?: ReviewTaskStatus[],
  ) {
    return this.queue.queue({ reasons: reasons ?? undefined, statuses: statuses ?? undefined }, page);
  }

  @Authorized(ANY_ROLE)
  @Query(() => ReviewTaskType, {
    nullable: true,
    description: 'Null when it does not exist. A REVIEWER sees only tasks it holds or answered.',
  })
  async reviewTask(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    const uuid = fromGlobalId('ReviewTask', id, 'id');
    return this.lifecycle.visibleTo(ctx.caller!, uuid);
  }

  @Authorized(ANY_ROLE)
  @Query(() => ReviewStats)
  async reviewStats(@Ctx() ctx: Context) {
    return this.queue.stats(ctx.caller!.apiKeyId);
  }

  @Authorized(ANY_ROLE)
  @Query(() => ReviewSettings)
  reviewSettings(): ReviewSettings {
    return this.queue.publicSettings();
  }

  @Authorized(REVIEW)
  @Mutation(() => ReviewTaskType, {
    nullable: true,
    description:
      'Claims the most informative waiting task for REVIEW_LEASE_SECONDS; null when nothing waits. ADMINs get escalated tasks first.',
  })
  async claimNextReview(
    @Ctx() ctx: Context,
    @Arg('skip', () => [ID], { nullable: true, description: 'Tasks this reviewer skipped and does not want again now.' }) skip?: string[],
  ) {
    const ids = (skip ?? []).slice(0, 500).map((id, i) => fromGlobalId('ReviewTask', id, `skip[${i}]`));
    return this.lifecycle.claimNext(ctx.caller!, ids);
  }

  @Authorized(REVIEW)
  @Mutation(() => ReviewTaskType, {
    description: 'Answers a task you hold. Submitting the same answer again returns the task unchanged.',
  })
  async submitReview(
    @Arg('taskId', () => ID) taskId: string,
    @Arg('verdict', () => ReviewVerdict) verdict: ReviewVerdict,
    @Ctx() ctx: Context,
    @Arg('regions', () => [ReviewRegionInput], { nullable: true, defaultValue: [] }) regions: ReviewRegionInput[],
    @Arg('comment', () => String, { nullable: true }) comment?: string | null,
  ) {
    const uuid = fromGlobalId('ReviewTask', taskId, 'taskId');
    return this.lifecycle.submit(ctx.caller!, uuid, {
      verdict,
      regions: regions.map((r) => ({ box: { ...r.box }, type: r.type })),
      comment: comment ?? null,
    });
  }

  @Authorized(REVIEW)
  @Mutation(() => ReviewTaskType, { description: 'Gives a task you hold back to the queue.' })
  async releaseReview(@Arg('taskId', () => ID) taskId: string, @Ctx() ctx: Context) {
    return this.lifecycle.release(ctx.caller!, fromGlobalId('ReviewTask', taskId, 'taskId'));
  }

  @FieldResolver(() => String, { description: 'The type of the photographed device.' })
  async deviceType(@Root() task: ReviewTask, @Ctx() ctx: Context) {
    const inspection = await ctx.loaders.inspection.load(task.inspectionId);
    return (await ctx.loaders.device.load(inspection!.deviceId))!.type;
  }

  @FieldResolver(() => String, { nullable: true, description: 'A link to the normalised image, valid for UPLOAD_URL_TTL_SECONDS.' })
  async imageUrl(@Root() task: ReviewTask, @Ctx() ctx: Context) {
    const image = await ctx.loaders.image.load(task.imageId);
    return image?.normalizedKey ? this.uploadService.downloadUrl(image.normalizedKey) : null;
  }

  @FieldResolver(() => Int, { nullable: true })
  async imageWidth(@Root() task: ReviewTask, @Ctx() ctx: Context) {
    return (await ctx.loaders.image.load(task.imageId))?.width ?? null;
  }

  @FieldResolver(() => Int, { nullable: true })
  async imageHeight(@Root() task: ReviewTask, @Ctx() ctx: Context) {
    return (await ctx.loaders.image.load(task.imageId))?.height ?? null;
  }

  @FieldResolver(() => ReviewModelOutput, {
    nullable: true,
    description: "The stage-2 model's verdict, regions and heatmaps; null when no model judged the image.",
  })
  async modelOutput(@Root() task: ReviewTask, @Ctx() ctx: Context): Promise<ReviewModelOutput | null> {
    if (!task.detectionId) return null;
    const detection = await ctx.loaders.detection.load(task.detectionId);
    if (!detection) return null;
    const result = detection.result as {
      regions?: { box: Box; type: string; confidence?: number }[];
      pictures?: { heatmapKey?: string | null; frame?: Box }[];
    };
    const heatmaps = [];
    for (const p of result.pictures ?? []) {
      if (p.heatmapKey) heatmaps.push({ url: await this.uploadService.downloadUrl(p.heatmapKey), frame: p.frame ?? { ...WHOLE_IMAGE } });
    }
    return {
      detector: detection.detector,
      modelVersion: detection.modelVersion,
      isAnomalous: detection.isAnomalous,
      confidence: detection.confidence,
      regions: (result.regions ?? []).map((r) => ({ box: r.box, type: r.type, confidence: r.confidence ?? null })),
      heatmaps,
    };
  }

  @FieldResolver(() => Int)
  async answerCount(@Root() task: ReviewTask, @Ctx() ctx: Context) {
    return (await ctx.loaders.answersOfTask.load(task.id)).length;
  }

  @FieldResolver(() => Date, { nullable: true, description: 'When the current claim lapses, while CLAIMED.' })
  claimedUntil(@Root() task: ReviewTask) {
    return task.status === 'CLAIMED' ? task.leaseExpiresAt : null;
  }

  @Authorized(READ_FLEET)
  @FieldResolver(() => [ReviewAnswer], { description: 'Answers so far, oldest first.' })
  async answers(@Root() task: ReviewTask, @Ctx() ctx: Context): Promise<ReviewAnswer[]> {
    const answers = await ctx.loaders.answersOfTask.load(task.id);
    return answers.map((a) => ({
      verdict: a.verdict,
      regions: (a.regions as unknown as { box: Box; type: string }[]).map((r) => ({ ...r, confidence: null })),
      comment: a.comment,
      reviewer: a.reviewer,
      createdAt: a.createdAt,
    }));
  }
}
