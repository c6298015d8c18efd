// Where review tasks go besides vigil's own queue: Amazon A2I when HUMAN_REVIEW=a2i.

import { type Box } from '../../common/box';

export interface ReviewRegion {
  /** Shares of the image (0..1), the way vigil stores every region. */
  box: Box;
  type: string;
  /** The model's confidence; null for a region a person drew. */
  confidence: number | null;
}

export type ReviewVerdictValue = 'NORMAL' | 'ANOMALOUS';

/** One person's answer to a task, from the built-in page or from an A2I worker. */
export interface ReviewAnswerInput {
  /** Who answered: an API key id, or `a2i:<workerId>`; one answer per reviewer and task. */
  reviewer: string;
  verdict: ReviewVerdictValue;
  regions: { box: Box; type: string }[];
  comment: string | null;
}

/** What a human loop needs to show one task. */
export interface HumanLoopRequest {
  taskId: string;
  /** 0 for the first loop of a task; a loop that failed or stopped is started again with the next number. */
  attempt: number;
  reason: 'COLD_START' | 'LOW_CONFIDENCE' | 'SAMPLED_QA' | 'ACTIVE_LEARNING';
  deviceType: string;
  /** s3://bucket/key of the normalised image. */
  imageS3Uri: string;
  imageWidth: number;
  imageHeight: number;
  /** The model's regions (shares of the image); empty without a model. */
  modelRegions: ReviewRegion[];
  /** The model's confidence in its verdict; null without a model. */
  confidence: number | null;
  anomalyTypes: string[];
}

export interface HumanReviewPort {
  readonly kind: 'a2i';
  /** Starts the loop, or finds the one already started under the same name; returns its name. */
  startHumanLoop(request: HumanLoopRequest): Promise<{ humanLoopName: string }>;
}

/** What the review service offers the A2I completion handler. */
export interface HumanLoopOutcomes {
  /** Applies the workers' answers to the task behind the loop; a replay changes nothing. Null when no task has that loop. */
  applyHumanLoopAnswers(humanLoopName: string, answers: ReviewAnswerInput[]): Promise<{ taskId: string; status: string } | null>;
  /** The loop failed or was stopped: the task is re-queued (another loop) or escalated to an ADMIN. */
  humanLoopEnded(
    humanLoopName: string,
    status: 'Failed' | 'Stopped',
    failureReason: string | null,
  ): Promise<{ taskId: string; status: string } | null>;
}
