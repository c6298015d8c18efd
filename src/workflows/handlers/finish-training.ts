import { defineHandler, versionOnly } from './define';

/** FinishTraining: TRAINED; automatic trainings then deploy through the gate. */
export const finishTraining = defineHandler('FinishTraining', versionOnly, (s, { modelVersionId }) => s.modelTraining.finish(modelVersionId));
export const handler = finishTraining.lambda;
