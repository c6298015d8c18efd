import { defineStep, runStart } from './step';

/** BeginRun: the run is RUNNING (and names the execution running it), the inspection PROCESSING; returns the ids of the images to judge. */
export const beginRun = defineStep('BeginRun', runStart, (s, { runId, executionId }) => s.workflowRuns.begin(runId, executionId));
