import { beginRun } from './begin-run';
import { type TaskHandler } from './define';
import { finishRun } from './finish-run';
import { inspectImage } from './inspect-image';
import { markFailed } from './mark-failed';
import { preprocessImage } from './preprocess-image';
import { recordAnomalies } from './record-anomalies';
import { requestReview } from './request-review';
import { screenImage } from './screen-image';
import { beginTraining } from './begin-training';
import { checkTraining } from './check-training';
import { evaluateModel } from './evaluate-model';
import { finishTraining } from './finish-training';
import { markTrainingFailed } from './mark-training-failed';
import { startTraining } from './start-training';

/** Every Task handler, by the resource name the ASL files use. */
export const TASK_HANDLERS: Record<string, TaskHandler<unknown>> = Object.fromEntries(
  [
    beginRun,
    preprocessImage,
    screenImage,
    inspectImage,
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
  ].map((h) => [h.name, h as TaskHandler<unknown>]),
);
