import { defineHandler, versionOnly } from './define';

/** BeginTraining: freezes the dataset into a snapshot and TRAIN/TEST manifests (once). */
export const beginTraining = defineHandler('BeginTraining', versionOnly, (s, { modelVersionId }) => s.modelTraining.begin(modelVersionId));
export const handler = beginTraining.lambda;
