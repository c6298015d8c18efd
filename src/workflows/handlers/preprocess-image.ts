import { defineHandler, ids } from './define';

/** PreprocessImage: an uploaded image not processed yet is processed now; `ready` says whether it can be judged. */
export const preprocessImage = defineHandler('PreprocessImage', ids, (s, { runId, imageId }) => s.detections.preprocess(runId, imageId));
export const handler = preprocessImage.lambda;
