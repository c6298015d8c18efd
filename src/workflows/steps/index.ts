import { beginRun } from './begin-run';
import { beginTraining } from './begin-training';
import { checkTraining } from './check-training';
import { evaluateModel } from './evaluate-model';
import { finishRun } from './finish-run';
import { finishTraining } from './finish-training';
import { inspectImage } from './inspect-image';
import { markFailed } from './mark-failed';
import { markTrainingFailed } from './mark-training-failed';
import { prepareBatch } from './prepare-batch';
import { preprocessImage } from './preprocess-image';
import { recordAnomalies } from './record-anomalies';
import { recordBatchResult } from './record-batch-result';
import { requestReview } from './request-review';
import { screenImage } from './screen-image';
import { startTraining } from './start-training';
import { type WorkflowStep } from './step';

export { type StepServices, type WorkflowStep, StepInputError } from './step';

/** Every Task step, by the resource name the ASL files use. */
export const WORKFLOW_STEPS = {
  beginRun,
  preprocessImage,
  screenImage,
  inspectImage,
  prepareBatch,
  recordBatchResult,
  recordAnomalies,
  requestReview,
  finishRun,
  markFailed,
  beginTraining,
  startTraining,
  checkTraining,
  evaluateModel,
  finishTraining,
  markTrainingFailed,
} satisfies Record<string, WorkflowStep>;

export const STEPS_BY_NAME: Record<string, WorkflowStep> = Object.fromEntries(
  Object.values(WORKFLOW_STEPS).map((s) => [s.name, s as WorkflowStep]),
);
