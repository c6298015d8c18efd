import {
  CreateTransformJobCommand,
  DescribeTransformJobCommand,
  SageMakerClient,
  SageMakerServiceException,
  type TransformJobStatus,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import pino from 'pino';
import { type AslDefinition } from '../../../../src/adapters/workflow-engine/asl-definitions';
import { LocalWorkflowEngine, type LocalTask } from '../../../../src/adapters/workflow-engine/local.driver';
import { CREATE_TRANSFORM_JOB_SYNC, transformJobSync } from '../../../../src/adapters/workflow-engine/sagemaker-transform';
import { type ExecutionOutcome } from '../../../../src/adapters/workflow-engine/workflow-engine.port';

// The local engine runs Step Functions' `createTransformJob.sync` itself: SageMaker mocked at the SDK boundary, the exact
// requests asserted, and the state's output, Retry and Catch behaving as on Step Functions.

const credentials = { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' };
const sageMaker = mockClient(SageMakerClient);
const client = new SageMakerClient({ region: 'eu-west-1', credentials });
beforeEach(() => sageMaker.reset());

const JOB = 'vigil-survey-0193a0b4-batch-1';
const MANIFEST = 's3://vigil-images/batch/0193a0b4/input.manifest';
const OUTPUT = 's3://vigil-images/batch/0193a0b4/output/';

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: ASL placeholders, substituted by the engine.
const definition: AslDefinition = {
  StartAt: 'Transform',
  States: {
    Transform: {
      Type: 'Task',
      Resource: CREATE_TRANSFORM_JOB_SYNC,
      Parameters: {
        'TransformJobName.$': '$.jobName',
        ModelName: 'vigil-anomaly',
        TransformInput: {
          DataSource: { S3DataSource: { S3DataType: 'ManifestFile', 'S3Uri.$': '$.manifest' } },
          ContentType: 'image/png',
          SplitType: 'None',
        },
        TransformOutput: { 'S3OutputPath.$': '$.output', Accept: 'application/json', AssembleWith: 'None' },
        TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
      },
      ResultSelector: { 'status.$': '$.TransformJobStatus', 'output.$': '$.TransformOutput.S3OutputPath', 'ended.$': '$.TransformEndTime' },
      ResultPath: '$.job',
      // The local engine, like Step Functions, ends a Task at TimeoutSeconds (its default is 60 s: too short for a job).
      TimeoutSeconds: 3600,
      Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'MarkFailed' }],
      Next: 'RecordBatch',
    },
    RecordBatch: { Type: 'Task', Resource: '${RecordBatchFunctionArn}', End: true },
    MarkFailed: { Type: 'Task', Resource: '${MarkFailedFunctionArn}', End: true },
  },
};
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: ASL placeholders, substituted by the engine.

const EXPECTED_REQUEST = {
  TransformJobName: JOB,
  ModelName: 'vigil-anomaly',
  TransformInput: {
    DataSource: { S3DataSource: { S3DataType: 'ManifestFile', S3Uri: MANIFEST } },
    ContentType: 'image/png',
    SplitType: 'None',
  },
  TransformOutput: { S3OutputPath: OUTPUT, Accept: 'application/json', AssembleWith: 'None' },
  TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
};

const described = (status: TransformJobStatus, extra: Record<string, unknown> = {}) => ({
  TransformJobName: JOB,
  TransformJobStatus: status,
  TransformOutput: { S3OutputPath: OUTPUT },
  ...extra,
});

async function run(timeoutSeconds = 3600) {
  const calls: { task: string; input: any }[] = [];
  const record =
    (task: string): LocalTask =>
    async (input) => {
      calls.push({ task, input });
      return {};
    };
  let stop = false;
  const closed = () => stop;
  let ended!: (o: ExecutionOutcome) => void;
  const outcome = new Promise<ExecutionOutcome>((r) => (ended = r));
  const engine = new LocalWorkflowEngine(
    {
      'detect-inspection': {
        ...definition,
        States: { ...definition.States, Transform: { ...definition.States.Transform, TimeoutSeconds: timeoutSeconds } },
      },
    },
    { RecordBatch: record('RecordBatch'), MarkFailed: record('MarkFailed') },
    {
      maxRuns: 1,
      retryIntervalMs: 1,
      integrations: { [CREATE_TRANSFORM_JOB_SYNC]: transformJobSync(() => client, { pollMs: 1, timeoutMs: 60_000, closed }) },
    },
    { reconcile: async (o) => ended(o) },
    pino({ level: 'silent' }),
  );
  await engine.start({ runId: 'run-1', workflow: 'detect-inspection', input: { jobName: JOB, manifest: MANIFEST, output: OUTPUT } });
  const result = await outcome;
  stop = true;
  await engine.close();
  return { result, calls };
}

describe('createTransformJob.sync on the local engine', () => {
  it('creates the job with the state Parameters, polls until it completes and passes the description on', async () => {
    const ended = new Date('2026-12-02T10:00:00Z');
    sageMaker.on(CreateTransformJobCommand).resolves({ TransformJobArn: `arn:aws:sagemaker:eu-west-1:123456789012:transform-job/${JOB}` });
    sageMaker
      .on(DescribeTransformJobCommand)
      .resolvesOnce(described('InProgress'))
      .resolvesOnce(described('InProgress'))
      .resolves(described('Completed', { TransformEndTime: ended }));

    const { result, calls } = await run();
    expect(result.status).toBe('SUCCEEDED');
    expect(sageMaker).toHaveReceivedCommandTimes(CreateTransformJobCommand, 1);
    expect(sageMaker.commandCalls(CreateTransformJobCommand)[0].args[0].input).toEqual(EXPECTED_REQUEST);
    expect(sageMaker).toHaveReceivedCommandTimes(DescribeTransformJobCommand, 3);
    expect(sageMaker).toHaveReceivedCommandWith(DescribeTransformJobCommand, { TransformJobName: JOB });
    expect(calls).toEqual([
      {
        task: 'RecordBatch',
        input: {
          jobName: JOB,
          manifest: MANIFEST,
          output: OUTPUT,
          job: { status: 'Completed', output: OUTPUT, ended: '2026-12-02T10:00:00.000Z' },
        },
      },
    ]);
  });

  it('waits for a job of that name that exists already (a retried run) instead of starting a second one', async () => {
    sageMaker.on(CreateTransformJobCommand).rejects(
      new SageMakerServiceException({
        name: 'ValidationException',
        $fault: 'client',
        $metadata: {},
        message: 'Job name must be unique within an AWS account and region, and a job with this name already exists',
      }),
    );
    sageMaker.on(DescribeTransformJobCommand).resolves(described('Completed', { TransformEndTime: new Date() }));
    const { result, calls } = await run();
    expect(result.status).toBe('SUCCEEDED');
    expect(sageMaker).toHaveReceivedCommandTimes(CreateTransformJobCommand, 1);
    expect(calls.map((c) => c.task)).toEqual(['RecordBatch']);
  });

  it('fails the state with States.TaskFailed and the reason when the job fails, which the definition catches', async () => {
    sageMaker.on(CreateTransformJobCommand).resolves({});
    sageMaker.on(DescribeTransformJobCommand).resolves(described('Failed', { FailureReason: 'ClientError: model container exited' }));
    const { result, calls } = await run();
    expect(result.status).toBe('SUCCEEDED');
    expect(calls).toEqual([
      {
        task: 'MarkFailed',
        input: expect.objectContaining({
          error: { Error: 'States.TaskFailed', Cause: `transform job ${JOB} failed: ClientError: model container exited` },
        }),
      },
    ]);
  });

  it('names an API error SageMaker.<exception>, as Step Functions does (States.TaskFailed catches it too)', async () => {
    sageMaker
      .on(CreateTransformJobCommand)
      .rejects(new SageMakerServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'not allowed' }));
    const { calls } = await run();
    expect(calls).toEqual([
      { task: 'MarkFailed', input: expect.objectContaining({ error: { Error: 'SageMaker.AccessDeniedException', Cause: 'not allowed' } }) },
    ]);
    expect(sageMaker).toHaveReceivedCommandTimes(DescribeTransformJobCommand, 0);
  });

  it('fails with States.Timeout at the state TimeoutSeconds, which States.TaskFailed does not catch, and stops polling', async () => {
    sageMaker.on(CreateTransformJobCommand).resolves({});
    sageMaker.on(DescribeTransformJobCommand).resolves(described('InProgress'));
    const { result, calls } = await run(1);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(calls).toEqual([]);
    const polled = sageMaker.commandCalls(DescribeTransformJobCommand).length;
    await new Promise((r) => setTimeout(r, 50));
    expect(sageMaker.commandCalls(DescribeTransformJobCommand).length).toBeLessThanOrEqual(polled + 1);
  });

  it('refuses a definition with a service integration the engine does not do, naming it', () => {
    const other = {
      ...definition,
      States: {
        ...definition.States,
        Transform: { ...definition.States.Transform, Resource: 'arn:aws:states:::sagemaker:createTrainingJob.sync' },
      },
    };
    expect(
      () =>
        new LocalWorkflowEngine(
          { 'detect-inspection': other },
          {},
          { maxRuns: 1 },
          { reconcile: async () => {} },
          pino({ level: 'silent' }),
        ),
    ).toThrow(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ASL placeholder, named literally.
      'Task state Transform names no vigil handler (no ${…FunctionArn} resource nor a known integration: arn:aws:states:::sagemaker:createTrainingJob.sync)',
    );
  });
});
