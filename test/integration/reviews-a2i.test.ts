import crypto from 'node:crypto';
import { UpdateDatasetEntriesCommand, LookoutVisionClient } from '@aws-sdk/client-lookoutvision';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerA2IRuntimeClient, StartHumanLoopCommand } from '@aws-sdk/client-sagemaker-a2i-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { toGlobalId } from '../../src/common/global-id';
import { DatasetService } from '../../src/datasets/dataset.service';
import { manifestLineSchema } from '../../src/datasets/lookout-manifest';
import { humanLoopName } from '../../src/adapters/human-review/human-loop-name';
import { handleHumanLoopStatusChange } from '../../src/workflows/eventbridge/human-loop-status-change';
import { ok, startTestApp, type TestApp } from '../support/app';
import { memoryS3 } from '../support/memory-s3';
import { CLAIM, newKey, SUBMIT } from '../support/reviews';

// HUMAN_REVIEW=a2i end to end, with every AWS service mocked at the SDK boundary: a review task
// created by the workflow step starts an A2I human loop; the EventBridge "HumanLoop Status
// Change" event and the loop's output.json in S3 complete it (anomalies, dataset entry, manifest
// in S3, Lookout for Vision dataset update), restart it, or escalate it to an ADMIN on /review.

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const FLOW = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:flow-definition/vigil-anomaly-review`;
const BUCKET = 'vigil-images';
const OUTPUT_BUCKET = 'vigil-a2i-output';
const PROJECT = 'vigil-insulators';
const WIDTH = 64;
const HEIGHT = 48;
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

const s3 = memoryS3();
const a2i = mockClient(SageMakerA2IRuntimeClient);
const lookout = mockClient(LookoutVisionClient);
const s3Client = new S3Client({ region: REGION, credentials });

let t: TestApp;
beforeAll(async () => {
  a2i.on(StartHumanLoopCommand).callsFake((input: { HumanLoopName: string }) => ({
    HumanLoopArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:human-loop/${input.HumanLoopName}`,
  }));
  lookout.on(UpdateDatasetEntriesCommand).resolves({ Status: 'UPDATE_IN_PROGRESS' });
  t = await startTestApp(
    {
      HUMAN_REVIEW: 'a2i',
      A2I_FLOW_DEFINITION_ARN: FLOW,
      A2I_MAX_LOOPS: '2',
      OBJECT_STORE: 's3',
      S3_BUCKET: BUCKET,
      S3_REGION: REGION,
      AWS_REGION: REGION,
      LOOKOUT_DATASET_PROJECT: PROJECT,
      WORKFLOW_AUTO_START: 'false',
    },
    {
      s3Client,
      reviewClients: {
        a2i: new SageMakerA2IRuntimeClient({ region: REGION, credentials }),
        lookout: new LookoutVisionClient({ region: REGION, credentials }),
      },
    },
  );
});
afterAll(() => t?.stop());
beforeEach(() => {
  s3.resetHistory();
  a2i.resetHistory();
  lookout.resetHistory();
});

const startedLoops = () => a2i.commandCalls(StartHumanLoopCommand).map((c) => c.args[0].input);
const datasetUpdates = () => lookout.commandCalls(UpdateDatasetEntriesCommand).map((c) => c.args[0].input);

/**
 * A READY image of a new device of `type` (its normalised PNG in S3) in a detection run, asked
 * for review the way the workflow's request-review step asks.
 */
async function coldStartTask(type: string) {
  const prisma = t.app.db.prisma;
  const device = await prisma.device.create({ data: { externalId: `${type}-${crypto.randomUUID()}`, name: `${type} on line 12`, type } });
  const inspection = await prisma.inspection.create({
    data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' },
  });
  const normalizedKey = `derived/${crypto.randomUUID()}/normalized.png`;
  const png = await sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: { r: 120, g: 130, b: 140 } } })
    .png()
    .toBuffer();
  s3.put(BUCKET, normalizedKey, png, 'image/png');
  const sha256 = crypto.createHash('sha256').update(png).update(normalizedKey).digest('hex');
  const image = await prisma.image.create({
    data: {
      inspectionId: inspection.id,
      objectKey: `images/${sha256}`,
      sha256,
      contentType: 'image/png',
      bytes: png.length,
      width: WIDTH,
      height: HEIGHT,
      status: 'READY',
      normalizedKey,
    },
  });
  const run = await prisma.workflowRun.create({
    data: {
      inspectionId: inspection.id,
      workflow: 'detect-inspection',
      engine: 'LOCAL',
      status: 'RUNNING',
      imagesTotal: 1,
      startedAt: new Date(),
    },
  });
  const { reviewTaskId } = await t.app.services.detections.requestReview(run.id, image.id, 'COLD_START');
  return { deviceId: device.id, imageId: image.id, normalizedKey, runId: run.id, taskId: reviewTaskId };
}

// The shape of AWS's example "SageMaker A2I HumanLoop Status Change" event.
function statusChange(
  name: string,
  detail: { humanLoopStatus: 'Completed' | 'Failed' | 'Stopped'; outputS3Uri?: string; failureReason?: string },
) {
  const humanLoopArn = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:human-loop/${name}`;
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'SageMaker A2I HumanLoop Status Change',
    source: 'aws.sagemaker',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [humanLoopArn],
    detail: {
      creationTime: new Date(Date.now() - 60_000).toISOString(),
      failureCode: detail.failureReason ? 'ValidationError' : null,
      failureReason: detail.failureReason ?? null,
      flowDefinitionArn: FLOW,
      humanLoopArn,
      humanLoopName: name,
      humanLoopOutput: detail.outputS3Uri ? { outputS3Uri: detail.outputS3Uri } : null,
      humanLoopStatus: detail.humanLoopStatus,
    },
  };
}

interface WorkerAnswer {
  workerId: string;
  boxes: { left: number; top: number; width: number; height: number; label: string }[];
  verdict: 'normal' | 'anomalous';
  comment?: string;
}

/** Puts the loop's output.json where A2I writes it (the flow definition's output bucket) and returns its URI. */
function putOutput(name: string, input: unknown, workers: WorkerAnswer[]): string {
  const key = `vigil-anomaly-review/2026/03/02/09/12/47/${name}/output.json`;
  const output = {
    flowDefinitionArn: FLOW,
    humanAnswers: workers.map((w) => ({
      acceptanceTime: '2026-03-02T09:14:05.412Z',
      answerContent: {
        annotatedResult: { boundingBoxes: w.boxes, inputImageProperties: { height: HEIGHT, width: WIDTH } },
        normal: { normal: w.verdict === 'normal' },
        anomalous: { anomalous: w.verdict === 'anomalous' },
        ...(w.comment !== undefined ? { comment: w.comment } : {}),
      },
      submissionTime: '2026-03-02T09:15:41.087Z',
      timeSpentInSeconds: 95.675,
      workerId: w.workerId,
      workerMetadata: {
        identityData: {
          identityProviderType: 'Cognito',
          issuer: `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_AbCdEf123`,
          sub: crypto.randomUUID(),
        },
      },
    })),
    humanLoopName: name,
    inputContent: input,
  };
  s3.put(OUTPUT_BUCKET, key, JSON.stringify(output), 'application/json');
  return `s3://${OUTPUT_BUCKET}/${key}`;
}

const deliver = (event: unknown) => handleHumanLoopStatusChange(event, { s3: s3Client, outcomes: t.app.services.reviewLifecycle });

const TASK = `query($id: ID!) { reviewTask(id: $id) {
  status verdict escalated humanLoopName note answerCount
  answers { reviewer verdict comment regions { type confidence box { x y width height } } }
} }`;
const taskView = async (taskId: string) => ok(await t.gql(TASK, { id: toGlobalId('ReviewTask', taskId) })).reviewTask;

/** Everything a replayed event must leave as it was. */
async function snapshot(taskId: string, imageId: string) {
  const prisma = t.app.db.prisma;
  return {
    task: await prisma.reviewTask.findUniqueOrThrow({ where: { id: taskId } }),
    answers: await prisma.reviewAnswer.findMany({ where: { taskId }, orderBy: { id: 'asc' } }),
    anomalies: await prisma.anomaly.findMany({ where: { imageId }, orderBy: { id: 'asc' } }),
    entries: await prisma.datasetEntry.findMany({ where: { imageId }, orderBy: { id: 'asc' } }),
  };
}

describe('human review on Amazon A2I', () => {
  it('starts one loop per task, completes it from the workers’ output once, and writes the label to anomalies, dataset, manifest and Lookout', async () => {
    const type = `insulator-${crypto.randomUUID().slice(0, 6)}`;
    const { taskId, imageId, normalizedKey, deviceId, runId } = await coldStartTask(type);
    const prisma = t.app.db.prisma;
    const name = humanLoopName(taskId, 0);
    const labels = t.app.config.reviews.anomalyTypes;
    expect(labels).toEqual(['crack', 'chip', 'corrosion', 'contamination', 'burn', 'broken', 'missing-part', 'other']);

    // 1. The loop, with exactly the input the worker template reads.
    const expectedInput = {
      taskObject: `s3://${BUCKET}/${normalizedKey}`,
      initialValue: [],
      labels,
      confidence: null,
      taskId,
      reason: 'COLD_START',
      deviceType: type,
    };
    expect(startedLoops()).toEqual([
      { HumanLoopName: name, FlowDefinitionArn: FLOW, HumanLoopInput: { InputContent: JSON.stringify(expectedInput) } },
    ]);
    expect(JSON.parse(startedLoops()[0].HumanLoopInput!.InputContent!)).toEqual(expectedInput);
    expect(await prisma.reviewTask.findUniqueOrThrow({ where: { id: taskId } })).toMatchObject({
      status: 'PENDING',
      reason: 'COLD_START',
      humanLoopName: name,
      humanLoopCount: 1,
      escalated: false,
    });
    expect((await prisma.workflowRunImage.findUniqueOrThrow({ where: { runId_imageId: { runId, imageId } } })).outcome).toBe('COLD_START');

    // A replayed workflow step finds the task and its loop: no second loop.
    expect((await t.app.services.detections.requestReview(runId, imageId, 'COLD_START')).reviewTaskId).toBe(taskId);
    expect(startedLoops()).toHaveLength(1);
    expect(await prisma.reviewTask.findUniqueOrThrow({ where: { id: taskId } })).toMatchObject({ humanLoopName: name, humanLoopCount: 1 });

    // A2I holds the task: the built-in queue does not hand it out.
    const reviewer = await newKey(t, 'REVIEWER');
    expect(ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview).toBeNull();
    expect((await taskView(taskId)).status).toBe('PENDING');

    // 2. The loop completes: one worker boxed a crack (pixels 16,12 → 48,36 of 64×48).
    const outputS3Uri = putOutput(name, expectedInput, [
      {
        workerId: 'ef7294f850a3d9d1',
        boxes: [{ left: 16, top: 12, width: 32, height: 24, label: 'crack' }],
        verdict: 'anomalous',
        comment: '  crack on the second shed ',
      },
    ]);
    const event = statusChange(name, { humanLoopStatus: 'Completed', outputS3Uri });
    s3.resetHistory();
    expect(await deliver(event)).toEqual({ humanLoopName: name, status: 'Completed', outputS3Uri, task: { taskId, status: 'COMPLETED' } });

    const box = { x: 0.25, y: 0.25, width: 0.5, height: 0.5 };
    expect(await taskView(taskId)).toEqual({
      status: 'COMPLETED',
      verdict: 'ANOMALOUS',
      escalated: false,
      humanLoopName: name,
      note: null,
      answerCount: 1,
      answers: [
        {
          reviewer: 'a2i:ef7294f850a3d9d1',
          verdict: 'ANOMALOUS',
          comment: 'crack on the second shed',
          regions: [{ type: 'crack', confidence: null, box }],
        },
      ],
    });
    const device = ok(
      await t.gql(
        `query($id: ID!) { device(id: $id) { status anomalies(first: 10) { nodes { type status source confidence box { x y width height } } } } }`,
        {
          id: toGlobalId('Device', deviceId),
        },
      ),
    ).device;
    expect(device).toEqual({
      status: 'NEEDS_ATTENTION',
      anomalies: {
        nodes: [{ type: 'crack', status: 'CONFIRMED', source: 'HUMAN', confidence: 1, box: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } }],
      },
    });

    const entries = await prisma.datasetEntry.findMany({ where: { imageId }, include: { dataset: true } });
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry).toMatchObject({
      reviewTaskId: taskId,
      label: 'ANOMALOUS',
      regions: [{ type: 'crack', box }],
      maskKey: `datasets/${entry.datasetId}/masks/${imageId}.png`,
    });
    expect(entry.dataset).toMatchObject({ name: type, deviceType: type, manifestKey: DatasetService.manifestKey(entry.datasetId) });
    expect(entry.dataset.manifestAt).not.toBeNull();
    expect(entry.syncedAt).not.toBeNull();

    // The mask and the manifest went to the image bucket.
    const puts = s3.puts();
    expect(puts.map((p) => [p.Bucket, p.Key, p.ContentType])).toEqual([
      [BUCKET, `datasets/${entry.datasetId}/masks/${imageId}.png`, 'image/png'],
      [BUCKET, `datasets/${entry.datasetId}/manifest.jsonl`, 'application/x-ndjson'],
    ]);
    const mask = await sharp(s3.get(BUCKET, entry.maskKey!)!.body).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([mask.info.width, mask.info.height]).toEqual([WIDTH, HEIGHT]);
    const at = (x: number, y: number) => [...mask.data.subarray((y * WIDTH + x) * 3, (y * WIDTH + x) * 3 + 3)];
    expect(at(2, 2)).toEqual([255, 255, 255]);
    expect(at(32, 24)).not.toEqual([255, 255, 255]);

    const manifestText = s3.get(BUCKET, `datasets/${entry.datasetId}/manifest.jsonl`)!.body.toString('utf8');
    expect(manifestText.endsWith('\n')).toBe(true);
    const rawLines = manifestText.slice(0, -1).split('\n');
    expect(rawLines).toHaveLength(1);
    const line = manifestLineSchema.parse(JSON.parse(rawLines[0]));
    expect(line['source-ref']).toBe(`s3://${BUCKET}/${normalizedKey}`);
    expect(line['anomaly-label']).toBe(1);
    expect(line['anomaly-label-metadata']).toMatchObject({ 'class-name': 'anomaly', 'human-annotated': 'yes', 'job-name': 'vigil-review' });
    expect(line['anomaly-mask-ref']).toBe(`s3://${BUCKET}/datasets/${entry.datasetId}/masks/${imageId}.png`);
    expect(line['anomaly-mask-ref']).toMatch(/^s3:\/\/vigil-images\/datasets\/.+\/masks\/.+\.png$/);
    expect(Object.values(line['anomaly-mask-ref-metadata']!['internal-color-map']).map((c) => c['class-name'])).toEqual([
      'BACKGROUND',
      'crack',
    ]);

    // Lookout for Vision got that same line, in the dataset of the entry's split.
    const updates = datasetUpdates();
    expect(updates).toHaveLength(1);
    expect(updates[0]).toEqual({
      ProjectName: PROJECT,
      DatasetType: entry.split === 'TRAIN' ? 'train' : 'test',
      Changes: expect.any(Uint8Array),
      ClientToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(Buffer.from(updates[0].Changes!).toString('utf8')).toBe(`${rawLines[0]}\n`);

    // 3. EventBridge delivers the same event again: nothing changes.
    const before = await snapshot(taskId, imageId);
    s3.resetHistory();
    lookout.resetHistory();
    a2i.resetHistory();
    expect(await deliver(event)).toEqual({ humanLoopName: name, status: 'Completed', outputS3Uri, task: { taskId, status: 'COMPLETED' } });
    expect(await snapshot(taskId, imageId)).toEqual(before);
    expect(s3.puts()).toEqual([]);
    expect(datasetUpdates()).toEqual([]);
    expect(startedLoops()).toHaveLength(0);
    expect(s3.get(BUCKET, `datasets/${entry.datasetId}/manifest.jsonl`)!.body.toString('utf8')).toBe(manifestText);
  });

  it('starts the next loop when one fails, escalates to an ADMIN when A2I_MAX_LOOPS have failed, and ignores the old loop’s events', async () => {
    const type = `insulator-${crypto.randomUUID().slice(0, 6)}`;
    const { taskId, imageId } = await coldStartTask(type);
    const prisma = t.app.db.prisma;
    const first = humanLoopName(taskId, 0);
    const second = humanLoopName(taskId, 1);
    expect(second).toBe(`${first}-r1`);
    expect(startedLoops().map((l) => l.HumanLoopName)).toEqual([first]);
    const firstInput = startedLoops()[0].HumanLoopInput!.InputContent;
    a2i.resetHistory();

    // The first loop fails: the task gets a second loop with the same input under the next name.
    const failed = statusChange(first, { humanLoopStatus: 'Failed', failureReason: 'The worker task template could not be rendered' });
    expect(await deliver(failed)).toEqual({
      humanLoopName: first,
      status: 'Failed',
      failureReason: 'The worker task template could not be rendered',
      task: { taskId, status: 'PENDING' },
    });
    expect(startedLoops()).toEqual([{ HumanLoopName: second, FlowDefinitionArn: FLOW, HumanLoopInput: { InputContent: firstInput } }]);
    expect(await prisma.reviewTask.findUniqueOrThrow({ where: { id: taskId } })).toMatchObject({
      status: 'PENDING',
      escalated: false,
      humanLoopName: second,
      humanLoopCount: 2,
      note: `A2I human loop ${first} failed: The worker task template could not be rendered`,
    });

    // The first loop's failure delivered again belongs to no task now: no third loop.
    a2i.resetHistory();
    const onSecondLoop = await snapshot(taskId, imageId);
    expect(await deliver(failed)).toMatchObject({ humanLoopName: first, task: null });
    expect(startedLoops()).toEqual([]);
    expect(await snapshot(taskId, imageId)).toEqual(onSecondLoop);

    // The second loop fails too: A2I_MAX_LOOPS=2 used, the task waits for an ADMIN.
    const failedAgain = statusChange(second, {
      humanLoopStatus: 'Failed',
      failureReason: 'No worker accepted the task before TaskAvailabilityLifetimeInSeconds',
    });
    expect(await deliver(failedAgain)).toMatchObject({ humanLoopName: second, status: 'Failed', task: { taskId, status: 'EXPIRED' } });
    expect(startedLoops()).toEqual([]);
    expect(await taskView(taskId)).toMatchObject({
      status: 'EXPIRED',
      escalated: true,
      humanLoopName: second,
      note: `A2I human loop ${second} failed: No worker accepted the task before TaskAvailabilityLifetimeInSeconds`,
      answers: [],
    });

    // Only an ADMIN gets it on the built-in queue.
    const reviewer = await newKey(t, 'REVIEWER');
    expect(ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview).toBeNull();
    const admin = await newKey(t, 'ADMIN');
    const claimed = ok(await t.gql(CLAIM, {}, admin)).claimNextReview;
    expect(claimed).toMatchObject({
      id: toGlobalId('ReviewTask', taskId),
      status: 'CLAIMED',
      escalated: true,
      reason: 'COLD_START',
      deviceType: type,
    });
    const done = ok(await t.gql(SUBMIT, { id: claimed.id, v: 'NORMAL', c: 'nothing wrong' }, admin)).submitReview;
    expect(done).toMatchObject({ id: claimed.id, status: 'COMPLETED', verdict: 'NORMAL', answerCount: 1 });
    expect(await prisma.anomaly.count({ where: { imageId } })).toBe(0);
    const [entry] = await prisma.datasetEntry.findMany({ where: { imageId } });
    expect(entry).toMatchObject({ label: 'NORMAL', reviewTaskId: taskId, maskKey: null });
    expect(datasetUpdates()).toHaveLength(1);
    expect(datasetUpdates()[0]).toMatchObject({ ProjectName: PROJECT, DatasetType: entry.split === 'TRAIN' ? 'train' : 'test' });
    const sent = manifestLineSchema.parse(JSON.parse(Buffer.from(datasetUpdates()[0].Changes!).toString('utf8')));
    expect(sent).toMatchObject({ 'anomaly-label': 0, 'anomaly-label-metadata': { 'class-name': 'normal' } });
    expect(sent).not.toHaveProperty('anomaly-mask-ref');

    // Late events of either loop change nothing once an ADMIN decided.
    const decided = await snapshot(taskId, imageId);
    s3.resetHistory();
    lookout.resetHistory();
    a2i.resetHistory();
    expect(await deliver(failed)).toMatchObject({ task: null });
    expect(await deliver(failedAgain)).toMatchObject({ task: { taskId, status: 'COMPLETED' } });
    expect(await snapshot(taskId, imageId)).toEqual(decided);
    expect(startedLoops()).toEqual([]);
    expect(s3.puts()).toEqual([]);
    expect(datasetUpdates()).toEqual([]);
  });

  it('escalates a loop whose workers disagree to an ADMIN', async () => {
    const type = `insulator-${crypto.randomUUID().slice(0, 6)}`;
    const { taskId, imageId } = await coldStartTask(type);
    const name = humanLoopName(taskId, 0);
    const input = JSON.parse(startedLoops()[0].HumanLoopInput!.InputContent!);
    const outputS3Uri = putOutput(name, input, [
      { workerId: 'worker-normal-0001', boxes: [], verdict: 'normal' },
      { workerId: 'worker-anomalous-02', boxes: [{ left: 0, top: 0, width: 8, height: 8, label: 'chip' }], verdict: 'anomalous' },
    ]);
    lookout.resetHistory();
    expect(await deliver(statusChange(name, { humanLoopStatus: 'Completed', outputS3Uri }))).toMatchObject({
      task: { taskId, status: 'PENDING' },
    });

    const view = await taskView(taskId);
    expect(view).toMatchObject({ status: 'PENDING', escalated: true, verdict: null, answerCount: 2 });
    expect(view.note).toMatch(/reviewers disagreed \((NORMAL vs ANOMALOUS|ANOMALOUS vs NORMAL)\)/);
    expect(view.answers.map((a: { reviewer: string; verdict: string }) => [a.reviewer, a.verdict]).sort()).toEqual([
      ['a2i:worker-anomalous-02', 'ANOMALOUS'],
      ['a2i:worker-normal-0001', 'NORMAL'],
    ]);
    // Nothing is written back before someone decides.
    expect(await t.app.db.prisma.anomaly.count({ where: { imageId } })).toBe(0);
    expect(await t.app.db.prisma.datasetEntry.count({ where: { imageId } })).toBe(0);
    expect(datasetUpdates()).toEqual([]);

    const reviewer = await newKey(t, 'REVIEWER');
    expect(ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview).toBeNull();
    const admin = await newKey(t, 'ADMIN');
    expect(ok(await t.gql(CLAIM, {}, admin)).claimNextReview).toMatchObject({
      id: toGlobalId('ReviewTask', taskId),
      status: 'CLAIMED',
      escalated: true,
    });

    // The same event delivered again leaves the ADMIN's claim alone.
    await deliver(statusChange(name, { humanLoopStatus: 'Completed', outputS3Uri }));
    expect(await taskView(taskId)).toMatchObject({ status: 'CLAIMED', answerCount: 2 });
    const decided = ok(await t.gql(SUBMIT, { id: toGlobalId('ReviewTask', taskId), v: 'NORMAL' }, admin)).submitReview;
    expect(decided).toMatchObject({ status: 'COMPLETED', verdict: 'NORMAL', answerCount: 3 });
  });
});
