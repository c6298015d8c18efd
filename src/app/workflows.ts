import { type Logger } from 'pino';
import { type Config } from '../config/config';
import { type LocalTask } from '../adapters/workflow-engine/local.driver';
import { type EngineOptions } from '../adapters/workflow-engine/workflow-engine.factory';
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

/**
 * The local engine, built on its first execution: checking the ASL definitions (asl-validator compiles its JSON
 * schemas) costs about a second that a server's start need not wait for. A definition that names no handler
 * then fails that first execution, and the log says why.
 */
export function lazyLocalEngine(build: () => WorkflowEngine, log: Logger): WorkflowEngine {
  let engine: WorkflowEngine | undefined;
  let closed = false;
  const get = () => {
    if (!engine) {
      const started = performance.now();
      try {
        engine = build();
      } catch (err) {
        log.error({ err }, 'the local workflow engine could not be built');
        throw err;
      }
      log.info({ ms: Math.round(performance.now() - started) }, 'local workflow engine ready');
    }
    return engine;
  };
  return {
    kind: 'LOCAL',
    async start(request) {
      if (closed) throw new Error('the workflow engine is shutting down; the run will be resumed at the next start');
      return get().start(request);
    },
    async idle() {
      await engine?.idle?.();
    },
    async close(graceMs) {
      closed = true;
      await engine?.close(graceMs);
    },
  };
}

/** The configured engine, wired to the services that start executions and hear how they ended. */
export function startWorkflowEngine(
  config: Pick<Config, 'workflows' | 'detectors'>,
  services: Services,
  log: Logger,
  options: EngineOptions = {},
): WorkflowEngine {
  const build = () => {
    // Loaded with the engine: the local one's state machine library (and its ASL checks) is not needed to start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const factory =
      require('../adapters/workflow-engine/workflow-engine.factory') as typeof import('../adapters/workflow-engine/workflow-engine.factory');
    return factory.createWorkflowEngine(config, { tasks: localTasks(services), reconciler: runReconciler(services), log }, options);
  };
  const engine = config.workflows.engine === 'local' ? lazyLocalEngine(build, log) : build();
  services.workflowRuns.useEngine(engine);
  services.modelTraining.useEngine(engine);
  return engine;
}
