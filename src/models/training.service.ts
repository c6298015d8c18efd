import crypto from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { type Logger } from 'pino';
import { z } from 'zod';
import { type ModelDeployment, type ModelVersion, type PrismaClient } from '../generated/prisma/client';
import { byId, type Ordering, type PageLimits, paginate } from '../common/pagination/keyset';
import { type PageArgs } from '../common/pagination/page.args';
import { type Connection } from '../common/pagination/connection.type';
import { ModelStatus, ModelTrigger, type ModelProfile } from '../generated/prisma/enums';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { type BackboneProvider } from '../adapters/backbone/backbone.factory';
import { badInput, conflict, notFound } from '../common/errors';
import { isUniqueViolation } from '../db/prisma-errors';
import { type DatasetService, type LabelledRegion } from '../datasets/dataset.service';
import { manifestLine } from '../datasets/lookout-manifest';
import { binaryMaskOf, maskColorMap } from '../datasets/mask';
import { type DatasetItem } from '../anomaly-model/dataset';
import { train } from '../anomaly-model/detector';
import { type ExecutionOutcome, type RunReconciler, type WorkflowEngine } from '../adapters/workflow-engine/workflow-engine.port';
import { evaluateOn, type ModelMetrics } from './evaluation';
import { type StoredModels } from './model-artifacts';
import { fromDbProfile } from './profile';
import { type ExternalTrainer } from '../adapters/model-trainer/model-trainer.port';

/** One entry of the dataset as it was when a training began: what it trained and was tested on. */
export interface SnapshotEntry {
  id: string;
  key: string;
  label: 'normal' | 'anomalous';
  type: string | null;
  /** Every anomaly type its regions name (the mask's colours). */
  types: string[];
  maskKey: string | null;
  split: 'TRAIN' | 'TEST';
}

/** ModelVersion.trainedOn. */
export interface TrainedOn {
  snapshotKey: string;
  takenAt: string;
  /** The newest label it includes: labels after this one count towards the next training. */
  labelledThrough: string | null;
  entries: number;
  train: { count: number; normal: number; anomalous: number };
  test: { count: number; normal: number; anomalous: number };
  /** Hash of the TEST entries and their labels: two versions compare only on the same split. */
  splitHash: string;
  trainManifestKey: string;
  testManifestKey: string;
}

/** ModelVersion.metrics: the candidate's figures on its test split, and the serving version's on the same split. */
export interface StoredMetrics extends ModelMetrics {
  baseline: { modelVersionId: string; version: string | null; metrics: ModelMetrics } | null;
}

export class TrainingFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Vigil.TrainingFailed';
  }
}

const builtinParams = z.strictObject({
  seed: z.number().int().min(0).max(2 ** 31).optional(),
});

export interface TrainingDeps {
  prisma: PrismaClient;
  store: ObjectStore;
  models: StoredModels;
  /** The features the built-in model learns on. */
  backbone: BackboneProvider;
  datasets: DatasetService;
  objectUri: (key: string) => string;
  /** Lookout for Vision or SageMaker when the inspect detector is one; null: the built-in model. */
  external: ExternalTrainer | null;
  /** Why cloud training cannot run (settings missing); null when it can or the model is built in. */
  unavailable?: string | null;
  /** What detections record for a cloud model (the inspect detector's own naming, e.g. lookout-for-vision:<project>:<n>). */
  externalVersionName: (externalVersion: string) => string;
  settings: { pollSeconds: number; anomalyTypes: string[]; retrainAfterLabels: number; retrainIntervalHours: number };
  /** Called when a version reached TRAINED: automatic trainings deploy through the gate. */
  onTrained?: (version: ModelVersion) => Promise<void>;
  log: Logger;
}

const TRAINER_BUILTIN = 'builtin';

/**
 * Trains model versions from datasets through workflows/train-model.asl.json: the request, each
 * step (idempotent: a retried or resumed step finds what the first attempt wrote), the engine's
 * report of the end, and the automatic retraining trigger.
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
  async request(input: { datasetId: string; profile: ModelProfile; params?: Record<string, unknown> | null; trigger?: ModelTrigger; requestedBy?: string | null }): Promise<ModelVersion> {
    const { prisma } = this.deps;
    const dataset = await prisma.dataset.findUnique({ where: { id: input.datasetId } });
    if (!dataset) throw notFound('Dataset', input.datasetId);
    if (this.deps.unavailable) throw badInput('datasetId', `training in AWS is not configured: ${this.deps.unavailable}`);
    const params = this.checkParams(input.profile, input.params ?? {});
    const counts = await prisma.datasetEntry.groupBy({ by: ['split', 'label'], where: { datasetId: dataset.id }, _count: { _all: true } });
    const count = (split: string, label?: string) => counts.filter((c) => c.split === split && (!label || c.label === label)).reduce((n, c) => n + c._count._all, 0);
    if (count('TRAIN', 'NORMAL') < 2) throw badInput('datasetId', `dataset ${dataset.name} has ${count('TRAIN', 'NORMAL')} NORMAL entries in its TRAIN split; training needs at least 2`);
    if (count('TEST') === 0) throw badInput('datasetId', `dataset ${dataset.name} has no TEST entries: a model is measured on the test split only, never on what it trained on`);
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
      const running = await prisma.modelVersion.findFirst({ where: { datasetId: dataset.id, profile: input.profile, status: ModelStatus.TRAINING } });
      throw conflict('datasetId', `dataset ${dataset.name} is already training its ${input.profile} model (version ${running?.id ?? 'unknown'}); one training per dataset and profile at a time`);
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
    if (!this.deps.external) {
      const parsed = builtinParams.safeParse(params);
      if (!parsed.success) throw badInput('params', `${parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')} (the built-in model takes seed)`);
      return parsed.data;
    }
    if (profile === 'SCREEN') throw badInput('profile', `SCREEN models are trained only for the built-in screen detector; ${this.deps.external.kind} trains the INSPECT model`);
    for (const [k, v] of Object.entries(params)) {
      if (!['string', 'number', 'boolean'].includes(typeof v)) throw badInput(`params.${k}`, 'hyperparameters are strings, numbers or booleans');
    }
    return params as Record<string, string | number | boolean>;
  }

  /** BeginTraining: TRAINING starts; the dataset's entries are frozen into a snapshot and two manifests (once). */
  async begin(id: string): Promise<{ trainCount: number; testCount: number }> {
    const version = await this.version(id);
    const existing = version.trainedOn as TrainedOn | null;
    if (existing) return { trainCount: existing.train.count, testCount: existing.test.count };
    // Masks of newly reviewed entries are drawn by publishing; the snapshot names them.
    await this.deps.datasets.publish(version.datasetId);
    const rows = await this.deps.prisma.datasetEntry.findMany({
      where: { datasetId: version.datasetId },
      include: { image: { select: { normalizedKey: true } } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    const entries: SnapshotEntry[] = [];
    for (const row of rows) {
      const key = row.image?.normalizedKey ?? row.sourceKey;
      if (!key) continue;
      const regions = row.regions as unknown as LabelledRegion[];
      entries.push({
        id: row.id,
        key,
        label: row.label === 'ANOMALOUS' ? 'anomalous' : 'normal',
        type: row.label === 'ANOMALOUS' ? (regions[0]?.type ?? 'anomaly') : null,
        types: [...new Set(regions.map((r) => r.type))],
        maskKey: row.maskKey,
        split: row.split,
      });
    }
    const labelledThrough = rows.reduce<Date | null>((max, r) => (!max || r.updatedAt > max ? r.updatedAt : max), null);
    const stats = (split: 'TRAIN' | 'TEST') => {
      const of = entries.filter((e) => e.split === split);
      return { count: of.length, normal: of.filter((e) => e.label === 'normal').length, anomalous: of.filter((e) => e.label === 'anomalous').length };
    };
    const prefix = `models/runs/${version.id}`;
    const trainedOn: TrainedOn = {
      snapshotKey: `${prefix}/snapshot.json`,
      takenAt: new Date().toISOString(),
      labelledThrough: labelledThrough?.toISOString() ?? null,
      entries: entries.length,
      train: stats('TRAIN'),
      test: stats('TEST'),
      splitHash: splitHash(entries),
      trainManifestKey: `${prefix}/train.manifest`,
      testManifestKey: `${prefix}/test.manifest`,
    };
    await this.deps.store.put(trainedOn.snapshotKey, Buffer.from(JSON.stringify({ modelVersionId: version.id, datasetId: version.datasetId, entries })), { contentType: 'application/json' });
    await this.deps.store.put(trainedOn.trainManifestKey, this.manifest(entries.filter((e) => e.split === 'TRAIN'), rows), { contentType: 'application/x-ndjson' });
    await this.deps.store.put(trainedOn.testManifestKey, this.manifest(entries.filter((e) => e.split === 'TEST'), rows), { contentType: 'application/x-ndjson' });
    // First snapshot wins: a retried step that raced another keeps what the version trains on.
    await this.deps.prisma.$executeRaw`UPDATE model_versions SET trained_on = ${JSON.stringify(trainedOn)}::jsonb, started_at = now(), updated_at = now() WHERE id = ${id}::uuid AND trained_on IS NULL`;
    const stored = (await this.version(id)).trainedOn as unknown as TrainedOn;
    return { trainCount: stored.train.count, testCount: stored.test.count };
  }

  private manifest(entries: SnapshotEntry[], rows: { id: string; updatedAt: Date }[]): Buffer {
    const when = new Map(rows.map((r) => [r.id, r.updatedAt]));
    const lines = entries.map((e) =>
      JSON.stringify(
        manifestLine({
          sourceRef: this.deps.objectUri(e.key),
          anomalous: e.label === 'anomalous',
          maskRef: e.maskKey && e.types.length ? this.deps.objectUri(e.maskKey) : null,
          colorMap: e.maskKey && e.types.length ? maskColorMap(e.types, this.deps.settings.anomalyTypes) : null,
          createdAt: when.get(e.id) ?? new Date(),
          jobName: 'vigil-training',
        }),
      ),
    );
    return Buffer.from(lines.map((l) => `${l}\n`).join(''));
  }

  /**
   * StartTraining: the built-in model trains here and now (done: true); a cloud trainer is started
   * and polled by CheckTraining after `pollSeconds`.
   */
  async start(id: string): Promise<{ done: boolean; pollSeconds: number }> {
    const version = await this.version(id);
    const trainedOn = this.trainedOn(version);
    const pollSeconds = this.deps.settings.pollSeconds;
    if (version.version) return { done: true, pollSeconds };
    const external = this.deps.external;
    if (!external) {
      await this.trainBuiltin(version, trainedOn);
      return { done: true, pollSeconds };
    }
    if (!version.externalId) {
      const { externalId } = await external.start({
        modelVersionId: version.id,
        deviceType: version.deviceType,
        trainManifestUri: this.deps.objectUri(trainedOn.trainManifestKey),
        testManifestUri: this.deps.objectUri(trainedOn.testManifestKey),
        params: version.params as Record<string, string | number | boolean>,
      });
      await this.deps.prisma.modelVersion.update({ where: { id }, data: { externalId } });
    }
    return { done: false, pollSeconds };
  }

  /** CheckTraining: where the cloud training stands; a failed one fails the workflow with the service's reason. */
  async check(id: string): Promise<{ done: boolean; pollSeconds: number }> {
    const version = await this.version(id);
    const pollSeconds = this.deps.settings.pollSeconds;
    if (version.version) return { done: true, pollSeconds };
    if (!this.deps.external || !version.externalId) throw new TrainingFailedError(`model version ${id} has no training to check`);
    const status = await this.deps.external.status(version.externalId);
    if (status.state === 'RUNNING') return { done: false, pollSeconds };
    if (status.state === 'FAILED') throw new TrainingFailedError(`${status.error}: ${status.cause}`);
    const trainedOn = this.trainedOn(version);
    const m = status.metrics;
    const metrics: StoredMetrics = {
      source: this.deps.external.kind,
      testCount: trainedOn.test.count,
      normal: trainedOn.test.normal,
      anomalous: trainedOn.test.anomalous,
      auroc: m.auroc,
      precision: m.precision,
      recall: m.recall,
      f1: m.f1,
      threshold: null,
      reviewBandShare: null,
      accuracyOutsideBand: null,
      confusion: null,
      splitHash: trainedOn.splitHash,
      baseline: null,
    };
    await this.deps.prisma.modelVersion.update({
      where: { id },
      data: { version: this.deps.externalVersionName(status.externalVersion), externalVersion: status.externalVersion, artifactUri: status.artifactUri, metrics: metrics as object },
    });
    return { done: true, pollSeconds };
  }

  private async trainBuiltin(version: ModelVersion, trainedOn: TrainedOn): Promise<void> {
    const entries = await this.snapshot(trainedOn);
    const items = entries.filter((e) => e.split === 'TRAIN').map((e) => this.item(e));
    const params = version.params as { seed?: number };
    const started = Date.now();
    let lastLog = 0;
    const artifact = await train(await this.deps.backbone.get(), { items }, {
      profile: fromDbProfile(version.profile),
      seed: params.seed,
      onProgress: (phase, done, total) => {
        if (Date.now() - lastLog < 5000 && done !== total) return;
        lastLog = Date.now();
        this.deps.log.info({ modelVersionId: version.id, phase, done, total }, 'training');
      },
    });
    const stored = await this.deps.models.put(version.deviceType, artifact);
    await this.deps.prisma.modelVersion.update({
      where: { id: version.id },
      data: {
        version: artifact.manifest.version,
        artifactKey: stored.key,
        artifactBytes: stored.bytes,
        artifactSha256: stored.sha256,
        thresholds: artifact.manifest.thresholds as object,
      },
    });
    this.deps.log.info({ modelVersionId: version.id, version: artifact.manifest.version, seconds: (Date.now() - started) / 1000 }, 'model trained');
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
    if (!version.artifactKey) throw new TrainingFailedError(`model version ${id} has no artifact to evaluate`);
    const trainedOn = this.trainedOn(version);
    const test = (await this.snapshot(trainedOn)).filter((e) => e.split === 'TEST').map((e) => this.item(e));
    const backbone = await this.deps.backbone.get();
    const metrics = await evaluateOn(backbone, await this.deps.models.read(version.artifactKey), test, trainedOn.splitHash);
    const active = await this.deps.prisma.activeModel.findUnique({ where: { deviceType_profile: { deviceType: version.deviceType, profile: version.profile } }, include: { model: true } });
    let baseline: StoredMetrics['baseline'] = null;
    if (active && active.model.id !== version.id && active.model.artifactKey) {
      baseline = { modelVersionId: active.model.id, version: active.model.version, metrics: await evaluateOn(backbone, await this.deps.models.read(active.model.artifactKey), test, trainedOn.splitHash) };
    }
    const stored: StoredMetrics = { ...metrics, baseline };
    await this.deps.prisma.modelVersion.update({ where: { id }, data: { metrics: stored as object } });
    return { auroc: metrics.auroc, f1: metrics.f1 };
  }

  /** A stored built-in version's figures on test items (never ones it trained on). */
  async measure(artifactKey: string, items: DatasetItem[], splitHash: string): Promise<ModelMetrics> {
    return evaluateOn(await this.deps.backbone.get(), await this.deps.models.read(artifactKey), items, splitHash);
  }

  /** FinishTraining: TRAINED, once; then the onTrained hook (automatic deployment). */
  async finish(id: string): Promise<{ status: ModelStatus }> {
    const updated = await this.deps.prisma.modelVersion.updateManyAndReturn({ where: { id, status: ModelStatus.TRAINING }, data: { status: ModelStatus.TRAINED, finishedAt: new Date() } });
    if (updated.length) {
      const m = updated[0].metrics as unknown as StoredMetrics | null;
      this.deps.log.info({ modelVersionId: id, version: updated[0].version, auroc: m?.auroc, f1: m?.f1 }, 'model version trained');
      await this.deps.onTrained?.(updated[0]).catch((err) => this.deps.log.error({ err, modelVersionId: id }, 'after-training step failed'));
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
    else await this.fail(version.id, outcome.error ?? `Execution.${outcome.status}`, outcome.cause ?? `the execution ended ${outcome.status}`);
  }

  /** Trainings a stopped process left running: the local engine starts them again (steps are idempotent). */
  async resumeInterrupted(): Promise<number> {
    const engine = this.requireEngine();
    const running = await this.deps.prisma.modelVersion.findMany({ where: { status: ModelStatus.TRAINING }, orderBy: { createdAt: 'asc' } });
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
          : settings.retrainIntervalHours > 0 && fresh > 0 && Date.now() - last.createdAt.getTime() >= settings.retrainIntervalHours * 3_600_000;
      if (!due) continue;
      try {
        const version = await this.request({ datasetId, profile, params: last.params as Record<string, unknown>, trigger: cause === 'labels' ? ModelTrigger.AUTO_LABELS : ModelTrigger.AUTO_SCHEDULE });
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
    const last = await this.deps.prisma.modelVersion.findFirst({ where: { datasetId, profile }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    return this.deps.prisma.datasetEntry.count({ where: { datasetId, updatedAt: { gt: last ? labelsCountFrom(last) : new Date(0) } } });
  }

  async snapshot(trainedOn: TrainedOn): Promise<SnapshotEntry[]> {
    const doc = JSON.parse((await buffer(await this.deps.store.get(trainedOn.snapshotKey))).toString('utf8')) as { entries: SnapshotEntry[] };
    return doc.entries;
  }

  item(e: SnapshotEntry): DatasetItem {
    const { store } = this.deps;
    return {
      id: e.id,
      label: e.label,
      type: e.type,
      load: async () => buffer(await store.get(e.key)),
      loadMask: e.maskKey ? async () => binaryMaskOf(await buffer(await store.get(e.maskKey!))) : null,
    };
  }

  private trainedOn(version: ModelVersion): TrainedOn {
    if (!version.trainedOn) throw new TrainingFailedError(`model version ${version.id} has no snapshot: BeginTraining has not run`);
    return version.trainedOn as unknown as TrainedOn;
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

/** Labels changed after this count towards the next training: the snapshot's time, or the request's before it has one. */
function labelsCountFrom(version: ModelVersion): Date {
  const trainedOn = version.trainedOn as unknown as TrainedOn | null;
  return trainedOn ? new Date(trainedOn.takenAt) : version.createdAt;
}

/** The TEST entries and their labels, order-free: equal hashes mean the same test split. */
export function splitHash(entries: SnapshotEntry[]): string {
  const lines = entries
    .filter((e) => e.split === 'TEST')
    .map((e) => `${e.key}\t${e.label}`)
    .sort();
  return crypto.createHash('sha256').update(lines.join('\n')).digest('hex');
}

export const VERSION_ORDER: Ordering = [{ field: 'createdAt', column: 'created_at', kind: 'date', direction: 'desc' }, byId('desc')];

export interface ModelVersionFilter {
  deviceType?: string | null;
  profile?: ModelProfile | null;
  status?: ModelStatus | null;
  datasetId?: string | null;
}

/** Reading model versions: GraphQL and the CLI. */
export class ModelVersionQueries {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly limits: PageLimits,
  ) {}

  byIds(ids: readonly string[]): Promise<ModelVersion[]> {
    return this.prisma.modelVersion.findMany({ where: { id: { in: [...ids] } } });
  }

  list(filter: ModelVersionFilter, page: PageArgs): Promise<Connection<ModelVersion>> {
    const where = {
      ...(filter.deviceType ? { deviceType: filter.deviceType } : {}),
      ...(filter.profile ? { profile: filter.profile } : {}),
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.datasetId ? { datasetId: filter.datasetId } : {}),
    };
    return paginate({
      page,
      ordering: VERSION_ORDER,
      limits: this.limits,
      where,
      find: (q) => this.prisma.modelVersion.findMany(q),
      count: (w) => this.prisma.modelVersion.count({ where: w }),
    });
  }

  deployment(id: string): Promise<ModelDeployment | null> {
    return this.prisma.modelDeployment.findUnique({ where: { id } });
  }
}
