import { injectable } from 'tsyringe';
import { UploadService } from '../images/upload.service';
import { DatasetService } from '../datasets/dataset.service';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type ActiveModel, type ModelDeployment, type ModelVersion } from '../generated/prisma/client';
import { ADMIN_ONLY, READ_FLEET } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { DatasetType } from '../datasets/dataset.type';
import { type Context } from '../graphql/context';
import { type Thresholds } from '../anomaly-model/types';
import { type GateResult, ModelDeploymentService } from './deployment.service';
import { type ModelHealth, ModelHealthService } from './model-health.service';
import { DeployModelInput, ModelVersionFilter, RollbackModelInput, TrainModelInput } from './model.input';
import {
  ActiveModelType,
  DeployGateType,
  ModelArtifactType,
  ModelDeploymentType,
  ModelHealthType,
  ModelMetricsType,
  ModelThresholdsType,
  ModelVersionConnection,
  ModelVersionType,
  TrainedOnType,
} from './model.type';
import { type StoredMetrics, type TrainedOn, ModelTrainingService, ModelVersionQueries } from './training.service';

@injectable()
@Resolver(() => ModelVersionType)
export class ModelVersionResolver {
  constructor(
    private readonly modelVersionQueries: ModelVersionQueries,
    private readonly deploymentService: ModelDeploymentService,
    private readonly modelHealthService: ModelHealthService,
    private readonly trainingService: ModelTrainingService,
    private readonly datasetService: DatasetService,
    private readonly uploadService: UploadService,
  ) {}

  @Authorized(READ_FLEET)
  @Query(() => ModelVersionConnection, { description: 'Model versions, newest first.' })
  modelVersions(
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Arg('filter', () => ModelVersionFilter, { nullable: true }) filter?: ModelVersionFilter | null,
  ) {
    const datasetId = filter?.datasetId ? fromGlobalId('Dataset', filter.datasetId, 'filter.datasetId') : null;
    return this.modelVersionQueries.list({ ...filter, datasetId }, page);
  }

  @Authorized(READ_FLEET)
  @Query(() => ModelVersionType, { nullable: true, description: 'Null when it does not exist.' })
  async modelVersion(@Arg('id', () => ID) id: string) {
    return (await this.modelVersionQueries.byIds([fromGlobalId('ModelVersion', id, 'id')]))[0] ?? null;
  }

  @Authorized(READ_FLEET)
  @Query(() => [ActiveModelType], { description: 'The versions serving now, per device type and profile.' })
  activeModels(@Arg('deviceType', () => String, { nullable: true }) deviceType?: string | null) {
    return this.deploymentService.active({ deviceType });
  }

  @Authorized(READ_FLEET)
  @Query(() => ModelHealthType, {
    description:
      "The serving model's agreement with reviewers (QA samples apart from low-confidence ones), labels waiting, last and current training.",
  })
  modelHealth(@Arg('deviceType') deviceType: string) {
    return this.modelHealthService.health(deviceType);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ModelVersionType, {
    description:
      "Trains a new version from the dataset (workflows/train-model.asl.json): TRAINING now, then TRAINED with metrics on the dataset's TEST split, or FAILED. CONFLICT while the dataset's model of that profile is training.",
  })
  trainModel(@Arg('input', () => TrainModelInput) input: TrainModelInput, @Ctx() ctx: Context) {
    return this.trainingService.request({
      datasetId: fromGlobalId('Dataset', input.datasetId, 'input.datasetId'),
      profile: input.profile,
      params: input.params,
      requestedBy: ctx.caller!.name,
    });
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ModelDeploymentType, {
    description:
      "Makes a TRAINED version serve its device type and profile. Refused (GATE_REFUSED) when it is worse than the serving version on the same test split by more than MODEL_GATE_*_MARGIN: by AUROC and precision at a fixed recall, which a move of either model's threshold cannot change, and by recall and F1 at each one's own threshold when either version lacks those figures; unless override is true with a reason. Runs already going keep the version they started with.",
  })
  deployModel(@Arg('input', () => DeployModelInput) input: DeployModelInput, @Ctx() ctx: Context) {
    return this.deploymentService.deploy(fromGlobalId('ModelVersion', input.id, 'input.id'), {
      override: input.override,
      reason: input.reason,
      by: ctx.caller!.name,
    });
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ModelDeploymentType, {
    description: 'Returns the device type and profile to the version that served before; each call goes one further back.',
  })
  rollbackModel(@Arg('input', () => RollbackModelInput) input: RollbackModelInput, @Ctx() ctx: Context) {
    return this.deploymentService.rollback(input.deviceType, input.profile, ctx.caller!.name);
  }

  @FieldResolver(() => DatasetType)
  async dataset(@Root() v: ModelVersion) {
    return (await this.datasetService.byIds([v.datasetId]))[0];
  }

  @FieldResolver(() => ModelMetricsType, { nullable: true, description: 'Measured on the TEST split of its snapshot; null until trained.' })
  metrics(@Root() v: ModelVersion): ModelMetricsType | null {
    return (v.metrics as unknown as StoredMetrics | null) ?? null;
  }

  @FieldResolver(() => ModelMetricsType, {
    nullable: true,
    description: 'The version serving when it was measured, on the same test split; null when none served.',
  })
  baselineMetrics(@Root() v: ModelVersion): ModelMetricsType | null {
    return (v.metrics as unknown as StoredMetrics | null)?.baseline?.metrics ?? null;
  }

  @FieldResolver(() => ModelThresholdsType, { nullable: true, description: 'Built-in models: the operating threshold and review band.' })
  thresholds(@Root() v: ModelVersion): ModelThresholdsType | null {
    const t = v.thresholds as unknown as Thresholds | null;
    return t ? { operating: t.operating, reviewLow: t.reviewBand.low, reviewHigh: t.reviewBand.high, patch: t.patch } : null;
  }

  @FieldResolver(() => TrainedOnType, {
    nullable: true,
    description: 'The dataset snapshot it trained and was tested on; null before BeginTraining.',
  })
  async trainedOn(@Root() v: ModelVersion): Promise<TrainedOnType | null> {
    const t = v.trainedOn as unknown as TrainedOn | null;
    if (!t) return null;
    return {
      takenAt: new Date(t.takenAt),
      labelledThrough: t.labelledThrough ? new Date(t.labelledThrough) : null,
      entries: t.entries,
      train: t.train,
      test: t.test,
      splitHash: t.splitHash,
      trainManifestUrl: await this.uploadService.downloadUrl(t.trainManifestKey),
      testManifestUrl: await this.uploadService.downloadUrl(t.testManifestKey),
    };
  }

  @FieldResolver(() => ModelArtifactType, { nullable: true, description: 'The trained model file; null until trained.' })
  async artifact(@Root() v: ModelVersion): Promise<ModelArtifactType | null> {
    if (!v.artifactKey && !v.artifactUri) return null;
    return {
      key: v.artifactKey,
      url: v.artifactKey ? await this.uploadService.downloadUrl(v.artifactKey) : null,
      uri: v.artifactUri,
      bytes: v.artifactBytes,
      sha256: v.artifactSha256,
    };
  }

  @FieldResolver(() => Boolean, { description: 'It serves its device type and profile now.' })
  async active(@Root() v: ModelVersion): Promise<boolean> {
    const active = await this.deploymentService.active({ deviceType: v.deviceType });
    return active.some((a) => a.modelVersionId === v.id);
  }

  @FieldResolver(() => [ModelDeploymentType], { description: 'Its deployments, newest first.' })
  deployments(@Root() v: ModelVersion) {
    return this.deploymentService.deployments({ modelVersionId: v.id });
  }
}

@injectable()
@Resolver(() => ModelDeploymentType)
export class ModelDeploymentResolver {
  constructor(private readonly modelVersionQueries: ModelVersionQueries) {}

  @FieldResolver(() => ModelVersionType)
  async model(@Root() d: ModelDeployment) {
    return (await this.modelVersionQueries.byIds([d.modelVersionId]))[0];
  }

  @FieldResolver(() => ModelVersionType, { nullable: true, description: 'The version it replaced.' })
  async previous(@Root() d: ModelDeployment) {
    return d.previousVersionId ? (await this.modelVersionQueries.byIds([d.previousVersionId]))[0] : null;
  }

  @FieldResolver(() => DeployGateType, { nullable: true, description: 'What the gate compared; null for a rollback.' })
  gate(@Root() d: ModelDeployment): DeployGateType | null {
    const gate = d.gate as unknown as Partial<GateResult>;
    return gate.candidate ? (gate as GateResult) : null;
  }
}

@injectable()
@Resolver(() => ActiveModelType)
export class ActiveModelResolver {
  constructor(private readonly modelVersionQueries: ModelVersionQueries) {}

  @FieldResolver(() => ModelVersionType)
  async model(@Root() a: ActiveModel) {
    return (await this.modelVersionQueries.byIds([a.modelVersionId]))[0];
  }

  @FieldResolver(() => ModelDeploymentType)
  deployment(@Root() a: ActiveModel) {
    return this.modelVersionQueries.deployment(a.deploymentId);
  }
}

@injectable()
@Resolver(() => ModelHealthType)
export class ModelHealthResolver {
  constructor(
    private readonly modelVersionQueries: ModelVersionQueries,
    private readonly datasetService: DatasetService,
  ) {}

  @FieldResolver(() => [ModelVersionType], { description: 'The versions compared: those serving the device type now.' })
  serving(@Root() h: ModelHealth) {
    return this.modelVersionQueries.byIds(h.modelVersionIds);
  }

  @FieldResolver(() => ModelVersionType, { nullable: true, description: 'The training under way for its dataset, if any.' })
  async training(@Root() h: ModelHealth) {
    return h.trainingVersionId ? (await this.modelVersionQueries.byIds([h.trainingVersionId]))[0] : null;
  }

  @FieldResolver(() => DatasetType, { nullable: true })
  async dataset(@Root() h: ModelHealth) {
    return h.datasetId ? (await this.datasetService.byIds([h.datasetId]))[0] : null;
  }
}
