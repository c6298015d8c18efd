import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import pLimit from 'p-limit';
import { type Logger } from '../../logging/logger';
import {
  type ChildExecution,
  type ExecutionOutcome,
  type RunReconciler,
  type StartRequest,
  type WorkflowEngine,
  type WorkflowName,
} from './workflow-engine.port';

/** The setting that holds each workflow's state machine ARN, for error messages. */
export const ARN_VARIABLES: Record<WorkflowName, string> = {
  'detect-inspection': 'SFN_DETECT_INSPECTION_ARN',
  'detect-inspection-batch': 'SFN_DETECT_INSPECTION_BATCH_ARN',
  'detect-survey': 'SFN_DETECT_SURVEY_ARN',
  'train-model': 'SFN_TRAIN_MODEL_ARN',
};

export interface StepFunctionsEngineOptions {
  /** State machine ARN per workflow; null or missing: not deployed, and starting it fails naming the variable. */
  arns: Partial<Record<WorkflowName, string | null>>;
  /** How often watched executions are described; 0: never (EventBridge alone reports outcomes). */
  pollIntervalMs: number;
}

/** DescribeExecution calls in flight at once during one poll. */
const DESCRIBE_CONCURRENCY = 5;
/** DescribeExecution is eventually consistent: a just-started execution may be missing for a moment. */
const MAX_MISSING_POLLS = 3;

const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
const isTerminal = (status: string | undefined): status is ExecutionOutcome['status'] =>
  status !== undefined && TERMINAL_STATUSES.has(status);

const errorName = (err: unknown) => (err as { name?: string } | null)?.name;
const isAccessDenied = (err: unknown) => errorName(err) === 'AccessDeniedException' || errorName(err) === 'AccessDenied';

/** The execution name for a run: the same run always gets the same name, so AWS starts it once. */
export function executionName(runId: string): string {
  const name = `vigil-${runId}`;
  if (!/^[0-9A-Za-z_-]{1,80}$/.test(name)) {
    throw new Error(`run id ${JSON.stringify(runId)} cannot name a Step Functions execution: expected at most 74 letters, digits, _ or -`);
  }
  return name;
}

/** arn:…:stateMachine:Machine[:version|alias] → arn:…:execution:Machine:<name>. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length < 7 || parts[5] !== 'stateMachine') throw new Error(`not a Step Functions state machine ARN: ${stateMachineArn}`);
  return [...parts.slice(0, 5), 'execution', parts[6], name].join(':');
}

/** Runs workflows on AWS Step Functions; outcomes reach the reconciler by polling here and/or by EventBridge. */
export class StepFunctionsEngine implements WorkflowEngine {
  readonly kind = 'STEP_FUNCTIONS' as const;
  /** Watched execution ARN → consecutive polls that found it missing. */
  private readonly watched = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly client: SFNClient,
    private readonly options: StepFunctionsEngineOptions,
    private readonly reconciler: RunReconciler,
    private readonly log: Logger,
  ) {}

  async start(request: StartRequest): Promise<{ executionId: string }> {
    if (this.closed) throw new Error('the Step Functions engine is closed');
    const stateMachineArn = this.stateMachineArn(request.workflow);
    const name = executionName(request.runId);
    const executionId = await this.startExecution(request.workflow, stateMachineArn, name, request.input);
    this.watch(executionId);
    return { executionId };
  }

  /** Polls the execution until it ends, then reports its outcome once. */
  watch(executionId: string): void {
    if (this.closed || this.options.pollIntervalMs <= 0 || this.watched.has(executionId)) return;
    this.watched.set(executionId, 0);
    this.schedule();
  }

  /**
   * ListMapRuns on the parent, ListExecutions per Map Run (mapRunArn), DescribeExecution for each child that did not
   * succeed (its input names the run). Throws on any failure, so the caller settles the children at its next attempt.
   */
  async children(parentExecutionId: string): Promise<ChildExecution[]> {
    const mapRuns: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListMapRunsCommand({ executionArn: parentExecutionId, nextToken: token }));
      mapRuns.push(...(page.mapRuns ?? []).map((m) => m.mapRunArn!));
      token = page.nextToken;
    } while (token);
    const listed: { executionArn: string; status: string }[] = [];
    for (const mapRunArn of mapRuns) {
      let next: string | undefined;
      do {
        const page = await this.client.send(new ListExecutionsCommand({ mapRunArn, nextToken: next }));
        listed.push(...(page.executions ?? []).map((e) => ({ executionArn: e.executionArn!, status: e.status! })));
        next = page.nextToken;
      } while (next);
    }
    const limit = pLimit(DESCRIBE_CONCURRENCY);
    return Promise.all(
      listed.map((child) =>
        limit(async (): Promise<ChildExecution> => {
          const status = child.status as ChildExecution['status'];
          if (status === 'SUCCEEDED') return { executionId: child.executionArn, status, runId: null, error: null, cause: null };
          const res = await this.client.send(new DescribeExecutionCommand({ executionArn: child.executionArn }));
          return {
            executionId: child.executionArn,
            status: (res.status ?? status) as ChildExecution['status'],
            runId: runIdOf(res.input),
            error: res.error ?? null,
            cause: res.cause ?? null,
          };
        }),
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watched.clear();
    await this.polling;
  }

  private stateMachineArn(workflow: WorkflowName): string {
    const arn = this.options.arns[workflow];
    if (!arn) throw new Error(`workflow ${workflow} has no state machine: set ${ARN_VARIABLES[workflow]} to its ARN`);
    return arn;
  }

  private async startExecution(
    workflow: WorkflowName,
    stateMachineArn: string,
    name: string,
    input: Record<string, unknown>,
  ): Promise<string> {
    try {
      const res = await this.client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return res.executionArn!;
    } catch (err) {
      // Same name, but the execution has closed or was started with other input: it is still this run's execution.
      if (errorName(err) === 'ExecutionAlreadyExists') {
        const executionArn = executionArnFor(stateMachineArn, name);
        this.log.warn({ executionArn }, 'execution already exists; using it');
        return executionArn;
      }
      throw startFailure(err, workflow, stateMachineArn);
    }
  }

  private schedule(): void {
    if (this.closed || this.timer || this.polling || this.watched.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling = this.pollAll().finally(() => {
        this.polling = null;
        this.schedule();
      });
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  private async pollAll(): Promise<void> {
    const limit = pLimit(DESCRIBE_CONCURRENCY);
    await Promise.all([...this.watched.keys()].map((executionId) => limit(() => this.poll(executionId))));
  }

  private async poll(executionId: string): Promise<void> {
    if (this.closed) return;
    const outcome = await this.describe(executionId);
    if (!outcome || !this.watched.has(executionId)) return;
    try {
      await this.reconciler.reconcile(outcome);
      this.watched.delete(executionId);
    } catch (err) {
      this.log.error({ err, executionId }, 'recording a finished execution failed; retrying at the next poll');
    }
  }

  /** The outcome of a finished execution; null while it runs or when it could not be described this time. */
  private async describe(executionId: string): Promise<ExecutionOutcome | null> {
    try {
      const res = await this.client.send(new DescribeExecutionCommand({ executionArn: executionId }));
      if (this.watched.has(executionId)) this.watched.set(executionId, 0);
      if (!isTerminal(res.status)) return null;
      return { executionId, status: res.status, error: res.error ?? null, cause: res.cause ?? null };
    } catch (err) {
      if (errorName(err) === 'ExecutionDoesNotExist') this.countMissing(executionId);
      else if (isAccessDenied(err))
        this.log.error(
          { err, executionId },
          "Step Functions denied states:DescribeExecution: allow it on the state machine's executions, or set SFN_POLL_INTERVAL_MS=0 and rely on EventBridge",
        );
      else this.log.warn({ err, executionId }, 'describing a watched execution failed; retrying at the next poll');
      return null;
    }
  }

  private countMissing(executionId: string): void {
    if (!this.watched.has(executionId)) return;
    const misses = this.watched.get(executionId)! + 1;
    if (misses < MAX_MISSING_POLLS) {
      this.watched.set(executionId, misses);
      return;
    }
    this.watched.delete(executionId);
    this.log.warn({ executionId }, 'watched execution does not exist; no longer watching it');
  }
}

/** The run a child execution's input names (a Map item: {runId, inspectionId, concurrency}). */
function runIdOf(input: string | undefined): string | null {
  try {
    const runId = (JSON.parse(input ?? 'null') as { runId?: unknown } | null)?.runId;
    return typeof runId === 'string' ? runId : null;
  } catch {
    return null;
  }
}

/** Turns the StartExecution failures an operator must fix into messages that say what to fix. */
function startFailure(err: unknown, workflow: WorkflowName, stateMachineArn: string): unknown {
  if (isAccessDenied(err)) {
    return new Error(
      `Step Functions denied states:StartExecution on ${stateMachineArn}: allow the role vigil runs as to call states:StartExecution on this state machine`,
      { cause: err },
    );
  }
  if (errorName(err) === 'StateMachineDoesNotExist') {
    return new Error(`state machine ${stateMachineArn} does not exist: check ${ARN_VARIABLES[workflow]}`, { cause: err });
  }
  return err;
}
