import { defineHandler, versionOnly } from './define';

/** StartTraining: trains the built-in model here, or starts the cloud training. */
export const startTraining = defineHandler('StartTraining', versionOnly, (s, { modelVersionId }) => s.modelTraining.start(modelVersionId));
export const handler = startTraining.lambda;
