import {
  CreateTransformJobCommand,
  type CreateTransformJobCommandInput,
  DescribeTransformJobCommand,
  type DescribeTransformJobCommandOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { type LocalTask } from './local.driver';

/** The Step Functions optimized integration that starts a Batch Transform job and waits for its end. */
export const CREATE_TRANSFORM_JOB_SYNC = 'arn:aws:states:::sagemaker:createTransformJob.sync';

export interface TransformSyncOptions {
  /** Between DescribeTransformJob calls (Step Functions itself polls about once a minute). */
  pollMs: number;
  /**
   * Stop polling after this long. The state's own TimeoutSeconds (the local engine's default is 60 s) ends the state
   * first, with States.Timeout as on Step Functions; this only bounds the polling left behind. The job goes on in AWS.
   */
  timeoutMs: number;
  /** True once the engine is shutting down: stop waiting, the run resumes at the next start. */
  closed?: () => boolean;
}

/** An error named the way Step Functions names it, so the definitions' Retry and Catch match the same here. */
class StatesError extends Error {
  constructor(name: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);

/**
 * What Step Functions does for `createTransformJob.sync`, for the local engine: CreateTransformJob with the state's
 * Parameters (the same shape as the API's request), then DescribeTransformJob until the job ends. The output is the last
 * description, as on Step Functions. A job of that name that exists already (a retried or resumed run) is waited for, not
 * started twice; a job that fails or is stopped fails the state with States.TaskFailed.
 */
export function transformJobSync(clientOf: () => SageMakerClient, options: TransformSyncOptions): LocalTask {
  return async (input) => {
    const client = clientOf();
    const request = input as CreateTransformJobCommandInput;
    if (!request?.TransformJobName)
      throw new StatesError('States.Runtime', 'createTransformJob.sync: Parameters must name TransformJobName');
    try {
      await client.send(new CreateTransformJobCommand(request));
    } catch (err) {
      if (!alreadyExists(err)) throw sageMakerError(err);
    }
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const job = await describe(client, request.TransformJobName);
      if (TERMINAL.has(job.TransformJobStatus ?? '')) return settle(job);
      if (options.closed?.())
        throw new StatesError('States.Runtime', `stopped waiting for transform job ${request.TransformJobName}: shutting down`);
      if (Date.now() >= deadline) {
        throw new StatesError(
          'States.TaskFailed',
          `stopped waiting for transform job ${request.TransformJobName} after ${options.timeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, options.pollMs));
    }
  };
}

async function describe(client: SageMakerClient, name: string): Promise<DescribeTransformJobCommandOutput> {
  try {
    return await client.send(new DescribeTransformJobCommand({ TransformJobName: name }));
  } catch (err) {
    throw sageMakerError(err);
  }
}

function settle(job: DescribeTransformJobCommandOutput): unknown {
  const { $metadata: _, ...description } = job;
  // Step Functions passes JSON on: dates become strings.
  const output = JSON.parse(JSON.stringify(description));
  if (job.TransformJobStatus === 'Completed') return output;
  throw new StatesError(
    'States.TaskFailed',
    `transform job ${job.TransformJobName} ${job.TransformJobStatus?.toLowerCase()}: ${job.FailureReason ?? 'no reason given'}`,
    { cause: output },
  );
}

// A second CreateTransformJob with the same name: SageMaker says ValidationException "Job name must be unique…" (or ResourceInUse).
function alreadyExists(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e?.name === 'ResourceInUse' || (e?.name === 'ValidationException' && /must be unique|already exists/i.test(e.message ?? ''));
}

// Step Functions names an API error of an optimized integration SageMaker.<exception>.
function sageMakerError(err: unknown): Error {
  const e = err as { name?: string; message?: string };
  return new StatesError(`SageMaker.${e?.name ?? 'AmazonSageMakerException'}`, e?.message ?? String(err), { cause: err });
}
