import { injectable } from 'tsyringe';
import { WorkflowRunService } from './workflow-run.service';
import { Arg, Authorized, Ctx, Extensions, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { type Inspection, type ReviewTask, type WorkflowRun } from '../generated/prisma/client';
import { READ_FLEET, WRITE_FLEET } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { CostType } from '../costs/cost.type';
import { READS } from '../graphql/projection';
import { type Context } from '../graphql/context';
import { ImageType } from '../images/image.type';
import { InspectionType } from '../inspections/inspection.type';
import { ReviewTaskType } from '../reviews/review-task.type';
import { WorkflowProgress, WorkflowRunType } from './workflow-run.type';

@injectable()
@Resolver(() => InspectionType)
export class InspectionWorkflowResolver {
  constructor(private readonly workflowRunService: WorkflowRunService) {}

  @Authorized(WRITE_FLEET)
  @Mutation(() => WorkflowRunType, {
    description:
      "Starts detection over the inspection's uploaded images. While a run is queued or running, returns that run instead of starting another.",
  })
  startInspection(@Arg('inspectionId', () => ID) inspectionId: string) {
    return this.workflowRunService.startInspection(fromGlobalId('Inspection', inspectionId, 'inspectionId'));
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => [WorkflowRunType], {
    description:
      'Starts detection for every inspection of a survey (images matched to a device). On Step Functions with SFN_DETECT_SURVEY_ARN, one Distributed Map execution reads a manifest in S3; otherwise one run per inspection. Inspections already running are left as they are.',
  })
  startSurvey(@Arg('surveyId', () => ID) surveyId: string) {
    return this.workflowRunService.startSurvey(fromGlobalId('Survey', surveyId, 'surveyId'));
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => [WorkflowRunType], { description: 'Detection runs, oldest first.' })
  workflowRuns(@Root() inspection: Inspection, @Ctx() ctx: Context) {
    return ctx.loaders.workflowRunsOfInspection.load(inspection.id);
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => CostType, { description: 'What detecting this inspection cost, and what the cascade saved.' })
  cost(@Root() inspection: Inspection, @Ctx() ctx: Context) {
    return ctx.loaders.costOfInspection.load(inspection.id);
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => [ReviewTaskType], { description: 'Review tasks the runs created, oldest first.' })
  reviewTasks(@Root() inspection: Inspection, @Ctx() ctx: Context) {
    return ctx.loaders.reviewTasksOfInspection.load(inspection.id);
  }
}

@Resolver(() => WorkflowRunType)
export class WorkflowRunResolver {
  @FieldResolver(() => WorkflowProgress)
  async progress(@Root() run: WorkflowRun, @Ctx() ctx: Context): Promise<WorkflowProgress> {
    return { done: await ctx.loaders.workflowRunProgress.load(run.id), total: run.imagesTotal };
  }

  @FieldResolver(() => InspectionType)
  inspection(@Root() run: WorkflowRun, @Ctx() ctx: Context) {
    return ctx.loaders.inspection.load(run.inspectionId);
  }
}

@Resolver(() => ReviewTaskType)
export class ReviewTaskFieldsResolver {
  @Authorized(READ_FLEET)
  @FieldResolver(() => ImageType)
  image(@Root() task: ReviewTask, @Ctx() ctx: Context) {
    return ctx.loaders.image.load(task.imageId);
  }

  @Authorized(READ_FLEET)
  @FieldResolver(() => InspectionType)
  inspection(@Root() task: ReviewTask, @Ctx() ctx: Context) {
    return ctx.loaders.inspection.load(task.inspectionId);
  }
}
