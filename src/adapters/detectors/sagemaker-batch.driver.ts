import { buffer } from 'node:stream/consumers';
import { type BatchTransformConfig } from '../../config/detector-settings';
import { type ObjectStore } from '../object-store/object-store.port';
import { DetectorError, type DetectorImage, type InspectDetector, type InspectResult } from './detector.port';
import { toInspectResult } from './anomaly-result';
import { parseSageMakerAnswer } from './sagemaker-answer';

/** Where a run's Batch Transform job reads its manifest and writes its answers (keys in the bucket, under batch/). */
export interface BatchLocation {
  /** `vigil-<runId>-inspect`: the same run always names the same job, so a retried run never starts a second one. */
  jobName: string;
  manifestKey: string;
  outputPrefix: string;
}

export function batchLocation(runId: string): BatchLocation {
  const jobName = `vigil-${runId}-inspect`;
  if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(jobName))
    throw new Error(`run id ${JSON.stringify(runId)} cannot name a SageMaker transform job (at most 63 letters, digits or -)`);
  return { jobName, manifestKey: `batch/${jobName}/manifest.json`, outputPrefix: `batch/${jobName}/out` };
}

/** A ManifestFile answer lands at `<S3OutputPath>/<key relative to the manifest's prefix>.out`; the prefix is the bucket. */
export const batchOutputKey = (location: BatchLocation, pictureKey: string) => `${location.outputPrefix}/${pictureKey}.out`;

/**
 * Stage 2 as a SageMaker Batch Transform job (INSPECT_MODE=batch). The job runs in the workflow; this detector reads its
 * answers back, one `.out` file per picture in the endpoint's answer format, so detections are recorded as the endpoint
 * path records them. Without a run's job (`forRun`) it refuses: there is no endpoint to call.
 */
export class SageMakerBatchDetector implements InspectDetector {
  readonly name = 'sagemaker-batch';

  constructor(
    readonly options: BatchTransformConfig & { reviewBelow: number },
    private readonly results: { store: ObjectStore; location: BatchLocation } | null = null,
  ) {}

  async versionFor(): Promise<string> {
    return `sagemaker-batch:${this.options.modelName}`;
  }

  /** The same detector, reading the answers of that run's job. */
  forRun(store: ObjectStore, runId: string): SageMakerBatchDetector {
    return new SageMakerBatchDetector(this.options, { store, location: batchLocation(runId) });
  }

  async inspect(image: DetectorImage): Promise<InspectResult> {
    if (!this.results) {
      throw new DetectorError('INSPECT_MODE=batch: stage 2 runs as a Batch Transform job in detect-inspection-batch, not per image');
    }
    const { store, location } = this.results;
    const key = batchOutputKey(location, image.key);
    if (!(await store.head(key))) throw new DetectorError(`transform job ${location.jobName} wrote no answer for ${image.key} (${key})`);
    const text = (await buffer(await store.get(key))).toString('utf8');
    const answer = parseSageMakerAnswer(text, `transform job ${location.jobName} (${key})`);
    return toInspectResult(answer, { modelVersion: await this.versionFor(), reviewBelow: this.options.reviewBelow, raw: {} });
  }
}
