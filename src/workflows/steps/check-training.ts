import { defineStep, versionOnly } from './step';

/** CheckTraining: where a cloud training stands; a failed one fails the execution with its reason. */
export const checkTraining = defineStep('CheckTraining', versionOnly, (s, { modelVersionId }) => s.modelTraining.check(modelVersionId));
