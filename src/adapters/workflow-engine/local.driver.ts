import './promise-with-resolvers';
import { type Logger } from 'pino';
import pLimit from 'p-limit';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type AslDefinition, localFunctionArn, substituteResources, taskStates } from './asl-definitions';
import {
  type ExecutionOutcome,
  type RunReconciler,
  type StartRequest,
  type WorkflowEngine,
  type WorkflowName,
} from './workflow-engine.port';

export type LocalTask = (input: unknown) => Promise<unknown>;

export interface LocalEngineOptions {
  /** Executions running at once; more wait their turn. */
  maxRuns: number;
  /** Tests shorten Retry waits (milliseconds for every retrier); null keeps the definitions' own. */
  retryIntervalMs?: number | null;
  /** Step Functions service integrations by resource ARN (e.g. `arn:aws:states:::sagemaker:createTransformJob.sync`), done here in-process. */
  integrations?: Record<string, LocalTask>;
}

const SETTLE_RETRY_MAX_MS = 30_000;
const STEP_GRACE_MS = 5000;

interface Running {
  abort: () => void;
  done: Promise<void>;
}

/**
 * Runs the ASL files in-process with aws-local-stepfunctions. Each Task state is bound to the
 * handler its resource names (`${ScreenImageFunctionArn}` → ScreenImage), so the same definition
 * runs here and on Step Functions. An execution's id is `local:<workflow>:<runId>`: starting a run
 * that is already running here returns it.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  readonly kind = 'LOCAL' as const;
  private readonly machines = new Map<
    WorkflowName,
    { machine: StateMachine; handlers: Record<string, LocalTask>; retries: Record<string, number> }
  >();
  private readonly running = new Map<string, Running>();
  /** Task handlers still running: an aborted execution settles at once, but its step goes on until it returns. */
  private readonly steps = new Set<Promise<unknown>>();
  private readonly limit: ReturnType<typeof pLimit>;
  private closed = false;
  private readonly settleRetryMs: number;

  constructor(
    definitions: Partial<Record<WorkflowName, AslDefinition>>,
    tasks: Record<string, LocalTask>,
    options: LocalEngineOptions,
    private readonly reconciler: RunReconciler,
    private readonly log: Logger,
  ) {
    this.limit = pLimit(options.maxRuns);
    this.settleRetryMs = options.retryIntervalMs ?? 1000;
    for (const [name, definition] of Object.entries(definitions) as [WorkflowName, AslDefinition][]) {
      const handlers: Record<string, LocalTask> = {};
      const retries: Record<string, number> = {};
      for (const { state, handler, resource } of taskStates(definition)) {
        const task = handler ? tasks[handler] : resource ? options.integrations?.[resource] : undefined;
        if (!task) {
          const what = handler ?? `no \${…FunctionArn} resource nor a known integration: ${resource}`;
          throw new Error(`workflows/${name}.asl.json: Task state ${state} names no vigil handler (${what})`);
        }
        handlers[state] = (input) => this.tracked(task(input));
        if (options.retryIntervalMs != null) retries[state] = options.retryIntervalMs;
      }
      // The handlers above are bound by state name; the resources only have to be well-formed for validation.
      const resolved = substituteResources(definition, localFunctionArn);
      const machine = new StateMachine(resolved as unknown as StateMachineDefinition, {
        validationOptions: { checkArn: true, checkPaths: true },
      });
      this.machines.set(name, { machine, handlers, retries });
    }
  }

  /** True once close() was called: long waits inside a step (a transform job) stop there. */
  get isClosed(): boolean {
    return this.closed;
  }

  async start(request: StartRequest): Promise<{ executionId: string }> {
    const executionId = `local:${request.workflow}:${request.runId}`;
    if (this.closed) throw new Error('the workflow engine is shutting down; the run will be resumed at the next start');
    if (this.running.has(executionId)) return { executionId };
    const entry = this.machines.get(request.workflow);
    if (!entry) throw new Error(`the local engine does not run workflows/${request.workflow}.asl.json`);
    let abort = () => {};
    let aborted = false;
    const done = this.limit(async () => {
      if (aborted) return;
      const execution = entry.machine.run(request.input as never, {
        overrides: { taskResourceLocalHandlers: entry.handlers as never, retryIntervalOverrides: entry.retries },
        // $$.Execution.Id, as on Step Functions (BeginRun records it on the run).
        context: { Execution: { Id: executionId, Name: request.runId } },
        noThrowOnAbort: true,
      });
      abort = execution.abort;
      await this.settle(executionId, execution.result);
    }).finally(() => this.running.delete(executionId));
    this.running.set(executionId, {
      abort: () => {
        aborted = true;
        abort();
      },
      done,
    });
    return { executionId };
  }

  private async settle(executionId: string, result: Promise<unknown>): Promise<void> {
    let outcome: ExecutionOutcome;
    try {
      await result;
      if (this.closed) return; // aborted by close(): resumed at the next start
      outcome = { executionId, status: 'SUCCEEDED' };
    } catch (err) {
      const cause = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : (err as Error);
      outcome = { executionId, status: 'FAILED', error: cause.name, cause: cause.message };
    }
    // Recording the end may fail (the database restarting, say): try again until it is recorded, or the engine
    // stops (the run is then resumed at the next start), so no run stays RUNNING with nothing behind it.
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.reconciler.reconcile(outcome);
        return;
      } catch (err) {
        this.log.error({ err, executionId, attempt }, 'could not record the end of a workflow execution; trying again');
        await new Promise((r) => setTimeout(r, Math.min(SETTLE_RETRY_MAX_MS, this.settleRetryMs * 2 ** attempt)));
      }
    }
  }

  /** Resolves once no execution runs here (one whose run row already says SUCCEEDED may still be ending). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  private tracked(step: Promise<unknown>): Promise<unknown> {
    this.steps.add(step);
    const forget = () => this.steps.delete(step);
    step.then(forget, forget);
    return step;
  }

  /**
   * Aborts executions at their next state and waits for the steps in progress, for up to `graceMs`: a step cut
   * short there (its writes are transactions) is done again when its interrupted run resumes at the next start.
   */
  async close(graceMs = STEP_GRACE_MS): Promise<void> {
    this.closed = true;
    const running = [...this.running.values()];
    for (const r of running) r.abort();
    await Promise.allSettled(running.map((r) => r.done));
    if (!this.steps.size) return;
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<'cut'>((resolve) => (timer = setTimeout(() => resolve('cut'), graceMs)));
    const ended = await Promise.race([Promise.allSettled([...this.steps]), cut]);
    clearTimeout(timer);
    if (ended === 'cut')
      this.log.warn({ steps: this.steps.size, graceMs }, 'workflow steps still running at stop; their runs resume at the next start');
  }
}
