import { type ExecutionOutcome, type RunReconciler } from '../../../src/adapters/workflow-engine/workflow-engine.port';
import {
  createExecutionStatusChangeHandler,
  handleExecutionStatusChange,
  parseExecutionStatusChange,
} from '../../../src/workflows/eventbridge/execution-status-change';

const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:vigil-detect-inspection:vigil-0b7e3c1a-4f2d-4c6e-9a8b-1d2e3f4a5b6c';

// The shape of the AWS documentation's example event.
const statusChange = (detail: Record<string, unknown>) => ({
  version: '0',
  id: '315c1398-40ff-a850-213b-158f73e60175',
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  account: '123456789012',
  time: '2026-02-26T19:42:21Z',
  region: 'us-east-1',
  resources: [EXECUTION_ARN],
  detail: {
    executionArn: EXECUTION_ARN,
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:vigil-detect-inspection',
    name: 'vigil-0b7e3c1a-4f2d-4c6e-9a8b-1d2e3f4a5b6c',
    status: 'FAILED',
    startDate: 1551225146847,
    stopDate: 1551225151881,
    input: '{"runId":"0b7e3c1a-4f2d-4c6e-9a8b-1d2e3f4a5b6c"}',
    inputDetails: { included: true },
    output: null,
    outputDetails: null,
    error: 'Detector.Unavailable',
    cause: 'Lookout for Vision model is not running',
    ...detail,
  },
});

/** Records every outcome it is given, and finishes each run once, as the real reconciler does. */
const fakeReconciler = () => {
  const received: ExecutionOutcome[] = [];
  const finished = new Map<string, ExecutionOutcome['status']>();
  const reconciler: RunReconciler = {
    reconcile: async (outcome) => {
      received.push(outcome);
      if (!finished.has(outcome.executionId)) finished.set(outcome.executionId, outcome.status);
    },
  };
  return { reconciler, received, finished };
};

describe('parsing a Step Functions execution status change', () => {
  it('reads the outcome of a failed execution', () => {
    expect(parseExecutionStatusChange(statusChange({}))).toEqual({
      executionId: EXECUTION_ARN,
      status: 'FAILED',
      error: 'Detector.Unavailable',
      cause: 'Lookout for Vision model is not running',
    });
  });

  it.each(['SUCCEEDED', 'TIMED_OUT', 'ABORTED'] as const)('reads %s with no error or cause as nulls', (status) => {
    const event = statusChange({ status, error: null, cause: null, output: '{}' });
    expect(parseExecutionStatusChange(event)).toEqual({ executionId: EXECUTION_ARN, status, error: null, cause: null });
  });

  it('reads an event without error and cause fields', () => {
    const { detail } = statusChange({ status: 'SUCCEEDED' });
    const { error: _error, cause: _cause, ...rest } = detail;
    expect(parseExecutionStatusChange({ ...statusChange({}), detail: rest })).toEqual({
      executionId: EXECUTION_ARN,
      status: 'SUCCEEDED',
      error: null,
      cause: null,
    });
  });

  it.each(['RUNNING', 'PENDING_REDRIVE'])('answers null while the execution is %s', (status) => {
    expect(parseExecutionStatusChange(statusChange({ status, stopDate: null, error: null, cause: null }))).toBeNull();
  });

  it('rejects an event of another type or source', () => {
    expect(() => parseExecutionStatusChange({ ...statusChange({}), 'detail-type': 'EC2 Instance State-change Notification' })).toThrow(
      'expected a "Step Functions Execution Status Change" event from aws.states, got "EC2 Instance State-change Notification" from aws.states',
    );
    expect(() => parseExecutionStatusChange({ ...statusChange({}), source: 'vigil.test' })).toThrow('from vigil.test');
  });

  it('rejects malformed events, naming the field', () => {
    expect(() => parseExecutionStatusChange(statusChange({ executionArn: undefined }))).toThrow(
      'malformed "Step Functions Execution Status Change" event 315c1398-40ff-a850-213b-158f73e60175: detail.executionArn: expected an execution ARN',
    );
    expect(() =>
      parseExecutionStatusChange(statusChange({ executionArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:m' })),
    ).toThrow('detail.executionArn: expected an execution ARN');
    expect(() => parseExecutionStatusChange(statusChange({ status: 'DONE' }))).toThrow('detail.status: expected RUNNING, SUCCEEDED');
    expect(() => parseExecutionStatusChange(statusChange({ error: 42 }))).toThrow('detail.error');
    expect(() => parseExecutionStatusChange({ ...statusChange({}), detail: undefined })).toThrow('malformed');
    expect(() => parseExecutionStatusChange('not an event')).toThrow('not an EventBridge event');
    expect(() => parseExecutionStatusChange({ source: 'aws.states' })).toThrow('not an EventBridge event: detail-type: expected a string');
  });
});

describe('handling a Step Functions execution status change', () => {
  it('reports the outcome to the reconciler', async () => {
    const { reconciler, received } = fakeReconciler();
    const outcome = await handleExecutionStatusChange(statusChange({}), reconciler);
    expect(received).toEqual([outcome]);
    expect(outcome).toMatchObject({ executionId: EXECUTION_ARN, status: 'FAILED' });
  });

  it('passes a redelivered event on again, and the reconciler finishes the run only once', async () => {
    const { reconciler, received, finished } = fakeReconciler();
    const event = statusChange({});
    await handleExecutionStatusChange(event, reconciler);
    await handleExecutionStatusChange(structuredClone(event), reconciler);

    expect(received).toHaveLength(2);
    expect(received[1]).toEqual(received[0]);
    expect([...finished]).toEqual([[EXECUTION_ARN, 'FAILED']]);
  });

  it('does not report executions still running', async () => {
    const { reconciler, received } = fakeReconciler();
    expect(await handleExecutionStatusChange(statusChange({ status: 'RUNNING', error: null, cause: null }), reconciler)).toBeNull();
    expect(received).toEqual([]);
  });

  it('rejects a malformed event without reporting anything', async () => {
    const { reconciler, received } = fakeReconciler();
    await expect(handleExecutionStatusChange(statusChange({ status: 'DONE' }), reconciler)).rejects.toThrow('malformed');
    expect(received).toEqual([]);
  });
});

describe('the Lambda handler', () => {
  it('asks for the reconciler only when an execution has ended', async () => {
    const { reconciler, received } = fakeReconciler();
    const getReconciler = jest.fn(async () => reconciler);
    const handler = createExecutionStatusChangeHandler(getReconciler);

    await handler(statusChange({ status: 'RUNNING', error: null, cause: null }));
    expect(getReconciler).not.toHaveBeenCalled();

    await handler(statusChange({}));
    expect(getReconciler).toHaveBeenCalledTimes(1);
    expect(received).toEqual([
      { executionId: EXECUTION_ARN, status: 'FAILED', error: 'Detector.Unavailable', cause: 'Lookout for Vision model is not running' },
    ]);
  });

  it('fails the invocation on a malformed event, so EventBridge retries or dead-letters it', async () => {
    const handler = createExecutionStatusChangeHandler(async () => fakeReconciler().reconciler);
    await expect(handler({ ...statusChange({}), source: 'aws.ec2' })).rejects.toThrow('from aws.ec2');
  });
});
