import { type Logger } from 'pino';
import { type PrismaClient, type WorkflowRun } from '../generated/prisma/client';
import { ImageStatus, InspectionStatus, WorkflowEngine as EngineKind, WorkflowRunStatus } from '../generated/prisma/enums';
import { badInput, notFound } from '../common/errors';
import { type DetectionService } from '../detections/detection.service';
import { type DeviceService } from '../devices/device.service';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import crypto from 'node:crypto';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import {
  type ExecutionOutcome,
  type RunReconciler,
  type WorkflowEngine,
  type WorkflowName,
} from '../adapters/workflow-engine/workflow-engine.port';
import { inspectionFinishedEvent, webhookEvents } from '../webhooks/outbox';
import { settleSurveyChildren } from './survey-children';

const ACTIVE: WorkflowRunStatus[] = [WorkflowRunStatus.QUEUED, WorkflowRunStatus.RUNNING];
// A run row without an execution (nor a Distributed Map that runs it) this long after it was made had its start lost (the start is seconds).
const LOST_START_MS = 60_000;
const isLostStart = (run: WorkflowRun, now = Date.now()) =>
  !run.executionId && !run.parentExecutionId && now - run.createdAt.getTime() > LOST_START_MS;
// UPLOADED: every byte is stored (a run's first step checks it). UPLOADING images, whose bodies are still streaming, are
// never taken: when one arrives during a run, the run's end or the upload's completion starts a follow-up (see followUp).
const JUDGEABLE: ImageStatus[] = [ImageStatus.UPLOADED, ImageStatus.READY];

/** The images a run takes: every judgeable one, or (a run vigil started by itself) those no run has judged yet. */
const judgeableImages = (inspectionId: string, onlyUnjudged: boolean) => ({
  inspectionId,
  status: { in: JUDGEABLE },
  ...(onlyUnjudged ? { runImages: { none: {} } } : {}),
});
const ARRIVING: ImageStatus[] = [ImageStatus.PENDING_UPLOAD, ImageStatus.UPLOADING, ImageStatus.UPLOADED];

export interface RunProgress {
  done: number;
  total: number;
}

/**
 * Workflow runs: start, progress, the first and last steps of a run, and the engine's report of an
 * execution's end. The engine is set once the composition root has built it (it needs this service).
 */
export class WorkflowRunService implements RunReconciler {
  private engine: WorkflowEngine | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly detections: DetectionService,
    private readonly devices: DeviceService,
    private readonly events: EventBus,
    private readonly options: {
      mapConcurrency: number;
      autoStart: boolean;
      /** Where the Distributed Map reads its manifest: the object store, when it is an S3 bucket. */
      manifests: { store: ObjectStore; bucket: string | null };
      /** Whether detect-survey is deployed (Step Functions only). */
      distributedSurveys: boolean;
      /** The workflow of one inspection: detect-inspection-batch when stage 2 runs as a Batch Transform job. */
      detectWorkflow?: 'detect-inspection' | 'detect-inspection-batch';
    },
    private readonly log: Logger,
  ) {}

  private get detectWorkflow(): WorkflowName {
    return this.options.detectWorkflow ?? 'detect-inspection';
  }

  useEngine(engine: WorkflowEngine): void {
    this.engine = engine;
  }

  /** Starts detection over the inspection's images; while a run is queued or running, returns that run. */
  async startInspection(inspectionId: string, scope: { onlyUnjudged?: boolean } = {}): Promise<WorkflowRun> {
    const inspection = await this.prisma.inspection.findUnique({ where: { id: inspectionId } });
    if (!inspection) throw notFound('Inspection', inspectionId);
    const onlyUnjudged = scope.onlyUnjudged ?? false;
    const images = await this.prisma.image.count({ where: judgeableImages(inspectionId, onlyUnjudged) });
    if (images === 0) throw badInput('inspectionId', `inspection ${inspectionId} has no uploaded images to judge yet`);
    const engine = this.requireEngine();
    const run = await this.prisma.$transaction(async (tx) => {
      // One active run per inspection: the row lock makes two concurrent starts see each other.
      await tx.$queryRaw`SELECT id FROM inspections WHERE id = ${inspectionId}::uuid FOR UPDATE`;
      const active = await tx.workflowRun.findFirst({ where: { inspectionId, status: { in: ACTIVE } } });
      if (active) return { run: active, created: false };
      const created = await tx.workflowRun.create({
        data: {
          inspectionId,
          workflow: this.detectWorkflow,
          engine: engine.kind === 'LOCAL' ? EngineKind.LOCAL : EngineKind.STEP_FUNCTIONS,
          imagesTotal: images,
          onlyUnjudged,
        },
      });
      return { run: created, created: true };
    });
    if (!run.created && run.run.executionId) return run.run;
    return this.launch(run.run, this.detectWorkflow);
  }

  /**
   * Starts detection for every inspection of a survey. On Step Functions with detect-survey
   * deployed, one execution fans out over a JSON manifest in S3 (a Distributed Map, no 256 KiB
   * state limit); otherwise each inspection gets its own detect-inspection run.
   */
  async startSurvey(surveyId: string): Promise<WorkflowRun[]> {
    const survey = await this.prisma.survey.findUnique({ where: { id: surveyId } });
    if (!survey) throw notFound('Survey', surveyId);
    const inspections = await this.prisma.image.findMany({
      where: { surveyId, inspectionId: { not: null }, status: { in: JUDGEABLE } },
      distinct: ['inspectionId'],
      select: { inspectionId: true },
      orderBy: { inspectionId: 'asc' },
    });
    const ids = inspections.map((i) => i.inspectionId!);
    if (ids.length === 0) throw badInput('surveyId', `survey ${surveyId} has no image matched to a device yet`);
    const engine = this.requireEngine();
    const { bucket, store } = this.options.manifests;
    if (engine.kind !== 'STEP_FUNCTIONS' || !this.options.distributedSurveys || !bucket) {
      const runs: WorkflowRun[] = [];
      for (const id of ids) runs.push(await this.startInspection(id));
      return runs;
    }
    const lost: WorkflowRun[] = [];
    const runs = await this.prisma.$transaction(async (tx) => {
      const created: WorkflowRun[] = [];
      for (const inspectionId of ids) {
        await tx.$queryRaw`SELECT id FROM inspections WHERE id = ${inspectionId}::uuid FOR UPDATE`;
        const active = await tx.workflowRun.findFirst({ where: { inspectionId, status: { in: ACTIVE } } });
        if (active && isLostStart(active)) lost.push(active);
        if (active) continue;
        const imagesTotal = await tx.image.count({ where: { inspectionId, status: { in: JUDGEABLE } } });
        created.push(
          await tx.workflowRun.create({
            data: { inspectionId, workflow: 'detect-survey', engine: EngineKind.STEP_FUNCTIONS, imagesTotal },
          }),
        );
      }
      return created;
    });
    // Runs an earlier call made but never started: each gets its own execution.
    const recovered = await Promise.all(lost.map((run) => this.launch(run, this.detectWorkflow)));
    if (runs.length === 0) return recovered;
    const fanOut = crypto.randomUUID();
    const key = `workflows/surveys/${surveyId}/${fanOut}.json`;
    await store.put(key, Buffer.from(JSON.stringify(runs.map((r) => ({ runId: r.id, inspectionId: r.inspectionId })))), {
      contentType: 'application/json',
    });
    let parent: string;
    try {
      ({ executionId: parent } = await engine.start({
        runId: fanOut,
        workflow: 'detect-survey',
        input: { manifest: { bucket, key }, concurrency: this.options.mapConcurrency },
      }));
    } catch (err) {
      for (const run of runs) await this.fail(run.id, 'Vigil.StartFailed', (err as Error).message);
      throw err;
    }
    // Each run names the Distributed Map execution that runs it; its own child execution's ARN is recorded by the
    // child's BeginRun, and when the map ends, runs still open are settled by their children (see settleChildren).
    const started = await Promise.all(
      runs.map((run) => this.prisma.workflowRun.update({ where: { id: run.id }, data: { parentExecutionId: parent } })),
    );
    return [...recovered, ...started];
  }

  /**
   * Local engine: runs left queued or running when the process stopped start over (the steps are idempotent, so
   * this loses and doubles nothing). Step Functions: every open run's execution, and the Distributed Map of survey
   * runs, are watched again; runs whose start was lost get their own execution, now or once they are old enough to
   * tell (a run made seconds ago may still be starting in another process).
   */
  async resumeInterrupted(): Promise<number> {
    const engine = this.requireEngine();
    if (engine.kind !== 'LOCAL') {
      const open = await this.prisma.workflowRun.findMany({ where: { engine: EngineKind.STEP_FUNCTIONS, status: { in: ACTIVE } } });
      const executions = new Set(open.flatMap((r) => [r.executionId, r.parentExecutionId].filter((id): id is string => !!id)));
      for (const executionId of executions) engine.watch?.(executionId);
      await this.recoverLostStarts(open);
      if (open.some((r) => !r.executionId && !r.parentExecutionId && !isLostStart(r))) {
        setTimeout(() => {
          this.recoverLostStarts().catch((err) => this.log.error({ err }, 'could not recover workflow runs whose start was lost'));
        }, LOST_START_MS + 1000).unref();
      }
      return open.length;
    }
    const runs = await this.prisma.workflowRun.findMany({
      where: { engine: EngineKind.LOCAL, status: { in: ACTIVE } },
      orderBy: { createdAt: 'asc' },
    });
    for (const run of runs) {
      this.log.info({ runId: run.id, inspectionId: run.inspectionId }, 'resuming a workflow run interrupted by a stop');
      await this.launch(run, run.workflow as WorkflowName);
    }
    return runs.length;
  }

  /** Step Functions runs with no execution and no Distributed Map, made long enough ago: each gets its own execution (a failed start fails the run with its reason). */
  async recoverLostStarts(open?: WorkflowRun[]): Promise<WorkflowRun[]> {
    const runs = open ?? (await this.prisma.workflowRun.findMany({ where: { engine: EngineKind.STEP_FUNCTIONS, status: { in: ACTIVE } } }));
    const recovered: WorkflowRun[] = [];
    for (const run of runs.filter((r) => isLostStart(r))) {
      this.log.info({ runId: run.id, inspectionId: run.inspectionId }, 'starting a workflow run whose execution was never started');
      const started = await this.launch(run, this.detectWorkflow).catch(() => null);
      if (started) recovered.push(started);
    }
    return recovered;
  }

  private async launch(run: WorkflowRun, workflow: WorkflowName): Promise<WorkflowRun> {
    try {
      const { executionId } = await this.requireEngine().start({
        runId: run.id,
        workflow,
        input: { runId: run.id, inspectionId: run.inspectionId, concurrency: this.options.mapConcurrency },
      });
      return await this.prisma.workflowRun.update({ where: { id: run.id }, data: { executionId } });
    } catch (err) {
      await this.fail(run.id, 'Vigil.StartFailed', (err as Error).message);
      throw err;
    }
  }

  /**
   * After completeImageUploads: an inspection with no image still awaiting its bytes, no run queued or running, and an
   * image no run has judged yet starts detection (once). Completing again what a run already judged starts nothing;
   * an image that arrives while a run is under way is judged by the follow-up that run's end starts (see followUp).
   */
  async startWhenUploaded(inspectionIds: readonly string[]): Promise<void> {
    if (!this.options.autoStart) return;
    for (const inspectionId of new Set(inspectionIds)) {
      const waiting = await this.prisma.image.count({ where: { inspectionId, status: { in: ARRIVING } } });
      const unjudged = await this.prisma.image.count({ where: { inspectionId, status: ImageStatus.READY, runImages: { none: {} } } });
      const started = await this.prisma.workflowRun.count({ where: { inspectionId, status: { in: ACTIVE } } });
      if (waiting === 0 && unjudged > 0 && started === 0) {
        try {
          await this.startInspection(inspectionId, { onlyUnjudged: true });
        } catch (err) {
          this.log.error({ err, inspectionId }, 'could not start detection after the upload completed; call startInspection to retry');
        }
      }
    }
  }

  get(id: string): Promise<WorkflowRun | null> {
    return this.prisma.workflowRun.findUnique({ where: { id } });
  }

  ofInspections(inspectionIds: readonly string[]): Promise<WorkflowRun[]> {
    return this.prisma.workflowRun.findMany({
      where: { inspectionId: { in: [...inspectionIds] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  async progress(runIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.prisma.workflowRunImage.groupBy({
      by: ['runId'],
      where: { runId: { in: [...runIds] } },
      _count: { _all: true },
    });
    return new Map(rows.map((r) => [r.runId, r._count._all]));
  }

  /**
   * First step: the run is running, the inspection processing; returns the images to judge: their ids, and whether each is
   * ready (checked and derived) so the workflow calls no preprocess step for it. `executionId`
   * is the execution running the step: a survey's child execution names itself on its run here, so it can be
   * reconciled by its own execution.
   */
  async begin(runId: string, executionId?: string): Promise<{ images: { imageId: string; ready: boolean }[]; total: number }> {
    const run = await this.prisma.workflowRun.findUnique({ where: { id: runId } });
    if (!run) throw notFound('WorkflowRun', runId);
    if (executionId && !run.executionId) {
      await this.prisma.workflowRun.updateMany({ where: { id: runId, executionId: null }, data: { executionId } });
    }
    if (!ACTIVE.includes(run.status)) return { images: [], total: 0 };
    const images = await this.prisma.image.findMany({
      where: judgeableImages(run.inspectionId, run.onlyUnjudged),
      select: { id: true, status: true, normalizedKey: true },
      orderBy: { id: 'asc' },
    });
    await this.prisma.$transaction([
      this.prisma.workflowRun.update({
        where: { id: runId },
        data: { status: WorkflowRunStatus.RUNNING, startedAt: run.startedAt ?? new Date(), imagesTotal: images.length },
      }),
      this.prisma.inspection.update({ where: { id: run.inspectionId }, data: { status: InspectionStatus.PROCESSING } }),
    ]);
    await this.events.publish('INSPECTION_UPDATED', { inspectionId: run.inspectionId, status: InspectionStatus.PROCESSING });
    return {
      images: images.map((i) => ({ imageId: i.id, ready: i.status === ImageStatus.READY && !!i.normalizedKey })),
      total: images.length,
    };
  }

  /** Last step of a successful run: active-learning picks, the device's status and defects follow its open anomalies, the run succeeded, the inspection is complete. */
  async finish(runId: string): Promise<{ status: WorkflowRunStatus }> {
    const run = await this.prisma.workflowRun.findUnique({ where: { id: runId }, include: { inspection: true } });
    if (!run) throw notFound('WorkflowRun', runId);
    if (!ACTIVE.includes(run.status)) return { status: run.status };
    // Before the run is marked done, so a replay of this step after a crash still picks (and finds the picks made).
    await this.detections.sampleForLearning(runId);
    // The device's status and defects follow its new anomalies before the run is done: whoever waits for SUCCEEDED (or the
    // inspection's webhook) then reads them. A replay after a crash here refreshes again and finds nothing left to do.
    await this.devices.refreshStatus(run.inspection.deviceId, run.inspectionId);
    await this.prisma.$transaction([
      this.prisma.workflowRun.updateMany({
        where: { id: runId, status: { in: ACTIVE } },
        data: { status: WorkflowRunStatus.SUCCEEDED, finishedAt: new Date() },
      }),
      this.prisma.inspection.update({ where: { id: run.inspectionId }, data: { status: InspectionStatus.COMPLETED } }),
      webhookEvents(this.prisma, [inspectionFinishedEvent(run.inspectionId, run.inspection.deviceId, InspectionStatus.COMPLETED)]),
    ]);
    await this.events.publish('INSPECTION_UPDATED', { inspectionId: run.inspectionId, status: InspectionStatus.COMPLETED });
    await this.followUp(run.inspectionId);
    return { status: WorkflowRunStatus.SUCCEEDED };
  }

  /**
   * An image that finished uploading while a run was past its first step is in no run: the upload's
   * own auto-start saw the active run and left it. Checked after the run is marked done (and the
   * upload checks after its image is marked), so one of the two always sees the other.
   */
  private async followUp(inspectionId: string): Promise<void> {
    if (!this.options.autoStart) return;
    const unjudged = await this.prisma.image.count({ where: { inspectionId, status: { in: JUDGEABLE }, runImages: { none: {} } } });
    if (unjudged === 0) return;
    this.log.info({ inspectionId, unjudged }, 'starting a follow-up run for images uploaded while the last run was running');
    try {
      await this.startInspection(inspectionId, { onlyUnjudged: true });
    } catch (err) {
      this.log.error({ err, inspectionId }, 'could not start the follow-up run; call startInspection to judge the rest');
    }
  }

  /** The run failed: its cause is kept for people, the inspection is FAILED. Finished runs stay as they are. */
  async fail(runId: string, error: string, cause: string): Promise<{ status: WorkflowRunStatus }> {
    const run = await this.prisma.workflowRun.findUnique({ where: { id: runId }, include: { inspection: true } });
    if (!run) throw notFound('WorkflowRun', runId);
    if (!ACTIVE.includes(run.status)) return { status: run.status };
    await this.prisma.$transaction([
      this.prisma.workflowRun.updateMany({
        where: { id: runId, status: { in: ACTIVE } },
        data: { status: WorkflowRunStatus.FAILED, finishedAt: new Date(), error: error.slice(0, 200), cause: cause.slice(0, 4000) },
      }),
      this.prisma.inspection.update({ where: { id: run.inspectionId }, data: { status: InspectionStatus.FAILED } }),
      webhookEvents(this.prisma, [inspectionFinishedEvent(run.inspectionId, run.inspection.deviceId, InspectionStatus.FAILED)]),
    ]);
    this.log.warn({ runId, inspectionId: run.inspectionId, error, cause: cause.slice(0, 500) }, 'workflow run failed');
    await this.events.publish('INSPECTION_UPDATED', { inspectionId: run.inspectionId, status: InspectionStatus.FAILED });
    return { status: WorkflowRunStatus.FAILED };
  }

  /**
   * The engine saw an execution end; a run its own Finish/MarkFailed states already settled is left alone.
   * For a survey's Distributed Map execution, the runs it still leaves open are settled by their own child executions.
   */
  async reconcile(outcome: ExecutionOutcome): Promise<void> {
    const run = await this.prisma.workflowRun.findUnique({ where: { executionId: outcome.executionId } });
    if (!run)
      return settleSurveyChildren(
        { prisma: this.prisma, engine: this.engine, log: this.log, fail: (...a) => this.fail(...a) },
        outcome,
        ACTIVE,
      );
    if (!ACTIVE.includes(run.status)) return;
    if (outcome.status === 'SUCCEEDED') await this.finish(run.id);
    else await this.fail(run.id, outcome.error ?? `Execution.${outcome.status}`, outcome.cause ?? `the execution ended ${outcome.status}`);
  }

  private requireEngine(): WorkflowEngine {
    if (!this.engine) throw new Error('no workflow engine is configured');
    return this.engine;
  }
}
