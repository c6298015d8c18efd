import { buffer } from 'node:stream/consumers';
import { type PrismaClient } from '../generated/prisma/client';
import { DetectionStage } from '../generated/prisma/enums';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { type InspectDetector } from '../adapters/detectors/detector.port';
import { batchLocation, SageMakerBatchDetector } from '../adapters/detectors/sagemaker-batch.driver';
import { notFound } from '../common/errors';
import { type DetectionService, type InspectRoute } from './detection.service';
import { picturesOf } from './pictures';

/** What the workflow's `createTransformJob.sync` state is started with: ids, names and locations only. */
export interface BatchPlan {
  jobName: string;
  modelName: string;
  instanceType: string;
  instanceCount: number;
  /** s3:// URIs of the ManifestFile and of the output prefix. */
  manifestUri: string;
  outputUri: string;
  /** Pictures in the manifest: the job's cost is shared over them. 0: nothing to send, no job. */
  pictures: number;
}

/** The parts of DescribeTransformJob's answer (as Step Functions passes it on) that the cost share needs. */
export interface FinishedJob {
  TransformStartTime?: string | number;
  TransformEndTime?: string | number;
  TransformResources?: { InstanceCount?: number };
}

const SCREENED_AS_FLAGGED = 'FLAGGED';
// Step Functions may pass SageMaker's timestamps on as epoch milliseconds; the local engine passes ISO strings.
const timeOf = (t: string | number | undefined) => (typeof t === 'number' ? t : Date.parse(t ?? ''));

/**
 * Stage 2 as one SageMaker Batch Transform job per run (INSPECT_MODE=batch): `prepare` writes the ManifestFile of the
 * pictures the endpoint path would send, `record` reads each image's answers back and records them through
 * DetectionService.inspect, so detections, routes and anomalies are the endpoint path's; the job's instance time is
 * the cost, shared over its pictures.
 */
export class BatchInspectionService {
  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      store: ObjectStore;
      bucket: string | null;
      detections: DetectionService;
      inspect: InspectDetector;
    },
  ) {}

  /** Writes the run's manifest once (a replay reads it back, so the job and its cost share stay the same) and names the job. */
  async prepare(runId: string, screened: { imageId: string; route: string }[]): Promise<BatchPlan> {
    const detector = this.detector();
    const bucket = this.deps.bucket;
    if (!bucket) throw new Error('INSPECT_MODE=batch needs OBJECT_STORE=s3: the transform job reads its manifest from S3');
    const location = batchLocation(runId);
    const existing = await this.deps.store.head(location.manifestKey);
    const keys = existing ? await this.readManifest(location.manifestKey) : await this.picturesToSend(runId, screened);
    if (!existing && keys.length) {
      const manifest = [{ prefix: `s3://${bucket}/` }, ...keys];
      await this.deps.store.put(location.manifestKey, Buffer.from(JSON.stringify(manifest)), { contentType: 'application/json' });
    }
    const { modelName, instanceType, instanceCount } = detector.options;
    return {
      jobName: location.jobName,
      modelName,
      instanceType,
      instanceCount,
      manifestUri: `s3://${bucket}/${location.manifestKey}`,
      outputUri: `s3://${bucket}/${location.outputPrefix}`,
      pictures: keys.length,
    };
  }

  /** One image's answers from the finished job, recorded as stage 2 with its share of the job's cost. */
  async record(runId: string, imageId: string, job: FinishedJob, pictures: number): Promise<{ imageId: string; route: InspectRoute }> {
    const detector = this.detector();
    const { instanceCount, instanceHourUsd } = detector.options;
    const started = timeOf(job.TransformStartTime);
    const ended = timeOf(job.TransformEndTime);
    // SageMaker bills each instance from start to end of the job, whatever share of it a picture used.
    const seconds = Number.isFinite(started) && Number.isFinite(ended) ? Math.max(0, (ended - started) / 1000) : 0;
    const jobUsd = (seconds / 3600) * (job.TransformResources?.InstanceCount ?? instanceCount) * instanceHourUsd;
    const pricePerCall = pictures > 0 ? jobUsd / pictures : 0;
    return this.deps.detections.inspect(runId, imageId, { detector: detector.forRun(this.deps.store, runId), pricePerCall });
  }

  private detector(): SageMakerBatchDetector {
    if (this.deps.inspect instanceof SageMakerBatchDetector) return this.deps.inspect;
    throw new Error('detect-inspection-batch runs only with INSPECT_MODE=batch (and INSPECT_DETECTOR=sagemaker)');
  }

  private async readManifest(key: string): Promise<string[]> {
    const [, ...keys] = JSON.parse((await buffer(await this.deps.store.get(key))).toString('utf8')) as [unknown, ...string[]];
    return keys;
  }

  /** The pictures stage 2 would see (flagged tiles only), of flagged images with a stage-2 model and no stage-2 verdict yet. */
  private async picturesToSend(runId: string, screened: { imageId: string; route: string }[]): Promise<string[]> {
    const keys = new Set<string>();
    for (const { imageId } of screened.filter((s) => s.route === SCREENED_AS_FLAGGED)) {
      const row = await this.deps.prisma.image.findUnique({
        where: { id: imageId },
        include: { tiles: { orderBy: { index: 'asc' } }, inspection: { include: { device: true } } },
      });
      if (!row?.inspection) throw notFound('Image', imageId);
      const { inspection, ...image } = row;
      const version = (await this.deps.detections.pinned(runId, inspection.device.type)).inspect;
      if (!version) continue; // cold start: RecordBatchResult routes it to a person
      const judged = await this.deps.prisma.detection.findUnique({
        where: { imageId_stage_modelVersion: { imageId, stage: DetectionStage.INSPECT, modelVersion: version } },
      });
      if (judged) continue;
      const screen = await this.deps.prisma.detection.findFirst({
        where: { imageId, stage: DetectionStage.SCREEN },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      });
      const flaggedTiles = (screen?.result as { flaggedTiles?: (number | null)[] } | null)?.flaggedTiles ?? null;
      const pictures = picturesOf({
        ...image,
        inspectionId: inspection.id,
        deviceId: inspection.deviceId,
        deviceType: inspection.device.type,
      });
      for (const p of pictures) if (!flaggedTiles || flaggedTiles.includes(p.index)) keys.add(p.key);
    }
    return [...keys];
  }
}
