import { randomUUID } from 'node:crypto';
import {
  ConflictException,
  InternalServerException,
  ResourceNotFoundException,
  SageMakerA2IRuntimeClient,
  SageMakerA2IRuntimeServiceException,
  ServiceQuotaExceededException,
  StartHumanLoopCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-sagemaker-a2i-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DetectorError, TransientDetectorError } from '../../../../src/adapters/detectors/detector.port';
import { A2IHumanReview, anomalyReviewInput } from '../../../../src/adapters/human-review/a2i.driver';
import { HUMAN_LOOP_NAME, humanLoopName } from '../../../../src/adapters/human-review/human-loop-name';
import { type HumanLoopRequest } from '../../../../src/adapters/human-review/human-review.port';

const credentials = { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' };
const FLOW = 'arn:aws:sagemaker:eu-west-1:123456789012:flow-definition/vigil-anomaly-review';
const TASK_ID = '3f2b8c1e-9d4a-4e7b-8c6d-5a1b2c3d4e5f';

const a2i = mockClient(SageMakerA2IRuntimeClient);
const client = new SageMakerA2IRuntimeClient({ region: 'eu-west-1', credentials });
const review = new A2IHumanReview({ client, flowDefinitionArn: FLOW });
beforeEach(() => a2i.reset());

function request(overrides: Partial<HumanLoopRequest> = {}): HumanLoopRequest {
  return {
    taskId: TASK_ID,
    attempt: 0,
    reason: 'LOW_CONFIDENCE',
    deviceType: 'insulator',
    imageS3Uri: 's3://vigil-images/normalized/3f/3f2b8c1e.jpg',
    imageWidth: 640,
    imageHeight: 480,
    modelRegions: [
      { box: { x: 0.1, y: 0.25, width: 0.25, height: 0.5 }, type: 'crack', confidence: 0.41 },
      // Not one of the device type's anomaly types, and reaching past the right and bottom edges.
      { box: { x: 0.9, y: 0.9, width: 0.2, height: 0.2 }, type: 'scorch', confidence: 0.33 },
    ],
    confidence: 0.58,
    anomalyTypes: ['chipped', 'crack', 'flashover'],
    ...overrides,
  };
}

const sentInput = (call = 0) => a2i.commandCalls(StartHumanLoopCommand)[call].args[0].input;
const sentContent = (call = 0) => JSON.parse(sentInput(call).HumanLoopInput!.InputContent!) as Record<string, unknown>;

describe('starting an A2I human loop', () => {
  it('sends the loop name, the flow definition and the task with the model’s boxes in pixels', async () => {
    a2i.on(StartHumanLoopCommand).resolves({ HumanLoopArn: `arn:aws:sagemaker:eu-west-1:123456789012:human-loop/vigil-${TASK_ID}` });
    expect(await review.startHumanLoop(request())).toEqual({ humanLoopName: `vigil-${TASK_ID}` });

    expect(a2i).toHaveReceivedCommandTimes(StartHumanLoopCommand, 1);
    expect(sentInput()).toEqual({
      HumanLoopName: `vigil-${TASK_ID}`,
      FlowDefinitionArn: FLOW,
      HumanLoopInput: { InputContent: expect.any(String) },
    });
    expect(sentContent()).toEqual({
      taskObject: 's3://vigil-images/normalized/3f/3f2b8c1e.jpg',
      initialValue: [
        { left: 64, top: 120, width: 160, height: 240, label: 'crack' },
        { left: 576, top: 432, width: 64, height: 48, label: 'chipped' },
      ],
      labels: ['chipped', 'crack', 'flashover'],
      confidence: 0.58,
      taskId: TASK_ID,
      reason: 'LOW_CONFIDENCE',
      deviceType: 'insulator',
    });
  });

  it('sends the same input, key for key, each time it starts the same request', async () => {
    a2i.on(StartHumanLoopCommand).resolves({});
    await review.startHumanLoop(request());
    await review.startHumanLoop(structuredClone(request()));
    expect(sentInput(1).HumanLoopInput!.InputContent).toBe(sentInput(0).HumanLoopInput!.InputContent);
    expect(Object.keys(sentContent())).toEqual(['taskObject', 'initialValue', 'labels', 'confidence', 'taskId', 'reason', 'deviceType']);
  });

  it('names a restarted loop after its attempt', async () => {
    a2i.on(StartHumanLoopCommand).resolves({});
    expect(await review.startHumanLoop(request({ attempt: 2 }))).toEqual({ humanLoopName: `vigil-${TASK_ID}-r2` });
    expect(sentInput().HumanLoopName).toBe(`vigil-${TASK_ID}-r2`);
  });

  it('sends a cold-start task without a model: no boxes, no confidence', async () => {
    a2i.on(StartHumanLoopCommand).resolves({});
    await review.startHumanLoop(request({ reason: 'COLD_START', modelRegions: [], confidence: null }));
    expect(sentContent()).toMatchObject({ initialValue: [], confidence: null, reason: 'COLD_START' });
  });

  it('keeps every box at least one pixel and inside the image', () => {
    const input = anomalyReviewInput(
      request({
        imageWidth: 100,
        imageHeight: 50,
        modelRegions: [
          { box: { x: 0.5, y: 0.5, width: 0.001, height: 0 }, type: 'crack', confidence: 0.9 },
          { box: { x: 1, y: 1, width: 0.1, height: 0.1 }, type: 'crack', confidence: 0.9 },
          { box: { x: -0.2, y: -0.1, width: 1.5, height: 1.5 }, type: 'crack', confidence: 0.9 },
        ],
      }),
    );
    expect(input.initialValue).toEqual([
      { left: 50, top: 25, width: 1, height: 1, label: 'crack' },
      { left: 99, top: 49, width: 1, height: 1, label: 'crack' },
      { left: 0, top: 0, width: 100, height: 50, label: 'crack' },
    ]);
  });

  it('drops repeated anomaly types from the labels', () => {
    expect(anomalyReviewInput(request({ anomalyTypes: ['crack', 'chipped', 'crack'] })).labels).toEqual(['crack', 'chipped']);
  });

  it('refuses, without calling AWS, a label count crowd-bounding-box cannot show, a bad image URI, size or task id', async () => {
    const types = Array.from({ length: 11 }, (_, i) => `type-${i}`);
    await expect(review.startHumanLoop(request({ anomalyTypes: types }))).rejects.toThrow(
      '11 anomaly types; crowd-bounding-box needs 1 to 10 labels (ANOMALY_TYPES)',
    );
    await expect(review.startHumanLoop(request({ anomalyTypes: [] }))).rejects.toThrow(
      '0 anomaly types; crowd-bounding-box needs 1 to 10 labels',
    );
    await expect(review.startHumanLoop(request({ imageS3Uri: 'normalized/3f/3f2b8c1e.jpg' }))).rejects.toThrow(
      'is not an s3://bucket/key URI',
    );
    await expect(review.startHumanLoop(request({ imageWidth: 0 }))).rejects.toThrow('image size 0×480');
    await expect(review.startHumanLoop(request({ taskId: 'task-1' }))).rejects.toThrow('is not a UUID');
    expect(a2i).toHaveReceivedCommandTimes(StartHumanLoopCommand, 0);
  });

  it('takes a loop that already exists under the name as started', async () => {
    a2i.on(StartHumanLoopCommand).rejects(
      new ConflictException({
        message: 'A human loop with the same name already exists',
        Message: 'A human loop with the same name already exists',
        $metadata: { httpStatusCode: 409 },
      }),
    );
    expect(await review.startHumanLoop(request({ attempt: 1 }))).toEqual({ humanLoopName: `vigil-${TASK_ID}-r1` });
  });

  it.each([
    new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }),
    new InternalServerException({ message: 'Internal error', Message: 'Internal error', $metadata: { httpStatusCode: 500 } }),
  ])('turns $name into Vigil.TransientError', async (sdkError) => {
    a2i.on(StartHumanLoopCommand).rejects(sdkError);
    const error = await review.startHumanLoop(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDetectorError);
    expect(error).toMatchObject({ name: 'Vigil.TransientError', cause: sdkError });
  });

  it('names the missing IAM action on access denied', async () => {
    const denied = new SageMakerA2IRuntimeServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      message: 'User: arn:aws:sts::123456789012:assumed-role/vigil/worker is not authorized to perform: sagemaker:StartHumanLoop',
      $metadata: { httpStatusCode: 403 },
    });
    a2i.on(StartHumanLoopCommand).rejects(denied);
    const error = await review.startHumanLoop(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetectorError);
    expect((error as Error).message).toContain('the IAM role vigil runs as needs the "sagemaker:StartHumanLoop" permission');
    expect((error as Error).message).toContain('is not authorized to perform: sagemaker:StartHumanLoop');
  });

  it.each([
    {
      name: 'ValidationException',
      sdkError: new ValidationException({
        message: 'InputContent exceeds the maximum size',
        Message: 'InputContent exceeds the maximum size',
        $metadata: { httpStatusCode: 400 },
      }),
      said: 'InputContent exceeds the maximum size',
    },
    {
      name: 'ResourceNotFoundException',
      sdkError: new ResourceNotFoundException({
        message: 'Flow definition vigil-anomaly-review not found',
        Message: 'Flow definition vigil-anomaly-review not found',
        $metadata: { httpStatusCode: 404 },
      }),
      said: 'Flow definition vigil-anomaly-review not found',
    },
    {
      name: 'ServiceQuotaExceededException',
      sdkError: new ServiceQuotaExceededException({
        message: 'Too many human loops in progress',
        Message: 'Too many human loops in progress',
        $metadata: { httpStatusCode: 402 },
      }),
      said: 'Too many human loops in progress',
    },
  ])('passes AWS’s message on for $name, as an error no retry fixes', async ({ sdkError, said }) => {
    a2i.on(StartHumanLoopCommand).rejects(sdkError);
    const error = await review.startHumanLoop(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetectorError);
    expect(error).toMatchObject({
      name: 'Vigil.DetectorError',
      message: `sagemaker:StartHumanLoop failed (${sdkError.name}): ${said}`,
      cause: sdkError,
    });
  });

  it('is the a2i kind of human review', () => {
    expect(review.kind).toBe('a2i');
  });
});

describe('human loop names', () => {
  const ATTEMPTS = [0, 1, 2, 9, 10, 99, 1000, 123_456_789, Number.MAX_SAFE_INTEGER];

  it('are vigil-<task id>, with -r<attempt> after the first attempt', () => {
    expect(humanLoopName(TASK_ID, 0)).toBe(`vigil-${TASK_ID}`);
    expect(humanLoopName(TASK_ID, 1)).toBe(`vigil-${TASK_ID}-r1`);
    expect(humanLoopName(TASK_ID.toUpperCase(), 3)).toBe(`vigil-${TASK_ID}-r3`);
  });

  it('follow A2I’s rules for every task id and attempt, and never repeat', () => {
    const ids = [
      ...Array.from({ length: 500 }, () => randomUUID()),
      ...Array.from({ length: 50 }, () => randomUUID().toUpperCase()),
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
    ];
    const seen = new Set<string>();
    const broken: string[] = [];
    for (const id of ids) {
      for (const attempt of ATTEMPTS) {
        const name = humanLoopName(id, attempt);
        const valid = name.length >= 1 && name.length <= 63 && /^[a-z0-9](-*[a-z0-9])*$/.test(name) && HUMAN_LOOP_NAME.test(name);
        if (!valid || humanLoopName(id, attempt) !== name) broken.push(`${id} #${attempt}: ${name}`);
        seen.add(name);
      }
    }
    expect(broken).toEqual([]);
    expect(seen.size).toBe(ids.length * ATTEMPTS.length);
    expect(humanLoopName(ids[0], Number.MAX_SAFE_INTEGER).length).toBeLessThanOrEqual(63);
  });

  it.each([
    ['not-a-uuid', 0, 'is not a UUID'],
    [`${TASK_ID}x`, 0, 'is not a UUID'],
    ['', 0, 'is not a UUID'],
    [TASK_ID, -1, 'attempt -1 is not a whole number'],
    [TASK_ID, 1.5, 'attempt 1.5 is not a whole number'],
    [TASK_ID, Number.NaN, 'attempt NaN is not a whole number'],
    [TASK_ID, Number.MAX_SAFE_INTEGER + 1, 'is not a whole number'],
  ])('refuse task id %p with attempt %p', (id, attempt, message) => {
    expect(() => humanLoopName(id, attempt)).toThrow(message);
  });
});
