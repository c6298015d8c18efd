import { defineStep, runOnly } from './step';

/** FinishRun: confident verdicts picked for active learning, the run succeeded, the inspection is COMPLETED, the device's status is recomputed. */
export const finishRun = defineStep('FinishRun', runOnly, (s, { runId }) => s.workflowRuns.finish(runId));
