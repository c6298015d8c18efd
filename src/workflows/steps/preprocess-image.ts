import { defineStep, ids } from './step';

/** PreprocessImage: an uploaded image not processed yet is processed now; `ready` says whether it can be judged. */
export const preprocessImage = defineStep('PreprocessImage', ids, (s, { runId, imageId }) => s.detections.preprocess(runId, imageId));
