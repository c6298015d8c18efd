import { defineHandler, trainingFailure } from './define';

/** MarkTrainingFailed: FAILED with the error and cause the Catch caught. */
export const markTrainingFailed = defineHandler('MarkTrainingFailed', trainingFailure, (s, { modelVersionId, error, cause }) => s.modelTraining.fail(modelVersionId, error, cause));
export const handler = markTrainingFailed.lambda;
