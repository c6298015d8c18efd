import { defineHandler, ids } from './define';

/** ScreenImage: stage 1 on the image (or each of its tiles); route FLAGGED, CLEAR or COLD_START. */
export const screenImage = defineHandler('ScreenImage', ids, (s, { runId, imageId }) => s.detections.screen(runId, imageId));
export const handler = screenImage.lambda;
