import { defineHandler, ids } from './define';

/** RecordAnomalies: one anomaly per region of the stage-2 detection, announced on anomalyDetected. */
export const recordAnomalies = defineHandler('RecordAnomalies', ids, (s, { runId, imageId }) => s.detections.recordAnomalies(runId, imageId));
export const handler = recordAnomalies.lambda;
