import { defineHandler, ids } from './define';

/** InspectImage: stage 2 on what screening flagged; route ANOMALY, NORMAL, UNCERTAIN or COLD_START. */
export const inspectImage = defineHandler('InspectImage', ids, (s, { runId, imageId }) => s.detections.inspect(runId, imageId));
export const handler = inspectImage.lambda;
