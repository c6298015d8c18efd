import { defineStep, ids } from './step';

/** ScreenImage: stage 1 on the image (or each of its tiles); route FLAGGED, CLEAR or COLD_START. */
export const screenImage = defineStep('ScreenImage', ids, (s, { runId, imageId }) => s.detections.screen(runId, imageId));
