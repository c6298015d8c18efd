import { SFNClient } from '@aws-sdk/client-sfn';
import { type Logger } from 'pino';
import { type Services } from '../../app/services';
import { type Config } from '../../config/config';
import { readDefinition } from '../../workflows/definitions';
import { type RunReconciler, type WorkflowEngine } from './workflow-engine.port';
import { TASK_HANDLERS } from '../../workflows/handlers';
import { LocalWorkflowEngine, type LocalTask } from './local.driver';
import { StepFunctionsEngine } from './step-functions.driver';

export interface EngineOptions {
  sfnClient?: SFNClient;
  /** Local engine: milliseconds between Retry attempts (tests); default: the definitions' own. */
  retryIntervalMs?: number;
}

/** The configured engine, bound to this process's services; the run service learns of it here. */
export function createWorkflowEngine(config: Pick<Config, 'workflows' | 'detectors'>, services: Services, log: Logger, options: EngineOptions = {}): WorkflowEngine {
  const { workflows } = config;
  // Each execution belongs to an inspection run or to a training; each service ignores the other's.
  const reconciler: RunReconciler = {
    reconcile: async (outcome) => {
      await services.workflowRuns.reconcile(outcome);
      await services.modelTraining.reconcile(outcome);
    },
  };
  const engine: WorkflowEngine =
    workflows.engine === 'stepfunctions'
      ? new StepFunctionsEngine(
          options.sfnClient ?? new SFNClient({ region: config.detectors.region }),
          {
            arns: {
              'detect-inspection': workflows.stepFunctions.detectInspectionArn,
              'detect-survey': workflows.stepFunctions.detectSurveyArn,
              'train-model': workflows.stepFunctions.trainModelArn,
            },
            pollIntervalMs: workflows.stepFunctions.pollIntervalMs,
          },
          reconciler,
          log,
        )
      : new LocalWorkflowEngine(
          // detect-survey's Distributed Map reads its items from S3: only Step Functions runs it.
          { 'detect-inspection': readDefinition('detect-inspection'), 'train-model': readDefinition('train-model') },
          Object.fromEntries(Object.entries(TASK_HANDLERS).map(([name, h]) => [name, h.local(services) as LocalTask])),
          { maxRuns: workflows.maxRuns, retryIntervalMs: options.retryIntervalMs ?? null },
          reconciler,
          log,
        );
  services.workflowRuns.useEngine(engine);
  services.modelTraining.useEngine(engine);
  return engine;
}
