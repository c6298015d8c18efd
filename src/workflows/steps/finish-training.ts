import { defineStep, versionOnly } from './step';

/** FinishTraining: TRAINED; automatic trainings then deploy through the gate. */
export const finishTraining = defineStep('FinishTraining', versionOnly, (s, { modelVersionId }) => s.modelTraining.finish(modelVersionId));
