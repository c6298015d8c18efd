import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { type HumanLoopOutcomes, type ReviewAnswerInput } from '../../../src/adapters/human-review/human-review.port';
import {
  createHumanLoopStatusChangeHandler,
  handleHumanLoopStatusChange,
  parseHumanLoopStatusChange,
} from '../../../src/workflows/eventbridge/human-loop-status-change';

const NAME = 'vigil-3f2b8c1e-9d4a-4e7b-8c6d-5a1b2c3d4e5f';
const TASK_ID = '3f2b8c1e-9d4a-4e7b-8c6d-5a1b2c3d4e5f';
const FLOW = 'arn:aws:sagemaker:eu-west-1:123456789012:flow-definition/vigil-anomaly-review';
const OUTPUT_BUCKET = 'vigil-a2i-output';
const OUTPUT_KEY = `vigil-anomaly-review/2026/03/02/09/12/47/${NAME}/output.json`;
const OUTPUT_URI = `s3://${OUTPUT_BUCKET}/${OUTPUT_KEY}`;

const credentials = { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' };
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'eu-west-1', credentials });
beforeEach(() => s3Mock.reset());

// The shape of the AWS documentation's example event.
const statusChange = (detail: Record<string, unknown>) => ({
  version: '0',
  id: '8f2a6c1d-3b4e-4f5a-9c8d-7e6f5a4b3c2d',
  'detail-type': 'SageMaker A2I HumanLoop Status Change',
  source: 'aws.sagemaker',
  account: '123456789012',
  time: '2026-03-02T09:15:42Z',
  region: 'eu-west-1',
  resources: [`arn:aws:sagemaker:eu-west-1:123456789012:human-loop/${NAME}`],
  detail: {
    creationTime: '2026-03-02T09:12:47.118Z',
    failureCode: null,
    failureReason: null,
    flowDefinitionArn: FLOW,
    humanLoopArn: `arn:aws:sagemaker:eu-west-1:123456789012:human-loop/${NAME}`,
    humanLoopName: NAME,
    humanLoopOutput: { outputS3Uri: OUTPUT_URI },
    humanLoopStatus: 'Completed',
    ...detail,
  },
});

const outputJson = (humanLoopName = NAME) => ({
  flowDefinitionArn: FLOW,
  humanAnswers: [
    {
      acceptanceTime: '2026-03-02T09:14:05.412Z',
      answerContent: {
        annotatedResult: {
          boundingBoxes: [{ height: 240, label: 'crack', left: 64, top: 120, width: 160 }],
          inputImageProperties: { height: 480, width: 640 },
        },
        anomalous: { anomalous: true },
        normal: { normal: false },
        comment: 'crack on the second shed',
      },
      submissionTime: '2026-03-02T09:15:41.087Z',
      timeSpentInSeconds: 95.675,
      workerId: 'ef7294f850a3d9d1',
      workerMetadata: {
        identityData: {
          identityProviderType: 'Cognito',
          issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123',
          sub: '6c1f3a2e',
        },
      },
    },
  ],
  humanLoopName,
  inputContent: {
    taskObject: 's3://vigil-images/normalized/3f/3f2b8c1e.jpg',
    labels: ['crack'],
    initialValue: [],
    confidence: 0.58,
    taskId: TASK_ID,
    reason: 'LOW_CONFIDENCE',
    deviceType: 'insulator',
  },
});

const EXPECTED_ANSWERS: ReviewAnswerInput[] = [
  {
    reviewer: 'a2i:ef7294f850a3d9d1',
    verdict: 'ANOMALOUS',
    regions: [{ box: { x: 0.1, y: 0.25, width: 0.25, height: 0.5 }, type: 'crack' }],
    comment: 'crack on the second shed',
  },
];

const body = (text: string) => sdkStreamMixin(Readable.from([Buffer.from(text)]));
const serveOutput = (json: unknown = outputJson()) =>
  s3Mock
    .on(GetObjectCommand, { Bucket: OUTPUT_BUCKET, Key: OUTPUT_KEY })
    .callsFake(async () => ({ Body: body(typeof json === 'string' ? json : JSON.stringify(json)) }));

/** Records every call, and settles each loop once, as the real review service does. */
const fakeOutcomes = () => {
  const calls: unknown[][] = [];
  const settled = new Set<string>();
  const settle = (name: string, status: string) => {
    if (name !== NAME) return null;
    settled.add(name);
    return { taskId: TASK_ID, status };
  };
  const outcomes: HumanLoopOutcomes = {
    applyHumanLoopAnswers: async (name, answers) => {
      calls.push(['applyHumanLoopAnswers', name, answers]);
      return settle(name, 'ANSWERED');
    },
    humanLoopEnded: async (name, status, failureReason) => {
      calls.push(['humanLoopEnded', name, status, failureReason]);
      return settle(name, 'OPEN');
    },
  };
  return { outcomes, calls, settled };
};

describe('parsing an A2I human loop status change', () => {
  it('reads a completed loop and where its output is', () => {
    expect(parseHumanLoopStatusChange(statusChange({}))).toEqual({ humanLoopName: NAME, status: 'Completed', outputS3Uri: OUTPUT_URI });
  });

  it.each([
    ['Failed', 'The worker task template could not be rendered'],
    ['Stopped', null],
  ])('reads a %s loop with its failure reason', (status, failureReason) => {
    expect(parseHumanLoopStatusChange(statusChange({ humanLoopStatus: status, failureReason, humanLoopOutput: null }))).toEqual({
      humanLoopName: NAME,
      status,
      failureReason,
    });
  });

  it('reads a stopped loop without failureReason and humanLoopOutput fields', () => {
    const { detail } = statusChange({ humanLoopStatus: 'Stopped' });
    const { failureReason: _reason, humanLoopOutput: _output, ...rest } = detail;
    expect(parseHumanLoopStatusChange({ ...statusChange({}), detail: rest })).toEqual({
      humanLoopName: NAME,
      status: 'Stopped',
      failureReason: null,
    });
  });

  it.each(['InProgress', 'Stopping'])('answers null while the loop is %s', (status) => {
    expect(parseHumanLoopStatusChange(statusChange({ humanLoopStatus: status, humanLoopOutput: null }))).toBeNull();
  });

  it('rejects an event of another type or source', () => {
    expect(() => parseHumanLoopStatusChange({ ...statusChange({}), 'detail-type': 'Step Functions Execution Status Change' })).toThrow(
      'expected a "SageMaker A2I HumanLoop Status Change" event from aws.sagemaker, got "Step Functions Execution Status Change" from aws.sagemaker',
    );
    expect(() => parseHumanLoopStatusChange({ ...statusChange({}), source: 'vigil.test' })).toThrow('from vigil.test');
  });

  it('rejects malformed events, naming the field', () => {
    expect(() => parseHumanLoopStatusChange(statusChange({ humanLoopName: undefined }))).toThrow(
      'malformed "SageMaker A2I HumanLoop Status Change" event 8f2a6c1d-3b4e-4f5a-9c8d-7e6f5a4b3c2d: detail.humanLoopName: expected a human loop name',
    );
    expect(() => parseHumanLoopStatusChange(statusChange({ humanLoopStatus: 'Done' }))).toThrow(
      'detail.humanLoopStatus: expected InProgress, Completed, Failed, Stopping or Stopped',
    );
    expect(() => parseHumanLoopStatusChange(statusChange({ humanLoopOutput: null }))).toThrow(
      'detail.humanLoopOutput.outputS3Uri: expected an s3:// URI for a Completed loop',
    );
    expect(() => parseHumanLoopStatusChange(statusChange({ humanLoopOutput: { outputS3Uri: 'https://example.com/output.json' } }))).toThrow(
      'detail.humanLoopOutput.outputS3Uri: expected an s3:// URI',
    );
    expect(() => parseHumanLoopStatusChange(statusChange({ humanLoopStatus: 'Failed', failureReason: 42 }))).toThrow(
      'detail.failureReason',
    );
    expect(() => parseHumanLoopStatusChange({ ...statusChange({}), detail: undefined })).toThrow('malformed');
    expect(() => parseHumanLoopStatusChange('not an event')).toThrow('not an EventBridge event');
    expect(() => parseHumanLoopStatusChange({ source: 'aws.sagemaker' })).toThrow(
      'not an EventBridge event: detail-type: expected a string',
    );
  });
});

describe('handling an A2I human loop status change', () => {
  it('reads a completed loop’s output.json from S3 and applies the answers', async () => {
    serveOutput();
    const { outcomes, calls } = fakeOutcomes();
    const handled = await handleHumanLoopStatusChange(statusChange({}), { s3, outcomes });

    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: OUTPUT_BUCKET, Key: OUTPUT_KEY });
    expect(calls).toEqual([['applyHumanLoopAnswers', NAME, EXPECTED_ANSWERS]]);
    expect(handled).toEqual({
      humanLoopName: NAME,
      status: 'Completed',
      outputS3Uri: OUTPUT_URI,
      task: { taskId: TASK_ID, status: 'ANSWERED' },
    });
  });

  it('passes a redelivered event on again, and the service settles the loop once', async () => {
    serveOutput();
    const { outcomes, calls, settled } = fakeOutcomes();
    const event = statusChange({});
    await handleHumanLoopStatusChange(event, { s3, outcomes });
    await handleHumanLoopStatusChange(structuredClone(event), { s3, outcomes });

    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual(calls[0]);
    expect([...settled]).toEqual([NAME]);
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 2);
  });

  it.each([
    ['Failed', 'Worker task template rendering failed'],
    ['Stopped', null],
  ] as const)('reports a %s loop without reading S3', async (status, failureReason) => {
    const { outcomes, calls } = fakeOutcomes();
    const handled = await handleHumanLoopStatusChange(statusChange({ humanLoopStatus: status, failureReason, humanLoopOutput: null }), {
      s3,
      outcomes,
    });
    expect(calls).toEqual([['humanLoopEnded', NAME, status, failureReason]]);
    expect(handled).toEqual({ humanLoopName: NAME, status, failureReason, task: { taskId: TASK_ID, status: 'OPEN' } });
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  it.each(['InProgress', 'Stopping'])('ignores a loop still %s', async (status) => {
    const { outcomes, calls } = fakeOutcomes();
    expect(
      await handleHumanLoopStatusChange(statusChange({ humanLoopStatus: status, humanLoopOutput: null }), { s3, outcomes }),
    ).toBeNull();
    expect(calls).toEqual([]);
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  it('returns a null task for a loop no task has', async () => {
    const other = 'vigil-00000000-0000-0000-0000-000000000000';
    const { outcomes, calls } = fakeOutcomes();
    const handled = await handleHumanLoopStatusChange(
      statusChange({ humanLoopName: other, humanLoopStatus: 'Stopped', humanLoopOutput: null }),
      { s3, outcomes },
    );
    expect(handled).toMatchObject({ humanLoopName: other, task: null });
    expect(calls).toEqual([['humanLoopEnded', other, 'Stopped', null]]);
  });

  it('rejects an event of another type without calling anything', async () => {
    const { outcomes, calls } = fakeOutcomes();
    await expect(
      handleHumanLoopStatusChange({ ...statusChange({}), 'detail-type': 'SageMaker Training Job State Change' }, { s3, outcomes }),
    ).rejects.toThrow(
      'expected a "SageMaker A2I HumanLoop Status Change" event from aws.sagemaker, got "SageMaker Training Job State Change"',
    );
    expect(calls).toEqual([]);
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  it('fails clearly, applying nothing, on a malformed or foreign output.json', async () => {
    const { outcomes, calls } = fakeOutcomes();
    serveOutput('{"humanLoopName": ');
    await expect(handleHumanLoopStatusChange(statusChange({}), { s3, outcomes })).rejects.toThrow(`A2I output ${OUTPUT_URI} is not JSON`);

    const bad = outputJson();
    (bad.humanAnswers[0].answerContent.annotatedResult.boundingBoxes[0] as Record<string, unknown>).top = null;
    serveOutput(bad);
    await expect(handleHumanLoopStatusChange(statusChange({}), { s3, outcomes })).rejects.toThrow(
      `A2I output ${OUTPUT_URI}: malformed A2I output.json: humanAnswers.0.answerContent.annotatedResult.boundingBoxes.0.top: expected a number of pixels`,
    );

    serveOutput(outputJson('vigil-00000000-0000-0000-0000-000000000000'));
    await expect(handleHumanLoopStatusChange(statusChange({}), { s3, outcomes })).rejects.toThrow(
      `is for human loop "vigil-00000000-0000-0000-0000-000000000000", the event for "${NAME}"`,
    );
    expect(calls).toEqual([]);
  });

  it('maps S3 failures: a missing file or denied read fails clearly, throttling is transient', async () => {
    const { outcomes } = fakeOutcomes();
    s3Mock
      .on(GetObjectCommand)
      .rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    await expect(handleHumanLoopStatusChange(statusChange({}), { s3, outcomes })).rejects.toMatchObject({
      name: 'Vigil.DetectorError',
      message: 's3:GetObject failed (NoSuchKey): The specified key does not exist.',
    });

    s3Mock
      .on(GetObjectCommand)
      .rejects(
        new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }),
      );
    await expect(handleHumanLoopStatusChange(statusChange({}), { s3, outcomes })).rejects.toThrow('needs the "s3:GetObject" permission');

    s3Mock.on(GetObjectCommand).rejects(
      new S3ServiceException({
        name: 'SlowDown',
        $fault: 'server',
        message: 'Please reduce your request rate.',
        $metadata: { httpStatusCode: 503 },
      }),
    );
    await expect(handleHumanLoopStatusChange(statusChange({}), { s3, outcomes })).rejects.toMatchObject({ name: 'Vigil.TransientError' });
  });
});

describe('the Lambda handler', () => {
  it('asks for its dependencies only when a loop has ended', async () => {
    serveOutput();
    const { outcomes, calls } = fakeOutcomes();
    const getDeps = jest.fn(async () => ({ s3, outcomes }));
    const handler = createHumanLoopStatusChangeHandler(getDeps);

    await handler(statusChange({ humanLoopStatus: 'InProgress', humanLoopOutput: null }));
    expect(getDeps).not.toHaveBeenCalled();

    await handler(statusChange({}));
    await handler(statusChange({ humanLoopStatus: 'Failed', failureReason: 'Human loop expired', humanLoopOutput: null }));
    expect(getDeps).toHaveBeenCalledTimes(2);
    expect(calls).toEqual([
      ['applyHumanLoopAnswers', NAME, EXPECTED_ANSWERS],
      ['humanLoopEnded', NAME, 'Failed', 'Human loop expired'],
    ]);
  });

  it('fails the invocation on a malformed event, so EventBridge retries or dead-letters it', async () => {
    const getDeps = jest.fn(async () => ({ s3, outcomes: fakeOutcomes().outcomes }));
    const handler = createHumanLoopStatusChangeHandler(getDeps);
    await expect(handler({ ...statusChange({}), source: 'aws.states' })).rejects.toThrow('from aws.states');
    expect(getDeps).not.toHaveBeenCalled();
  });
});
