import { defineHandler, runOnly } from './define';

/** BeginRun: the run is RUNNING, the inspection PROCESSING; returns the ids of the images to judge. */
export const beginRun = defineHandler('BeginRun', runOnly, (s, { runId }) => s.workflowRuns.begin(runId));
export const handler = beginRun.lambda;
