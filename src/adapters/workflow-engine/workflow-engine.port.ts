// Where workflow executions run: in-process (aws-local-stepfunctions) or AWS Step Functions.

/** The ASL files in workflows/, by name without `.asl.json`. */
export type WorkflowName = 'detect-inspection' | 'detect-inspection-batch' | 'detect-survey' | 'train-model';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface StartRequest {
  /** The WorkflowRun's id: the execution name is derived from it, so starting twice starts once. */
  runId: string;
  workflow: WorkflowName;
  input: Record<string, unknown>;
}

export interface WorkflowEngine {
  readonly kind: 'LOCAL' | 'STEP_FUNCTIONS';
  /** Starts the execution (or finds the one already started for this run) and returns its id. */
  start(request: StartRequest): Promise<{ executionId: string }>;
  /** Follows an execution started earlier (e.g. by a previous process) until it ends. */
  watch?(executionId: string): void;
  /**
   * Stops taking new work and waits for (local) or stops watching (AWS) running executions. The local engine
   * lets a step in progress end for up to `graceMs` (default 5 s), so it does not lose the database under it.
   */
  close(graceMs?: number): Promise<void>;
  /** The local engine: resolves once none of its executions is running. */
  idle?(): Promise<void>;
  /**
   * Step Functions: the child executions a Distributed Map execution started (through its Map Runs). Children that did
   * not succeed are described, so each names its run (from its input) and its error; succeeded ones settled their runs.
   */
  children?(parentExecutionId: string): Promise<ChildExecution[]>;
}

/** One child execution of a Distributed Map. */
export interface ChildExecution {
  executionId: string;
  status: ExecutionStatus;
  /** The run its input names; null when it was not described (it succeeded) or its input names none. */
  runId: string | null;
  error: string | null;
  cause: string | null;
}

/** What an engine reports when an execution ended; the run service records it unless a handler already did. */
export interface ExecutionOutcome {
  executionId: string;
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  error?: string | null;
  cause?: string | null;
}

export interface RunReconciler {
  /** Idempotent: a run already finished by its own MarkFailed/Finish states is left as it is. */
  reconcile(outcome: ExecutionOutcome): Promise<void>;
}
