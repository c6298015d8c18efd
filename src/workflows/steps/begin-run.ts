import { defineStep, runOnly } from './step';

/** BeginRun: the run is RUNNING, the inspection PROCESSING; returns the ids of the images to judge. */
export const beginRun = defineStep('BeginRun', runOnly, (s, { runId }) => s.workflowRuns.begin(runId));
