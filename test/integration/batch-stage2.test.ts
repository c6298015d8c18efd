import crypto from 'node:crypto';
import { DetectLabelsCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { CreateTransformJobCommand, DescribeTransformJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { WORKFLOW_STEPS } from '../../src/workflows/steps';
import { startTestApp, type TestApp } from '../support/app';
import { memoryS3 } from '../support/memory-s3';

// INSPECT_MODE=batch on the local engine: stage 2 as one SageMaker Batch Transform job per run
// (workflows/detect-inspection-batch.asl.json), S3 in memory and every AWS SDK mocked at the boundary.
// The same pictures and model answers also go through the endpoint path (INSPECT_MODE=endpoint) in a
// second app, and both must record the same detections, anomalies and review tasks.

const REGION = 'eu-west-1';
const BUCKET = 'vigil-images';
const MODEL = 'vigil-anomaly-batch';
const HOUR_USD = 0.9;
const JOB_SECONDS = 600;
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

const s3 = memoryS3();
const rekognition = mockClient(RekognitionClient);
const sagemaker = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);

type Answer = { IsAnomalous: boolean; Confidence: number; Anomalies?: { Name: string }[] };
// Each picture's colour picks what the screen and the model say about it.
const PICTURES: { rgb: number; flagged: boolean; answer: Answer }[] = [
  { rgb: 40, flagged: true, answer: { IsAnomalous: true, Confidence: 0.97, Anomalies: [{ Name: 'background' }, { Name: 'crack' }] } },
  { rgb: 90, flagged: true, answer: { IsAnomalous: true, Confidence: 0.55 } },
  { rgb: 140, flagged: true, answer: { IsAnomalous: false, Confidence: 0.92 } },
  { rgb: 190, flagged: false, answer: { IsAnomalous: false, Confidence: 0.99 } },
];
const jpegs = new Map<number, Buffer>();
const byKey = new Map<string, (typeof PICTURES)[number]>();
const byBytes = new Map<string, (typeof PICTURES)[number]>();
const hex = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

// A transform job: its answers are written to <S3OutputPath>/<key>.out when it is created; a name used before is refused.
const jobs = new Map<string, { status: 'Completed' | 'Failed' }>();
let nextJobFails = false;
function installSageMaker() {
  sagemaker.on(CreateTransformJobCommand).callsFake(async (input) => {
    if (jobs.has(input.TransformJobName)) {
      throw Object.assign(new Error('Job name must be unique within an AWS account and region, and a job with this name already exists'), {
        name: 'ValidationException',
      });
    }
    jobs.set(input.TransformJobName, { status: nextJobFails ? 'Failed' : 'Completed' });
    if (nextJobFails) return { TransformJobArn: `arn:aws:sagemaker:${REGION}:123456789012:transform-job/${input.TransformJobName}` };
    const manifestKey = input.TransformInput.DataSource.S3DataSource.S3Uri.replace(`s3://${BUCKET}/`, '');
    const [, ...keys] = JSON.parse(s3.get(BUCKET, manifestKey)!.body.toString('utf8')) as [unknown, ...string[]];
    const output = input.TransformOutput.S3OutputPath.replace(`s3://${BUCKET}/`, '');
    for (const key of keys) s3.put(BUCKET, `${output}/${key}.out`, JSON.stringify(byKey.get(key)!.answer), 'application/json');
    return { TransformJobArn: `arn:aws:sagemaker:${REGION}:123456789012:transform-job/${input.TransformJobName}` };
  });
  sagemaker.on(DescribeTransformJobCommand).callsFake(async ({ TransformJobName }) => {
    const job = jobs.get(TransformJobName)!;
    const start = new Date('2026-12-02T10:00:00Z');
    return {
      TransformJobName,
      TransformJobStatus: job.status,
      FailureReason: job.status === 'Failed' ? 'ClientError: the model container exited with code 1' : undefined,
      ModelName: MODEL,
      TransformResources: { InstanceType: 'ml.c5.xlarge', InstanceCount: 2 },
      TransformStartTime: start,
      TransformEndTime: new Date(start.getTime() + JOB_SECONDS * 1000),
    };
  });
}

const baseEnv = {
  OBJECT_STORE: 's3',
  S3_BUCKET: BUCKET,
  S3_REGION: REGION,
  AWS_REGION: REGION,
  WORKFLOW_AUTO_START: 'false',
  SCREEN_DETECTOR: 'rekognition-labels',
  INSPECT_DETECTOR: 'sagemaker',
};
const clients = () => ({
  s3Client: new S3Client({ region: REGION, credentials }),
  awsClients: {
    rekognition: new RekognitionClient({ region: REGION, credentials }),
    sagemaker: new SageMakerRuntimeClient({ region: REGION, credentials }),
  },
  retryIntervalMs: 1,
});

let batch: TestApp;
let endpoint: TestApp;
beforeAll(async () => {
  for (const p of PICTURES) {
    const jpeg = await sharp({ create: { width: 160, height: 120, channels: 3, background: { r: p.rgb, g: 100, b: 60 } } })
      .jpeg()
      .toBuffer();
    jpegs.set(p.rgb, jpeg);
    byBytes.set(hex(jpeg), p);
  }
  rekognition.on(DetectLabelsCommand).callsFake(async (input) => ({
    Labels: byKey.get(input.Image.S3Object.Name)!.flagged ? [{ Name: 'Crack', Confidence: 91, Parents: [], Aliases: [] }] : [],
  }));
  runtime.on(InvokeEndpointCommand).callsFake(async (input) => ({
    ContentType: 'application/json',
    Body: Buffer.from(JSON.stringify(byBytes.get(hex(input.Body))!.answer)),
  }));
  installSageMaker();
  batch = await startTestApp(
    {
      ...baseEnv,
      INSPECT_MODE: 'batch',
      SAGEMAKER_BATCH_MODEL_NAME: MODEL,
      SAGEMAKER_BATCH_INSTANCE_TYPE: 'ml.c5.xlarge',
      SAGEMAKER_BATCH_INSTANCE_COUNT: '2',
      SAGEMAKER_BATCH_INSTANCE_HOUR_USD: String(HOUR_USD),
    },
    { ...clients(), sageMakerClient: new SageMakerClient({ region: REGION, credentials }), transformPollMs: 5 },
  );
  endpoint = await startTestApp({ ...baseEnv, SAGEMAKER_ENDPOINT_NAME: 'vigil-inspect' }, clients());
}, 120_000);
afterAll(async () => {
  await batch?.stop();
  await endpoint?.stop();
});
beforeEach(() => {
  sagemaker.resetHistory();
  nextJobFails = false;
});

/** A device with one inspection of READY images (their normalised JPEGs in S3, as preprocessing writes them), one per picture. */
async function inspectionOf(t: TestApp) {
  const prisma = t.app.db.prisma;
  const device = await prisma.device.create({ data: { externalId: `pole-${crypto.randomUUID()}`, name: 'pole', type: 'pole' } });
  const inspection = await prisma.inspection.create({
    data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' },
  });
  const imageIds: string[] = [];
  const keys: string[] = [];
  for (const p of PICTURES) {
    const jpeg = jpegs.get(p.rgb)!;
    const normalizedKey = `derived/${crypto.randomUUID()}/normalized.jpg`;
    s3.put(BUCKET, normalizedKey, jpeg, 'image/jpeg');
    byKey.set(normalizedKey, p);
    keys.push(normalizedKey);
    const sha256 = crypto.createHash('sha256').update(jpeg).update(normalizedKey).digest('hex');
    const image = await prisma.image.create({
      data: {
        inspectionId: inspection.id,
        objectKey: `images/${sha256}`,
        sha256,
        contentType: 'image/jpeg',
        bytes: jpeg.length,
        width: 160,
        height: 120,
        status: 'READY',
        normalizedKey,
      },
    });
    imageIds.push(image.id);
  }
  return { inspectionId: inspection.id, imageIds, keys };
}

async function runToEnd(t: TestApp, inspectionId: string) {
  const run = await t.app.services.workflowRuns.startInspection(inspectionId);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const now = await t.app.db.prisma.workflowRun.findUniqueOrThrow({ where: { id: run.id } });
    if (now.status === 'SUCCEEDED' || now.status === 'FAILED') return now;
    if (Date.now() > deadline) throw new Error(`run ${run.id} did not end: ${now.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a run recorded per image, in PICTURES order, without ids, times and what names the detector. */
async function recorded(t: TestApp, imageIds: string[]) {
  const prisma = t.app.db.prisma;
  return Promise.all(
    imageIds.map(async (imageId) => {
      const inspect = await prisma.detection.findFirst({ where: { imageId, stage: 'INSPECT' } });
      const anomalies = await prisma.anomaly.findMany({ where: { imageId }, orderBy: { regionIndex: 'asc' } });
      const reviews = await prisma.reviewTask.findMany({ where: { imageId } });
      const outcome = await prisma.workflowRunImage.findFirst({ where: { imageId } });
      return {
        inspect: inspect && {
          isAnomalous: inspect.isAnomalous,
          confidence: inspect.confidence,
          calls: inspect.calls,
          result: inspect.result,
        },
        anomalies: anomalies.map((a) => ({ type: a.type, confidence: a.confidence, box: [a.boxX, a.boxY, a.boxWidth, a.boxHeight] })),
        reviews: reviews.map((r) => ({ reason: r.reason, uncertainty: r.uncertainty })),
        outcome: outcome?.outcome,
      };
    }),
  );
}

test('the flagged pictures go to one transform job whose answers are recorded as the endpoint path records them, at the cost of its instance time', async () => {
  const { inspectionId, imageIds, keys } = await inspectionOf(batch);
  const run = await runToEnd(batch, inspectionId);
  expect(run.status).toBe('SUCCEEDED');

  const jobName = `vigil-${run.id}-inspect`;
  const manifestKey = `batch/${jobName}/manifest.json`;
  const created = sagemaker.commandCalls(CreateTransformJobCommand).map((c) => c.args[0].input);
  expect(created).toEqual([
    {
      TransformJobName: jobName,
      ModelName: MODEL,
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: 'ManifestFile', S3Uri: `s3://${BUCKET}/${manifestKey}` } },
        ContentType: 'image/jpeg',
        SplitType: 'None',
      },
      TransformOutput: { S3OutputPath: `s3://${BUCKET}/batch/${jobName}/out`, Accept: 'application/json', AssembleWith: 'None' },
      TransformResources: { InstanceType: 'ml.c5.xlarge', InstanceCount: 2 },
      BatchStrategy: 'SingleRecord',
      Tags: [{ Key: 'vigil:run', Value: run.id }],
    },
  ]);
  const manifest = JSON.parse(s3.get(BUCKET, manifestKey)!.body.toString('utf8'));
  expect(manifest[0]).toEqual({ prefix: `s3://${BUCKET}/` });
  expect(manifest.slice(1).sort()).toEqual(keys.filter((_, i) => PICTURES[i].flagged).sort());
  expect(jobName.length).toBeLessThanOrEqual(63);

  // The same pictures and answers through InvokeEndpoint record the same judgements.
  const other = await inspectionOf(endpoint);
  expect((await runToEnd(endpoint, other.inspectionId)).status).toBe('SUCCEEDED');
  const viaBatch = await recorded(batch, imageIds);
  const viaEndpoint = await recorded(endpoint, other.imageIds);
  expect(viaBatch).toEqual(viaEndpoint);
  expect(viaBatch.map((r) => r.outcome)).toEqual(['ANOMALY', 'UNCERTAIN', 'NORMAL', 'CLEAR']);
  expect(viaBatch[0].anomalies.map((a) => a.type)).toEqual(['anomaly']);

  // The job: 600 s on 2 instances at $0.90 an hour, shared over its 3 pictures.
  const jobUsd = (JOB_SECONDS / 3600) * 2 * HOUR_USD;
  const detections = await batch.app.db.prisma.detection.findMany({ where: { imageId: { in: imageIds }, stage: 'INSPECT' } });
  expect(detections.map((d) => d.detector)).toEqual(['sagemaker-batch', 'sagemaker-batch', 'sagemaker-batch']);
  expect(detections.map((d) => d.modelVersion)).toEqual(Array(3).fill(`sagemaker-batch:${MODEL}`));
  for (const d of detections) expect(d.costUsd).toBeCloseTo(jobUsd / 3, 10);
  const spend = (await batch.app.services.costs.ofInspections([inspectionId])).get(inspectionId)!;
  expect(spend.inspect).toEqual({ usd: Math.round(jobUsd * 1e6) / 1e6, calls: 3, images: 3 });
});

test('a retried run waits for the job it started and records nothing twice', async () => {
  const { inspectionId, imageIds } = await inspectionOf(batch);
  const run = await runToEnd(batch, inspectionId);
  // The run row says SUCCEEDED a moment before its execution ends; a replay started before then would join it.
  await batch.app.workflows.idle?.();
  const before = await recorded(batch, imageIds);
  const prisma = batch.app.db.prisma;
  // The run is replayed from its first state, as a restart resumes an interrupted run.
  await prisma.workflowRun.update({ where: { id: run.id }, data: { status: 'RUNNING', finishedAt: null } });
  sagemaker.resetHistory();
  await batch.app.services.workflowRuns.resumeInterrupted();
  const deadline = Date.now() + 30_000;
  while ((await prisma.workflowRun.findUniqueOrThrow({ where: { id: run.id } })).status === 'RUNNING') {
    if (Date.now() > deadline) throw new Error('the replayed run did not end');
    await new Promise((r) => setTimeout(r, 50));
  }
  expect((await prisma.workflowRun.findUniqueOrThrow({ where: { id: run.id } })).status).toBe('SUCCEEDED');
  // SageMaker refused a second job of that name; the run waited for the first.
  expect(sagemaker.commandCalls(CreateTransformJobCommand).map((c) => c.args[0].input.TransformJobName)).toEqual([
    `vigil-${run.id}-inspect`,
  ]);
  expect([...jobs.keys()].filter((name) => name.includes(run.id))).toHaveLength(1);
  expect(await recorded(batch, imageIds)).toEqual(before);
  expect(await prisma.detection.count({ where: { imageId: { in: imageIds }, stage: 'INSPECT' } })).toBe(3);
});

test('a job that fails fails the run with its reason, and no stage-2 verdict is written', async () => {
  const { inspectionId, imageIds } = await inspectionOf(batch);
  nextJobFails = true;
  const run = await runToEnd(batch, inspectionId);
  expect(run.status).toBe('FAILED');
  expect(run.error).toBe('States.TaskFailed');
  expect(run.cause).toMatch(/transform job vigil-.*-inspect failed: ClientError: the model container exited with code 1/);
  const prisma = batch.app.db.prisma;
  expect((await prisma.inspection.findUniqueOrThrow({ where: { id: inspectionId } })).status).toBe('FAILED');
  expect(await prisma.detection.count({ where: { imageId: { in: imageIds }, stage: 'INSPECT' } })).toBe(0);
  expect(await prisma.anomaly.count({ where: { imageId: { in: imageIds } } })).toBe(0);
  expect(await prisma.reviewTask.count({ where: { imageId: { in: imageIds } } })).toBe(0);
});

test('job times passed on as epoch milliseconds (as Step Functions may) give the same cost share', async () => {
  const { inspectionId, imageIds } = await inspectionOf(batch);
  const run = await runToEnd(batch, inspectionId);
  const prisma = batch.app.db.prisma;
  const normal = imageIds[2];
  const first = await prisma.detection.findFirstOrThrow({ where: { imageId: normal, stage: 'INSPECT' } });
  await prisma.detection.delete({ where: { id: first.id } });
  const start = Date.parse('2026-12-02T10:00:00Z');
  const job = { TransformStartTime: start, TransformEndTime: start + JOB_SECONDS * 1000, TransformResources: { InstanceCount: 2 } };
  await expect(
    WORKFLOW_STEPS.recordBatchResult.run(batch.app.services, { runId: run.id, imageId: normal, job, pictures: 3 }),
  ).resolves.toEqual({
    imageId: normal,
    route: 'NORMAL',
  });
  const again = await prisma.detection.findFirstOrThrow({ where: { imageId: normal, stage: 'INSPECT' } });
  expect(again.costUsd).toBeCloseTo(first.costUsd, 12);
  expect(again.costUsd).toBeCloseTo(((JOB_SECONDS / 3600) * 2 * HOUR_USD) / 3, 12);
});
