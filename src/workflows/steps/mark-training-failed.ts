import { defineStep, trainingFailure } from './step';

/** MarkTrainingFailed: FAILED with the error and cause the Catch caught. */
export const markTrainingFailed = defineStep('MarkTrainingFailed', trainingFailure, (s, { modelVersionId, error, cause }) =>
  s.modelTraining.fail(modelVersionId, error, cause),
);
