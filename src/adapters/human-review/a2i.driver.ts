import { StartHumanLoopCommand, type SageMakerA2IRuntimeClient } from '@aws-sdk/client-sagemaker-a2i-runtime';
import { toAwsError } from '../aws-errors';
import { DetectorError } from '../detectors/detector.port';
import { type Box } from '../../common/box';
import { type HumanLoopRequest, type HumanReviewPort } from './human-review.port';
import { humanLoopName } from './human-loop-name';

export interface A2IHumanReviewOptions {
  client: SageMakerA2IRuntimeClient;
  /** arn:aws:sagemaker:<region>:<account>:flow-definition/<name>, whose task UI is workflows/a2i/anomaly-review.liquid.html. */
  flowDefinitionArn: string;
}

/** One box in crowd-bounding-box's initial-value format: whole pixels of the image as stored, from its top-left corner. */
export interface CrowdBoundingBox {
  left: number;
  top: number;
  width: number;
  height: number;
  label: string;
}

/** What the worker template reads as task.input. */
export interface AnomalyReviewInput {
  taskObject: string;
  initialValue: CrowdBoundingBox[];
  labels: string[];
  confidence: number | null;
  taskId: string;
  reason: HumanLoopRequest['reason'];
  deviceType: string;
}

// crowd-bounding-box accepts at most 10 labels.
const MAX_LABELS = 10;

/** A share of the image (0..1) as a pixel span [start, end) of at least one pixel inside `size`. */
function pixelSpan(start: number, length: number, size: number): [number, number] {
  const from = Math.min(Math.max(Math.round(start * size), 0), size - 1);
  const to = Math.min(Math.max(Math.round((start + length) * size), from + 1), size);
  return [from, to - from];
}

/** A Box (shares) as crowd-bounding-box pixels: x becomes left, y top. */
export function toPixelBox(box: Box, imageWidth: number, imageHeight: number, label: string): CrowdBoundingBox {
  const [left, width] = pixelSpan(box.x, box.width, imageWidth);
  const [top, height] = pixelSpan(box.y, box.height, imageHeight);
  return { left, top, width, height, label };
}

/** The InputContent of a loop, keys in a fixed order so a retried start sends identical input. */
export function anomalyReviewInput(request: HumanLoopRequest): AnomalyReviewInput {
  const { imageWidth, imageHeight } = request;
  if (!/^s3:\/\/[^/]+\/.+/.test(request.imageS3Uri))
    throw new DetectorError(`A2I review of task ${request.taskId}: image "${request.imageS3Uri}" is not an s3://bucket/key URI`);
  if (!Number.isInteger(imageWidth) || !Number.isInteger(imageHeight) || imageWidth < 1 || imageHeight < 1) {
    throw new DetectorError(
      `A2I review of task ${request.taskId}: image size ${imageWidth}×${imageHeight} is not a positive whole number of pixels`,
    );
  }
  const labels = [...new Set(request.anomalyTypes)];
  if (labels.length === 0 || labels.length > MAX_LABELS) {
    throw new DetectorError(
      `A2I review of task ${request.taskId}: ${labels.length} anomaly types; crowd-bounding-box needs 1 to ${MAX_LABELS} labels (ANOMALY_TYPES)`,
    );
  }
  return {
    taskObject: request.imageS3Uri,
    initialValue: request.modelRegions.map((r) => toPixelBox(r.box, imageWidth, imageHeight, labels.includes(r.type) ? r.type : labels[0])),
    labels,
    confidence: request.confidence,
    taskId: request.taskId,
    reason: request.reason,
    deviceType: request.deviceType,
  };
}

/** Human review on Amazon A2I: one human loop per task attempt, under a name derived from both. */
export class A2IHumanReview implements HumanReviewPort {
  readonly kind = 'a2i' as const;
  private readonly client: SageMakerA2IRuntimeClient;
  private readonly flowDefinitionArn: string;

  constructor(options: A2IHumanReviewOptions) {
    this.client = options.client;
    this.flowDefinitionArn = options.flowDefinitionArn;
  }

  async startHumanLoop(request: HumanLoopRequest): Promise<{ humanLoopName: string }> {
    const name = humanLoopName(request.taskId, request.attempt);
    const command = new StartHumanLoopCommand({
      HumanLoopName: name,
      FlowDefinitionArn: this.flowDefinitionArn,
      HumanLoopInput: { InputContent: JSON.stringify(anomalyReviewInput(request)) },
    });
    try {
      await this.client.send(command);
    } catch (err) {
      // The loop was started before (a retried step): the name is the task's and attempt's, so it is ours.
      if ((err as { name?: string } | null)?.name === 'ConflictException') return { humanLoopName: name };
      throw toAwsError(err, 'sagemaker:StartHumanLoop');
    }
    return { humanLoopName: name };
  }
}
