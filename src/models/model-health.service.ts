import { type Logger } from 'pino';
import { type PrismaClient } from '../generated/prisma/client';
import { ModelStatus, ReviewReason, ReviewTaskStatus } from '../generated/prisma/enums';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { modelDriftEvent, webhookEvents } from '../webhooks/outbox';

/** Model verdicts against reviewer verdicts over one kind of review task (anomalous is positive). */
export interface Agreement {
  samples: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** Null without a model-positive sample. */
  precision: number | null;
  /** Null without a reviewer-positive sample. */
  recall: number | null;
  /** Share of samples where model and reviewer agree; null without samples. */
  agreement: number | null;
}

export interface ModelHealth {
  deviceType: string;
  /** The versions whose verdicts were compared: the serving SCREEN and INSPECT versions (all versions when none is deployed). */
  modelVersionIds: string[];
  /** SAMPLED_QA tasks: a fixed share of confident verdicts, so an unbiased estimate. */
  qa: Agreement;
  /** LOW_CONFIDENCE tasks: the cases the model itself doubted, biased towards mistakes by construction. Shown apart, never mixed in. */
  lowConfidence: Agreement;
  settings: { window: number; minSamples: number; floor: number };
  /** The QA estimate has at least minSamples and its precision or recall is below the floor. */
  belowFloor: boolean;
  /** The drift alert is raised (it fired and the estimate has not recovered since). */
  drifting: boolean;
  datasetId: string | null;
  labelsWaiting: number;
  lastTrainedAt: Date | null;
  trainingVersionId: string | null;
}

export interface HealthDeps {
  prisma: PrismaClient;
  events: EventBus;
  settings: { window: number; minSamples: number; floor: number };
  labelsWaiting: (datasetId: string) => Promise<number>;
  log: Logger;
}

const ratio = (a: number, b: number) => (b ? a / b : null);

/**
 * The agreement monitor: rolling precision and recall of the serving model against reviewers,
 * from the last MODEL_HEALTH_WINDOW completed SAMPLED_QA tasks. LOW_CONFIDENCE tasks are shown
 * separately: they were sent to people because the model doubted them, so they would make any
 * model look worse than it is. A fall below MODEL_HEALTH_FLOOR logs a warning and publishes
 * MODEL_DRIFT once (a conditional update of active_models.drifting decides who fires).
 */
export class ModelHealthService {
  constructor(private readonly deps: HealthDeps) {}

  async health(deviceType: string): Promise<ModelHealth> {
    const { prisma, settings } = this.deps;
    const active = await prisma.activeModel.findMany({ where: { deviceType }, include: { model: true } });
    const versions = active.map((a) => a.model.version).filter((v): v is string => !!v);
    const agreement = async (reason: ReviewReason): Promise<Agreement> => {
      const tasks = await prisma.reviewTask.findMany({
        where: {
          reason,
          status: ReviewTaskStatus.COMPLETED,
          verdict: { not: null },
          inspection: { device: { type: deviceType } },
          detection: versions.length ? { modelVersion: { in: versions } } : { isNot: null },
        },
        select: { verdict: true, detection: { select: { isAnomalous: true } } },
        orderBy: [{ completedAt: 'desc' }, { id: 'desc' }],
        take: settings.window,
      });
      const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
      for (const t of tasks) {
        const model = t.detection!.isAnomalous;
        const person = t.verdict === 'ANOMALOUS';
        if (model && person) c.tp++;
        else if (model) c.fp++;
        else if (person) c.fn++;
        else c.tn++;
      }
      return {
        samples: tasks.length,
        ...c,
        precision: ratio(c.tp, c.tp + c.fp),
        recall: ratio(c.tp, c.tp + c.fn),
        agreement: ratio(c.tp + c.tn, tasks.length),
      };
    };
    const qa = await agreement(ReviewReason.SAMPLED_QA);
    const lowConfidence = await agreement(ReviewReason.LOW_CONFIDENCE);
    const dataset = await prisma.dataset.findFirst({ where: { deviceType }, orderBy: { createdAt: 'asc' } });
    const last = dataset
      ? await prisma.modelVersion.findFirst({ where: { datasetId: dataset.id }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] })
      : null;
    const training = dataset
      ? await prisma.modelVersion.findFirst({ where: { datasetId: dataset.id, status: ModelStatus.TRAINING } })
      : null;
    return {
      deviceType,
      modelVersionIds: active.map((a) => a.modelVersionId),
      qa,
      lowConfidence,
      settings,
      belowFloor: qa.samples >= settings.minSamples && [qa.precision, qa.recall].some((v) => v !== null && v < settings.floor),
      drifting: active.some((a) => a.drifting),
      datasetId: dataset?.id ?? null,
      labelsWaiting: dataset ? await this.deps.labelsWaiting(dataset.id) : 0,
      lastTrainedAt: last?.createdAt ?? null,
      trainingVersionId: training?.id ?? null,
    };
  }

  /** After a review: recompute, and raise (once) or clear the drift alert of the serving versions. */
  /** check() for the device type of a dataset that just received a label; nothing for an unknown dataset. */
  async checkDataset(datasetId: string): Promise<ModelHealth | null> {
    const dataset = await this.deps.prisma.dataset.findUnique({ where: { id: datasetId }, select: { deviceType: true } });
    return dataset ? this.check(dataset.deviceType) : null;
  }

  async check(deviceType: string): Promise<ModelHealth> {
    const health = await this.health(deviceType);
    if (!health.modelVersionIds.length) return health;
    const { prisma } = this.deps;
    if (health.belowFloor) {
      const drift = {
        deviceType,
        modelVersionIds: health.modelVersionIds,
        precision: health.qa.precision,
        recall: health.qa.recall,
        samples: health.qa.samples,
        floor: health.settings.floor,
      };
      const raised = await prisma.$transaction(async (tx) => {
        const raised = await tx.activeModel.updateMany({ where: { deviceType, drifting: false }, data: { drifting: true } });
        if (raised.count) await webhookEvents(tx, [modelDriftEvent(drift)]);
        return raised;
      });
      if (raised.count) {
        this.deps.log.warn(drift, 'model drift: agreement with reviewers on QA samples fell below MODEL_HEALTH_FLOOR');
        await this.deps.events.publish('MODEL_DRIFT', { ...drift, at: new Date().toISOString() });
        return { ...health, drifting: true };
      }
    } else if (health.drifting && health.qa.samples >= health.settings.minSamples) {
      await prisma.activeModel.updateMany({ where: { deviceType, drifting: true }, data: { drifting: false } });
      this.deps.log.info(
        { deviceType, precision: health.qa.precision, recall: health.qa.recall },
        'model agreement with reviewers is back above MODEL_HEALTH_FLOOR',
      );
      return { ...health, drifting: false };
    }
    return health;
  }
}
