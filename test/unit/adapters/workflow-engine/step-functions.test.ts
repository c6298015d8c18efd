import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import pino from 'pino';
import { type ExecutionOutcome, type RunReconciler } from '../../../../src/adapters/workflow-engine/workflow-engine.port';
import {
  executionArnFor,
  executionName,
  StepFunctionsEngine,
  type StepFunctionsEngineOptions,
} from '../../../../src/adapters/workflow-engine/step-functions.driver';

const sfn = mockClient(SFNClient);
const client = new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' } });
const log = pino({ level: 'silent' });

const INSPECTION_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:vigil-detect-inspection';
const SURVEY_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:vigil-detect-survey';
const RUN_ID = '0b7e3c1a-4f2d-4c6e-9a8b-1d2e3f4a5b6c';
const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:vigil-detect-inspection:vigil-${RUN_ID}`;
const INPUT = { runId: RUN_ID, inspectionId: 'insp-1', imageIds: ['img-1', 'img-2'] };
const POLL_MS = 1000;

const recorder = () => {
  const outcomes: ExecutionOutcome[] = [];
  const reconciler: RunReconciler & { outcomes: ExecutionOutcome[] } = {
    outcomes,
    reconcile: jest.fn(async (outcome: ExecutionOutcome) => void outcomes.push(outcome)),
  };
  return reconciler;
};

const engines: StepFunctionsEngine[] = [];
const engineWith = (reconciler: RunReconciler, options: Partial<StepFunctionsEngineOptions> = {}) => {
  const engine = new StepFunctionsEngine(
    client,
    {
      arns: { 'detect-inspection': INSPECTION_ARN, 'detect-survey': SURVEY_ARN, 'train-model': null },
      pollIntervalMs: POLL_MS,
      ...options,
    },
    reconciler,
    log,
  );
  engines.push(engine);
  return engine;
};

beforeEach(() => sfn.reset());
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  jest.useRealTimers();
});

describe('starting an execution on Step Functions', () => {
  it('sends exactly the state machine, a name derived from the run and the JSON input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });
    const engine = engineWith(recorder(), { pollIntervalMs: 0 });

    const started = await engine.start({ runId: RUN_ID, workflow: 'detect-inspection', input: INPUT });

    expect(started).toEqual({ executionId: EXECUTION_ARN });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input).toEqual({
      stateMachineArn: INSPECTION_ARN,
      name: `vigil-${RUN_ID}`,
      input: JSON.stringify(INPUT),
    });
  });

  it('starts the survey workflow on its own state machine', async () => {
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:vigil-detect-survey:x', startDate: new Date() });
    await engineWith(recorder(), { pollIntervalMs: 0 }).start({ runId: RUN_ID, workflow: 'detect-survey', input: {} });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: SURVEY_ARN, name: `vigil-${RUN_ID}`, input: '{}' });
  });

  it('answers the same execution when the same run is started twice', async () => {
    // AWS answers a repeated StartExecution (same name, same input, still open) with the original execution.
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });
    const engine = engineWith(recorder(), { pollIntervalMs: 0 });

    const first = await engine.start({ runId: RUN_ID, workflow: 'detect-inspection', input: INPUT });
    const second = await engine.start({ runId: RUN_ID, workflow: 'detect-inspection', input: INPUT });

    expect(second).toEqual(first);
    const [a, b] = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(b).toEqual(a);
  });

  it('answers the existing execution when Step Functions says it already exists', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: `Execution Already Exists: '${EXECUTION_ARN}'`, $metadata: {} }));
    const started = await engineWith(recorder(), { pollIntervalMs: 0 }).start({
      runId: RUN_ID,
      workflow: 'detect-inspection',
      input: INPUT,
    });
    expect(started).toEqual({ executionId: EXECUTION_ARN });
  });

  it('fails naming the variable when the workflow has no state machine, without calling AWS', async () => {
    const engine = engineWith(recorder(), { arns: { 'detect-inspection': INSPECTION_ARN, 'detect-survey': null, 'train-model': null } });
    await expect(engine.start({ runId: RUN_ID, workflow: 'detect-survey', input: {} })).rejects.toThrow(
      'workflow detect-survey has no state machine: set SFN_DETECT_SURVEY_ARN to its ARN',
    );
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it('says which permission on which state machine is missing when access is denied', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    await expect(engineWith(recorder()).start({ runId: RUN_ID, workflow: 'detect-inspection', input: INPUT })).rejects.toThrow(
      `Step Functions denied states:StartExecution on ${INSPECTION_ARN}`,
    );
  });

  it('names the variable to check when the state machine does not exist', async () => {
    sfn.on(StartExecutionCommand).rejects(new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', $metadata: {} }));
    await expect(engineWith(recorder()).start({ runId: RUN_ID, workflow: 'detect-inspection', input: INPUT })).rejects.toThrow(
      `state machine ${INSPECTION_ARN} does not exist: check SFN_DETECT_INSPECTION_ARN`,
    );
  });

  it('passes other failures on unchanged', async () => {
    const failure = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    sfn.on(StartExecutionCommand).rejects(failure);
    await expect(engineWith(recorder()).start({ runId: RUN_ID, workflow: 'detect-inspection', input: INPUT })).rejects.toBe(failure);
  });

  it('refuses to start once closed', async () => {
    const engine = engineWith(recorder());
    await engine.close();
    await expect(engine.start({ runId: RUN_ID, workflow: 'detect-inspection', input: INPUT })).rejects.toThrow('closed');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });
});

describe('execution names and ARNs', () => {
  it('names an execution after its run, within Step Functions limits', () => {
    expect(executionName(RUN_ID)).toBe(`vigil-${RUN_ID}`);
    expect(executionName(RUN_ID)).toMatch(/^[0-9A-Za-z_-]{1,80}$/);
  });

  it('rejects run ids that cannot name an execution', () => {
    expect(() => executionName('a b')).toThrow('cannot name a Step Functions execution');
    expect(() => executionName('x'.repeat(75))).toThrow('cannot name a Step Functions execution');
  });

  it('derives the execution ARN from the state machine ARN, dropping a version or alias', () => {
    expect(executionArnFor(INSPECTION_ARN, `vigil-${RUN_ID}`)).toBe(EXECUTION_ARN);
    expect(executionArnFor(`${INSPECTION_ARN}:prod`, `vigil-${RUN_ID}`)).toBe(EXECUTION_ARN);
    expect(executionArnFor('arn:aws-cn:states:cn-north-1:123456789012:stateMachine:m', 'n')).toBe(
      'arn:aws-cn:states:cn-north-1:123456789012:execution:m:n',
    );
    expect(() => executionArnFor('arn:aws:s3:::bucket', 'n')).toThrow('not a Step Functions state machine ARN');
  });
});

describe('watching executions until they end', () => {
  beforeEach(() => jest.useFakeTimers());

  it('reports a failed execution once, with its error and cause, and stops describing it', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });
    sfn
      .on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN })
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'FAILED', error: 'Detector.Unavailable', cause: 'Lookout for Vision model is not running' });
    const reconciler = recorder();
    await engineWith(reconciler).start({ runId: RUN_ID, workflow: 'detect-inspection', input: INPUT });

    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 1);
    expect(reconciler.reconcile).not.toHaveBeenCalled();

    await jest.advanceTimersByTimeAsync(5 * POLL_MS);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 2);
    expect(reconciler.reconcile).toHaveBeenCalledTimes(1);
    expect(reconciler.outcomes).toEqual([
      { executionId: EXECUTION_ARN, status: 'FAILED', error: 'Detector.Unavailable', cause: 'Lookout for Vision model is not running' },
    ]);
  });

  it('reports an execution that had already ended when its start was retried', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN }).resolves({ status: 'SUCCEEDED' });
    const reconciler = recorder();
    await engineWith(reconciler).start({ runId: RUN_ID, workflow: 'detect-inspection', input: INPUT });

    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(reconciler.outcomes).toEqual([{ executionId: EXECUTION_ARN, status: 'SUCCEEDED', error: null, cause: null }]);
  });

  it('describes every watched execution on one timer, a few at a time', async () => {
    let inFlight = 0;
    let most = 0;
    sfn.on(DescribeExecutionCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      for (let tick = 0; tick < 5; tick++) await Promise.resolve();
      inFlight--;
      return { status: 'RUNNING' };
    });
    const engine = engineWith(recorder());
    for (let i = 0; i < 12; i++) engine.watch(`${EXECUTION_ARN}-${i}`);
    expect(jest.getTimerCount()).toBe(1);

    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 12);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(5);
  });

  it('does not poll when the interval is 0', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });
    await engineWith(recorder(), { pollIntervalMs: 0 }).start({ runId: RUN_ID, workflow: 'detect-inspection', input: INPUT });
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 0);
  });

  it('keeps watching through describe failures and reconciler failures', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ status: 'TIMED_OUT' });
    const reconciler = recorder();
    (reconciler.reconcile as jest.Mock).mockRejectedValueOnce(new Error('database unavailable'));
    engineWith(reconciler).watch(EXECUTION_ARN);

    await jest.advanceTimersByTimeAsync(3 * POLL_MS);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 3);
    expect(reconciler.reconcile).toHaveBeenCalledTimes(2);
    expect(reconciler.outcomes).toEqual([{ executionId: EXECUTION_ARN, status: 'TIMED_OUT', error: null, cause: null }]);

    await jest.advanceTimersByTimeAsync(3 * POLL_MS);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 3);
  });

  it('gives up on an execution Step Functions keeps saying does not exist', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    const reconciler = recorder();
    engineWith(reconciler).watch(EXECUTION_ARN);

    await jest.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 3);
    expect(reconciler.reconcile).not.toHaveBeenCalled();
  });

  it('stops polling on close, after the poll in flight has finished', async () => {
    let finishDescribe: () => void = () => {};
    sfn.on(DescribeExecutionCommand).callsFake(() => new Promise((resolve) => (finishDescribe = () => resolve({ status: 'RUNNING' }))));
    const engine = engineWith(recorder());
    engine.watch(EXECUTION_ARN);
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 1);

    let closed = false;
    const closing = engine.close().then(() => (closed = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false);
    finishDescribe();
    await closing;

    await jest.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
