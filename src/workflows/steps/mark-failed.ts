import { z } from 'zod';
import { defineStep } from './step';

const input = z.object({ runId: z.uuid(), error: z.string().default('States.Unknown'), cause: z.unknown() });

/** Lambda errors arrive as a JSON Cause ({errorMessage, errorType}); local ones as the message itself. */
export function describeCause(cause: unknown): string {
  if (typeof cause !== 'string') return cause == null ? 'no cause given' : JSON.stringify(cause);
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the message itself
  }
  return cause;
}

/** MarkFailed: the run is FAILED with its cause (shown in GraphQL), the inspection FAILED. */
export const markFailed = defineStep('MarkFailed', input, (s, { runId, error, cause }) =>
  s.workflowRuns.fail(runId, error, describeCause(cause)),
);
