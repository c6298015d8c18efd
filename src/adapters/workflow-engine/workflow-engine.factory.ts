import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type Logger } from 'pino';
import { type Config } from '../../config/config';
import { readDefinition } from './asl-definitions';
import { LocalWorkflowEngine, type LocalTask } from './local.driver';
import { CREATE_TRANSFORM_JOB_SYNC, transformJobSync } from './sagemaker-transform';
import { StepFunctionsEngine } from './step-functions.driver';
import { type RunReconciler, type WorkflowEngine } from './workflow-engine.port';

export interface EngineOptions {
  sfnClient?: SFNClient;
  /** Local engine: milliseconds between Retry attempts (tests); default: the definitions' own. */
  retryIntervalMs?: number;
  /** Local engine: the client of `createTransformJob.sync` states (SageMaker Batch Transform). */
  sageMakerClient?: SageMakerClient;
  /** Local engine: milliseconds between DescribeTransformJob calls (default 30 s). */
  transformPollMs?: number;
}

// A Batch Transform job of a large survey runs for hours; Step Functions would wait up to a year.
const TRANSFORM_TIMEOUT_MS = 12 * 3600_000;

export interface EngineDeps {
  /** The local engine's Task functions, by resource name; Step Functions calls Lambdas instead. */
  tasks: Record<string, LocalTask>;
  /** Hears every execution that ended. */
  reconciler: RunReconciler;
  log: Logger;
}

/** The configured engine: Step Functions, or the in-process one running the same ASL files. */
export function createWorkflowEngine(
  config: Pick<Config, 'workflows' | 'detectors'>,
  deps: EngineDeps,
  options: EngineOptions = {},
): WorkflowEngine {
  const { workflows } = config;
  if (workflows.engine === 'stepfunctions') {
    return new StepFunctionsEngine(
      options.sfnClient ?? new SFNClient({ region: config.detectors.region }),
      {
        arns: {
          'detect-inspection': workflows.stepFunctions.detectInspectionArn,
          'detect-inspection-batch': workflows.stepFunctions.detectInspectionBatchArn,
          'detect-survey': workflows.stepFunctions.detectSurveyArn,
          'train-model': workflows.stepFunctions.trainModelArn,
        },
        pollIntervalMs: workflows.stepFunctions.pollIntervalMs,
      },
      deps.reconciler,
      deps.log,
    );
  }
  // Built with the first transform job: a server that never runs one builds no SDK client (and on Node 20 prints no
  // AWS SDK support warning into its log).
  let sageMakerClient = options.sageMakerClient;
  const sageMaker = () => {
    sageMakerClient ??= new SageMakerClient({ region: config.detectors.region });
    return sageMakerClient;
  };
  const closed = () => engine.isClosed;
  const integrations = {
    [CREATE_TRANSFORM_JOB_SYNC]: transformJobSync(sageMaker, {
      pollMs: options.transformPollMs ?? 30_000,
      timeoutMs: TRANSFORM_TIMEOUT_MS,
      closed,
    }),
  };
  const engine: LocalWorkflowEngine = new LocalWorkflowEngine(
    // detect-survey's Distributed Map reads its items from S3: only Step Functions runs it.
    {
      'detect-inspection': readDefinition('detect-inspection'),
      'detect-inspection-batch': readDefinition('detect-inspection-batch'),
      'train-model': readDefinition('train-model'),
    },
    deps.tasks,
    { maxRuns: workflows.maxRuns, retryIntervalMs: options.retryIntervalMs ?? null, integrations },
    deps.reconciler,
    deps.log,
  );
  return engine;
}
