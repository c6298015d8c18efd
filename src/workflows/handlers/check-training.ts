import { defineHandler, versionOnly } from './define';

/** CheckTraining: where a cloud training stands; a failed one fails the execution with its reason. */
export const checkTraining = defineHandler('CheckTraining', versionOnly, (s, { modelVersionId }) => s.modelTraining.check(modelVersionId));
export const handler = checkTraining.lambda;
