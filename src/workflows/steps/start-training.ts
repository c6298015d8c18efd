import { defineStep, versionOnly } from './step';

/** StartTraining: trains the built-in model here, or starts the cloud training. */
export const startTraining = defineStep('StartTraining', versionOnly, (s, { modelVersionId }) => s.modelTraining.start(modelVersionId));
