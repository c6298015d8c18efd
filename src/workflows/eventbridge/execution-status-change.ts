import { z } from 'zod';
import { eventDetail } from './envelope';
import { type ExecutionOutcome, type RunReconciler } from '../../adapters/workflow-engine/workflow-engine.port';

// EventBridge → Lambda: "Step Functions Execution Status Change" events from the default bus.
// Delivery is at least once, so the same event may arrive twice; the reconciler makes that harmless.

const DETAIL_TYPE = 'Step Functions Execution Status Change';
const SOURCE = 'aws.states';

// Only the fields vigil reads; the rest (startDate, input, output, redriveCount, …) pass unchecked.
const detailSchema = z.object({
  executionArn: z
    .string({ message: 'expected an execution ARN' })
    .regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/, { message: 'expected an execution ARN' }),
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'], {
    message: 'expected RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE',
  }),
  error: z.string().nullish(),
  cause: z.string().nullish(),
});

/** The outcome an event reports; null while the execution has not ended. Throws on anything else. */
export function parseExecutionStatusChange(event: unknown): ExecutionOutcome | null {
  const { executionArn, status, error, cause } = eventDetail(event, { detailType: DETAIL_TYPE, source: SOURCE }, detailSchema);
  if (status === 'RUNNING' || status === 'PENDING_REDRIVE') return null;
  return { executionId: executionArn, status, error: error ?? null, cause: cause ?? null };
}

/** Reports a finished execution to the reconciler; returns what it reported, or null for an execution still open. */
export async function handleExecutionStatusChange(event: unknown, reconciler: RunReconciler): Promise<ExecutionOutcome | null> {
  const outcome = parseExecutionStatusChange(event);
  if (outcome) await reconciler.reconcile(outcome);
  return outcome;
}

/** The Lambda handler; the reconciler (and the database behind it) is only asked for when an execution ended. */
export const createExecutionStatusChangeHandler =
  (getReconciler: () => Promise<RunReconciler>) =>
  async (event: unknown): Promise<void> => {
    await handleExecutionStatusChange(event, { reconcile: async (outcome) => (await getReconciler()).reconcile(outcome) });
  };
