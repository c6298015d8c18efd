import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { eventDetail } from './envelope';
import { callAws } from '../../adapters/aws-errors';
import { parseA2IOutput } from '../../adapters/human-review/a2i-output';
import { type HumanLoopOutcomes } from '../../adapters/human-review/human-review.port';

// EventBridge → Lambda: "SageMaker A2I HumanLoop Status Change" events from the default bus.
// Delivery is at least once; the review service makes a replay harmless, so this handler passes every event on.

const DETAIL_TYPE = 'SageMaker A2I HumanLoop Status Change';
const SOURCE = 'aws.sagemaker';
const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;

// Only the fields vigil reads; the rest (creationTime, failureCode, flowDefinitionArn, humanLoopArn, …) pass unchecked.
const detailSchema = z
  .object({
    humanLoopName: z.string({ message: 'expected a human loop name' }).min(1, { message: 'expected a human loop name' }),
    humanLoopStatus: z.enum(['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'], {
      message: 'expected InProgress, Completed, Failed, Stopping or Stopped',
    }),
    failureReason: z.string({ message: 'expected a string' }).nullish(),
    humanLoopOutput: z
      .object(
        { outputS3Uri: z.string({ message: 'expected an s3:// URI' }).regex(S3_URI, { message: 'expected an s3:// URI' }) },
        { message: 'expected an object' },
      )
      .nullish(),
  })
  .superRefine((detail, ctx) => {
    if (detail.humanLoopStatus === 'Completed' && !detail.humanLoopOutput) {
      ctx.addIssue({ code: 'custom', path: ['humanLoopOutput', 'outputS3Uri'], message: 'expected an s3:// URI for a Completed loop' });
    }
  });

export type HumanLoopStatusChange =
  | { humanLoopName: string; status: 'Completed'; outputS3Uri: string }
  | { humanLoopName: string; status: 'Failed' | 'Stopped'; failureReason: string | null };

export interface HumanLoopStatusChangeDeps {
  s3: S3Client;
  outcomes: HumanLoopOutcomes;
}

/** The change and what the review service made of it; task is null when no task has that loop. */
export type HumanLoopHandled = HumanLoopStatusChange & { task: { taskId: string; status: string } | null };

/** The change an event reports; null while the loop has not ended. Throws on anything else. */
export function parseHumanLoopStatusChange(event: unknown): HumanLoopStatusChange | null {
  const {
    humanLoopName,
    humanLoopStatus: status,
    failureReason,
    humanLoopOutput,
  } = eventDetail(event, { detailType: DETAIL_TYPE, source: SOURCE }, detailSchema);
  if (status === 'Completed') return { humanLoopName, status, outputS3Uri: humanLoopOutput!.outputS3Uri };
  if (status === 'Failed' || status === 'Stopped') return { humanLoopName, status, failureReason: failureReason ?? null };
  return null;
}

async function readOutput(s3: S3Client, uri: string): Promise<unknown> {
  const [, bucket, key] = S3_URI.exec(uri)!;
  const response = await callAws('s3:GetObject', () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  if (!response.Body) throw new Error(`A2I output ${uri} has no body`);
  const text = await response.Body.transformToString('utf-8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`A2I output ${uri} is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

async function apply(change: HumanLoopStatusChange, deps: HumanLoopStatusChangeDeps): Promise<HumanLoopHandled> {
  if (change.status !== 'Completed') {
    return { ...change, task: await deps.outcomes.humanLoopEnded(change.humanLoopName, change.status, change.failureReason) };
  }
  const json = await readOutput(deps.s3, change.outputS3Uri);
  let output: ReturnType<typeof parseA2IOutput>;
  try {
    output = parseA2IOutput(json);
  } catch (err) {
    throw new Error(`A2I output ${change.outputS3Uri}: ${(err as Error).message}`, { cause: err });
  }
  if (output.humanLoopName !== change.humanLoopName) {
    throw new Error(
      `A2I output ${change.outputS3Uri} is for human loop "${output.humanLoopName}", the event for "${change.humanLoopName}"`,
    );
  }
  return { ...change, task: await deps.outcomes.applyHumanLoopAnswers(change.humanLoopName, output.answers) };
}

/** Hands a finished loop to the review service; null (and no call) for a loop still open or stopping. */
export async function handleHumanLoopStatusChange(event: unknown, deps: HumanLoopStatusChangeDeps): Promise<HumanLoopHandled | null> {
  const change = parseHumanLoopStatusChange(event);
  return change ? apply(change, deps) : null;
}

/** The Lambda handler; the dependencies (and the database behind them) are only asked for when a loop ended. */
export const createHumanLoopStatusChangeHandler =
  (getDeps: () => Promise<HumanLoopStatusChangeDeps>) =>
  async (event: unknown): Promise<void> => {
    const change = parseHumanLoopStatusChange(event);
    if (change) await apply(change, await getDeps());
  };
