import { defineStep, versionOnly } from './step';

/** BeginTraining: freezes the dataset into a snapshot and TRAIN/TEST manifests (once). */
export const beginTraining = defineStep('BeginTraining', versionOnly, (s, { modelVersionId }) => s.modelTraining.begin(modelVersionId));
