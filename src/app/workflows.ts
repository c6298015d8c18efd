import { type Logger } from 'pino';
import { type Config } from '../config/config';
import { type LocalTask } from '../adapters/workflow-engine/local.driver';
import { createWorkflowEngine, type EngineOptions } from '../adapters/workflow-engine/workflow-engine.factory';
import { type RunReconciler, type WorkflowEngine } from '../adapters/workflow-engine/workflow-engine.port';
import { STEPS_BY_NAME } from '../workflows/steps';
import { type Services } from './services';

/** Each execution belongs to an inspection run or to a training; each service ignores the other's. */
export function runReconciler(services: Pick<Services, 'workflowRuns' | 'modelTraining'>): RunReconciler {
  return {
    reconcile: async (outcome) => {
      await services.workflowRuns.reconcile(outcome);
      await services.modelTraining.reconcile(outcome);
    },
  };
}

/** The workflow steps bound to this process's services, as the local engine calls them. */
export function localTasks(services: Services): Record<string, LocalTask> {
  return Object.fromEntries(Object.values(STEPS_BY_NAME).map((step) => [step.name, (input: unknown) => step.run(services, input)]));
}

/** The configured engine, wired to the services that start executions and hear how they ended. */
export function startWorkflowEngine(
  config: Pick<Config, 'workflows' | 'detectors'>,
  services: Services,
  log: Logger,
  options: EngineOptions = {},
): WorkflowEngine {
  const engine = createWorkflowEngine(config, { tasks: localTasks(services), reconciler: runReconciler(services), log }, options);
  services.workflowRuns.useEngine(engine);
  services.modelTraining.useEngine(engine);
  return engine;
}
