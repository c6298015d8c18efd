import { type ModelVersion } from '../generated/prisma/client';
import { ModelStatus, ModelTrigger, type ModelProfile } from '../generated/prisma/enums';
import { badInput, conflict, notFound } from '../common/errors';
import { isUniqueViolation } from '../db/prisma-errors';
import { type DatasetItem } from '../anomaly-model/dataset';
import { type ExecutionOutcome, type RunReconciler, type WorkflowEngine } from '../adapters/workflow-engine/workflow-engine.port';
import { evaluateOn, type ModelMetrics } from './evaluation';
import { checkBuiltinParams, evaluateBuiltin, trainBuiltin } from './builtin-training';
import { checkExternal, checkExternalParams, startExternal } from './external-training';
import { readSnapshot, snapshotItem, takeSnapshot } from './training-snapshot';
import {
  labelsCountFrom,
  type SnapshotEntry,
  type StoredMetrics,
  type TrainedOn,
  trainedOnOf,
  TrainingFailedError,
  type TrainingDeps,
} from './training.types';

export { type SnapshotEntry, type StoredMetrics, type TrainedOn, TrainingFailedError, type TrainingDeps } from './training.types';
export { splitHash } from './training-snapshot';
export { type ModelVersionFilter, ModelVersionQueries, VERSION_ORDER } from './model-version.queries';

const TRAINER_BUILTIN = 'builtin';

/**
 * Trains model versions from datasets through workflows/train-model.asl.json: the request, each
 * step (idempotent: a retried or resumed step finds what the first attempt wrote), the engine's
 * report of the end, and the automatic retraining trigger. The built-in model trains in
 * builtin-training.ts, a cloud one through external-training.ts; training-snapshot.ts freezes the
 * dataset a version trains on.
 */
export class ModelTrainingService implements RunReconciler {
  private engine: WorkflowEngine | null = null;

  constructor(private readonly deps: TrainingDeps) {}

  useEngine(engine: WorkflowEngine): void {
    this.engine = engine;
  }

  get trainer(): string {
    return this.deps.external?.kind ?? TRAINER_BUILTIN;
  }

  /** A new version in TRAINING and its workflow started; CONFLICT while the dataset's model of that profile is training. */
  async request(input: {
    datasetId: string;
    profile: ModelProfile;
    params?: Record<string, unknown> | null;
    trigger?: ModelTrigger;
    requestedBy?: string | null;
  }): Promise<ModelVersion> {
    const { prisma } = this.deps;
    const dataset = await prisma.dataset.findUnique({ where: { id: input.datasetId } });
    if (!dataset) throw notFound('Dataset', input.datasetId);
    if (this.deps.unavailable) throw badInput('datasetId', `training in AWS is not configured: ${this.deps.unavailable}`);
    const params = this.checkParams(input.profile, input.params ?? {});
    const counts = await prisma.datasetEntry.groupBy({ by: ['split', 'label'], where: { datasetId: dataset.id }, _count: { _all: true } });
    const count = (split: string, label?: string) =>
      counts.filter((c) => c.split === split && (!label || c.label === label)).reduce((n, c) => n + c._count._all, 0);
    if (count('TRAIN', 'NORMAL') < 2)
      throw badInput(
        'datasetId',
        `dataset ${dataset.name} has ${count('TRAIN', 'NORMAL')} NORMAL entries in its TRAIN split; training needs at least 2`,
      );
    if (count('TEST') === 0)
      throw badInput(
        'datasetId',
        `dataset ${dataset.name} has no TEST entries: a model is measured on the test split only, never on what it trained on`,
      );
    const engine = this.requireEngine();
    let version: ModelVersion;
    try {
      version = await prisma.modelVersion.create({
        data: {
          datasetId: dataset.id,
          deviceType: dataset.deviceType,
          profile: input.profile,
          trainer: this.trainer,
          trigger: input.trigger ?? ModelTrigger.MANUAL,
          params: params as object,
          requestedBy: input.requestedBy ?? null,
        },
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const running = await prisma.modelVersion.findFirst({
        where: { datasetId: dataset.id, profile: input.profile, status: ModelStatus.TRAINING },
      });
      throw conflict(
        'datasetId',
        `dataset ${dataset.name} is already training its ${input.profile} model (version ${running?.id ?? 'unknown'}); one training per dataset and profile at a time`,
      );
    }
    try {
      const { executionId } = await engine.start({ runId: version.id, workflow: 'train-model', input: { modelVersionId: version.id } });
      return await prisma.modelVersion.update({ where: { id: version.id }, data: { executionId } });
    } catch (err) {
      await this.fail(version.id, 'Vigil.StartFailed', (err as Error).message);
      throw err;
    }
  }

  private checkParams(profile: ModelProfile, params: Record<string, unknown>): Record<string, string | number | boolean> {
    return this.deps.external ? checkExternalParams(this.deps.external, profile, params) : checkBuiltinParams(params);
  }

  /** BeginTraining: TRAINING starts; the dataset's entries are frozen into a snapshot and two manifests (once). */
  async begin(id: string): Promise<{ trainCount: number; testCount: number }> {
    const version = await this.version(id);
    const existing = version.trainedOn as TrainedOn | null;
    if (existing) return { trainCount: existing.train.count, testCount: existing.test.count };
    await takeSnapshot(this.deps, version);
    const stored = (await this.version(id)).trainedOn as unknown as TrainedOn;
    return { trainCount: stored.train.count, testCount: stored.test.count };
  }

  /**
   * StartTraining: the built-in model trains here and now (done: true); a cloud trainer is started
   * and polled by CheckTraining after `pollSeconds`.
   */
  async start(id: string): Promise<{ done: boolean; pollSeconds: number }> {
    const version = await this.version(id);
    const trainedOn = trainedOnOf(version);
    const pollSeconds = this.deps.settings.pollSeconds;
    if (version.version) return { done: true, pollSeconds };
    const external = this.deps.external;
    if (!external) {
      await trainBuiltin(this.deps, version, trainedOn);
      return { done: true, pollSeconds };
    }
    await startExternal(this.deps, external, version, trainedOn);
    return { done: false, pollSeconds };
  }

  /** CheckTraining: where the cloud training stands; a failed one fails the workflow with the service's reason. */
  async check(id: string): Promise<{ done: boolean; pollSeconds: number }> {
    const version = await this.version(id);
    const pollSeconds = this.deps.settings.pollSeconds;
    if (version.version) return { done: true, pollSeconds };
    return { done: await checkExternal(this.deps, version), pollSeconds };
  }

  /** EvaluateModel: the built-in version, and the version serving now, on the snapshot's TEST entries. */
  async evaluate(id: string): Promise<{ auroc: number | null; f1: number | null }> {
    const version = await this.version(id);
    if (this.deps.external) {
      // The service measured it on its test data; CheckTraining stored the figures.
      const m = version.metrics as unknown as StoredMetrics | null;
      if (!m) throw new TrainingFailedError(`${this.deps.external.kind} reported no figures for model version ${id}`);
      return { auroc: m.auroc, f1: m.f1 };
    }
    const artifactKey = version.artifactKey;
    if (!artifactKey) throw new TrainingFailedError(`model version ${id} has no artifact to evaluate`);
    const stored = await evaluateBuiltin(this.deps, { ...version, artifactKey }, trainedOnOf(version));
    await this.deps.prisma.modelVersion.update({ where: { id }, data: { metrics: stored as object } });
    return { auroc: stored.auroc, f1: stored.f1 };
  }

  /** A stored built-in version's figures on test items (never ones it trained on). */
  async measure(artifactKey: string, items: DatasetItem[], splitHash: string): Promise<ModelMetrics> {
    return evaluateOn(await this.deps.backbone.get(), await this.deps.models.read(artifactKey), items, splitHash);
  }

  /** FinishTraining: TRAINED, once; then the onTrained hook (automatic deployment). */
  async finish(id: string): Promise<{ status: ModelStatus }> {
    const updated = await this.deps.prisma.modelVersion.updateManyAndReturn({
      where: { id, status: ModelStatus.TRAINING },
      data: { status: ModelStatus.TRAINED, finishedAt: new Date() },
    });
    if (updated.length) {
      const m = updated[0].metrics as unknown as StoredMetrics | null;
      this.deps.log.info({ modelVersionId: id, version: updated[0].version, auroc: m?.auroc, f1: m?.f1 }, 'model version trained');
      await this.deps
        .onTrained?.(updated[0])
        .catch((err) => this.deps.log.error({ err, modelVersionId: id }, 'after-training step failed'));
    }
    return { status: (await this.version(id)).status };
  }

  /** MarkTrainingFailed (and the engine's report of a failed execution): FAILED with the error, once. */
  async fail(id: string, error: string, cause: string): Promise<{ status: ModelStatus }> {
    const updated = await this.deps.prisma.modelVersion.updateMany({
      where: { id, status: ModelStatus.TRAINING },
      data: { status: ModelStatus.FAILED, error: error.slice(0, 200), cause: cause.slice(0, 4000), finishedAt: new Date() },
    });
    if (updated.count) this.deps.log.warn({ modelVersionId: id, error, cause: cause.slice(0, 500) }, 'model training failed');
    return { status: (await this.version(id)).status };
  }

  async reconcile(outcome: ExecutionOutcome): Promise<void> {
    const version = await this.deps.prisma.modelVersion.findUnique({ where: { executionId: outcome.executionId } });
    if (!version || version.status !== ModelStatus.TRAINING) return;
    if (outcome.status === 'SUCCEEDED') await this.finish(version.id);
    else
      await this.fail(version.id, outcome.error ?? `Execution.${outcome.status}`, outcome.cause ?? `the execution ended ${outcome.status}`);
  }

  /** Trainings a stopped process left running: the local engine starts them again (steps are idempotent). */
  async resumeInterrupted(): Promise<number> {
    const engine = this.requireEngine();
    const running = await this.deps.prisma.modelVersion.findMany({
      where: { status: ModelStatus.TRAINING },
      orderBy: { createdAt: 'asc' },
    });
    for (const v of running) {
      if (engine.kind === 'LOCAL') {
        this.deps.log.info({ modelVersionId: v.id }, 'resuming a training interrupted by a stop');
        await engine.start({ runId: v.id, workflow: 'train-model', input: { modelVersionId: v.id } });
      } else if (v.executionId) engine.watch?.(v.executionId);
    }
    return running.length;
  }

  /**
   * The automatic trigger: trains the dataset's models again once `retrainAfterLabels` labels
   * arrived since its last training began (or, on schedule, when that is older than the interval
   * and any label arrived). Many labels at once start one training: the partial unique index lets
   * one TRAINING row per (dataset, profile) exist, and the count starts again from its snapshot.
   */
  async retrainIfDue(datasetId: string, cause: 'labels' | 'schedule'): Promise<ModelVersion[]> {
    const { prisma, settings } = this.deps;
    const started: ModelVersion[] = [];
    const profiles = await prisma.modelVersion.findMany({ where: { datasetId }, distinct: ['profile'], select: { profile: true } });
    for (const { profile } of profiles) {
      if (this.deps.external && profile === 'SCREEN') continue;
      const last = await prisma.modelVersion.findFirst({ where: { datasetId, profile }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
      if (!last || last.status === ModelStatus.TRAINING) continue;
      const fresh = await prisma.datasetEntry.count({ where: { datasetId, updatedAt: { gt: labelsCountFrom(last) } } });
      const due =
        cause === 'labels'
          ? settings.retrainAfterLabels > 0 && fresh >= settings.retrainAfterLabels
          : settings.retrainIntervalHours > 0 &&
            fresh > 0 &&
            Date.now() - last.createdAt.getTime() >= settings.retrainIntervalHours * 3_600_000;
      if (!due) continue;
      try {
        const version = await this.request({
          datasetId,
          profile,
          params: last.params as Record<string, unknown>,
          trigger: cause === 'labels' ? ModelTrigger.AUTO_LABELS : ModelTrigger.AUTO_SCHEDULE,
        });
        this.deps.log.info({ datasetId, profile, modelVersionId: version.id, newLabels: fresh, cause }, 'retraining automatically');
        started.push(version);
      } catch (err) {
        // Another instance or label started it first, or the dataset cannot train yet: nothing to do.
        this.deps.log.debug({ err, datasetId, profile }, 'automatic retraining not started');
      }
    }
    return started;
  }

  /** Every dataset the schedule should look at. */
  async retrainScheduled(): Promise<number> {
    const datasets = await this.deps.prisma.modelVersion.findMany({ distinct: ['datasetId'], select: { datasetId: true } });
    let n = 0;
    for (const d of datasets) n += (await this.retrainIfDue(d.datasetId, 'schedule')).length;
    return n;
  }

  lastTraining(datasetId: string): Promise<ModelVersion | null> {
    return this.deps.prisma.modelVersion.findFirst({ where: { datasetId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  }

  /** Labels in the dataset since its last training of `profile` began. */
  async labelsWaiting(datasetId: string, profile: ModelProfile): Promise<number> {
    const last = await this.deps.prisma.modelVersion.findFirst({
      where: { datasetId, profile },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
    return this.deps.prisma.datasetEntry.count({ where: { datasetId, updatedAt: { gt: last ? labelsCountFrom(last) : new Date(0) } } });
  }

  snapshot(trainedOn: TrainedOn): Promise<SnapshotEntry[]> {
    return readSnapshot(this.deps.store, trainedOn);
  }

  item(e: SnapshotEntry): DatasetItem {
    return snapshotItem(this.deps.store, e);
  }

  private async version(id: string): Promise<ModelVersion> {
    const version = await this.deps.prisma.modelVersion.findUnique({ where: { id } });
    if (!version) throw notFound('ModelVersion', id);
    return version;
  }

  private requireEngine(): WorkflowEngine {
    if (!this.engine) throw new Error('no workflow engine is configured');
    return this.engine;
  }
}
