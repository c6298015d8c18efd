import { defineHandler, runOnly } from './define';

/** FinishRun: confident verdicts picked for active learning, the run succeeded, the inspection is COMPLETED, the device's status is recomputed. */
export const finishRun = defineHandler('FinishRun', runOnly, (s, { runId }) => s.workflowRuns.finish(runId));
export const handler = finishRun.lambda;
