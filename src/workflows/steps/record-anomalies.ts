import { defineStep, ids } from './step';

/** RecordAnomalies: one anomaly per region of the stage-2 detection, announced on anomalyDetected. */
export const recordAnomalies = defineStep('RecordAnomalies', ids, (s, { runId, imageId }) => s.detections.recordAnomalies(runId, imageId));
