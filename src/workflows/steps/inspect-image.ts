import { defineStep, ids } from './step';

/** InspectImage: stage 2 on what screening flagged; route ANOMALY, NORMAL, UNCERTAIN or COLD_START. */
export const inspectImage = defineStep('InspectImage', ids, (s, { runId, imageId }) => s.detections.inspect(runId, imageId));
