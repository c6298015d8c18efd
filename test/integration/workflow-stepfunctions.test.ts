import crypto from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { toGlobalId } from '../../src/common/global-id';
import { handleExecutionStatusChange } from '../../src/workflows/eventbridge/execution-status-change';
import { failure, ok, startTestApp, type TestApp } from '../support/app';

// WORKFLOW_ENGINE=stepfunctions with S3 as the object store, mocked at the AWS boundary: the exact
// StartExecution requests, the Distributed Map manifest the service writes, and the EventBridge
// event that reports an execution's end.

const ACCOUNT = '123456789012';
const INSPECTION_ARN = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:vigil-detect-inspection`;
const SURVEY_ARN = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:vigil-detect-survey`;
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);

let t: TestApp;
beforeAll(async () => {
  sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => ({
    executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
  s3.on(PutObjectCommand).resolves({});
  t = await startTestApp(
    {
      WORKFLOW_ENGINE: 'stepfunctions',
      SFN_DETECT_INSPECTION_ARN: INSPECTION_ARN,
      SFN_DETECT_SURVEY_ARN: SURVEY_ARN,
      SFN_POLL_INTERVAL_MS: '0',
      AWS_REGION: 'eu-west-1',
      OBJECT_STORE: 's3',
      S3_BUCKET: 'vigil-images',
      S3_REGION: 'eu-west-1',
      WORKFLOW_AUTO_START: 'false',
    },
    { sfnClient: new SFNClient({ region: 'eu-west-1', credentials }), s3Client: new S3Client({ region: 'eu-west-1', credentials }) },
  );
});
afterAll(() => t?.stop());
beforeEach(() => {
  sfn.resetHistory();
  s3.resetHistory();
});

/** A survey whose READY images were matched to two devices (two inspections). */
async function surveyWithTwoInspections() {
  const prisma = t.app.db.prisma;
  const survey = await t.app.services.surveys.create({ name: 'flight', source: 'DRONE', requestedBy: 'test' });
  const inspectionIds: string[] = [];
  for (let d = 0; d < 2; d++) {
    const device = await prisma.device.create({ data: { externalId: `pole-${crypto.randomUUID()}`, name: 'pole', type: 'pole' } });
    const inspection = await prisma.inspection.create({
      data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' },
    });
    inspectionIds.push(inspection.id);
    for (let i = 0; i < 2; i++) {
      const sha256 = crypto.randomBytes(32).toString('hex');
      await prisma.image.create({
        data: {
          surveyId: survey.id,
          inspectionId: inspection.id,
          deviceMatch: 'MATCHED',
          objectKey: `images/${sha256}`,
          sha256,
          contentType: 'image/jpeg',
          bytes: 1,
          status: 'READY',
        },
      });
    }
  }
  return { surveyId: survey.id, inspectionIds: inspectionIds.sort() };
}

const START_SURVEY = `mutation($id: ID!) { startSurvey(surveyId: $id) { id status engine workflow inspection { id } } }`;

describe('detection on AWS Step Functions', () => {
  it('starts detect-inspection with an execution name derived from the run, and records the execution ARN', async () => {
    const { inspectionIds } = await surveyWithTwoInspections();
    const run = ok(
      await t.gql(`mutation($id: ID!) { startInspection(inspectionId: $id) { id executionId engine status } }`, {
        id: toGlobalId('Inspection', inspectionIds[0]),
      }),
    ).startInspection;
    const runId = Buffer.from(run.id, 'base64url').toString().split(':')[1];
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      {
        stateMachineArn: INSPECTION_ARN,
        name: `vigil-${runId}`,
        input: JSON.stringify({ runId, inspectionId: inspectionIds[0], concurrency: 4 }),
      },
    ]);
    expect(run).toEqual(
      expect.objectContaining({
        engine: 'STEP_FUNCTIONS',
        status: 'QUEUED',
        executionId: `arn:aws:states:eu-west-1:${ACCOUNT}:execution:vigil-detect-inspection:vigil-${runId}`,
      }),
    );

    // The EventBridge event for that execution's failure settles the run, once, however often it is delivered.
    const event = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: 'eu-west-1',
      resources: [run.executionId],
      detail: {
        executionArn: run.executionId,
        stateMachineArn: INSPECTION_ARN,
        name: `vigil-${runId}`,
        status: 'TIMED_OUT',
        startDate: Date.now() - 1000,
        stopDate: Date.now(),
        input: '{}',
        output: null,
        error: 'States.Timeout',
        cause: 'The execution exceeded its TimeoutSeconds',
      },
    };
    await handleExecutionStatusChange(event, t.app.services.workflowRuns);
    await handleExecutionStatusChange(event, t.app.services.workflowRuns);
    const after = ok(
      await t.gql(`query($id: ID!) { inspection(id: $id) { status workflowRuns { status error cause } } }`, {
        id: toGlobalId('Inspection', inspectionIds[0]),
      }),
    ).inspection;
    expect(after).toEqual({
      status: 'FAILED',
      workflowRuns: [{ status: 'FAILED', error: 'States.Timeout', cause: 'The execution exceeded its TimeoutSeconds' }],
    });
  });

  it('fans a survey out with one Distributed Map execution over a manifest it writes to S3, and does not start it twice', async () => {
    const { surveyId, inspectionIds } = await surveyWithTwoInspections();
    const runs = ok(await t.gql(START_SURVEY, { id: toGlobalId('Survey', surveyId) })).startSurvey as any[];
    expect(runs.map((r) => r.inspection.id).sort()).toEqual(inspectionIds.map((id) => toGlobalId('Inspection', id)).sort());
    expect(runs.every((r) => r.engine === 'STEP_FUNCTIONS' && r.workflow === 'detect-survey' && r.status === 'QUEUED')).toBe(true);

    const [put] = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(put).toEqual({
      Bucket: 'vigil-images',
      Key: expect.stringMatching(new RegExp(`^workflows/surveys/${surveyId}/[0-9a-f-]{36}\\.json$`)),
      Body: expect.any(Buffer),
      ContentType: 'application/json',
    });
    const manifest = JSON.parse((put.Body as Buffer).toString()) as { runId: string; inspectionId: string }[];
    expect(manifest.map((m) => m.inspectionId).sort()).toEqual(inspectionIds);
    expect(manifest.map((m) => toGlobalId('WorkflowRun', m.runId)).sort()).toEqual(runs.map((r) => r.id).sort());

    const fanOut = put.Key!.split('/').pop()!.replace('.json', '');
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      {
        stateMachineArn: SURVEY_ARN,
        name: `vigil-${fanOut}`,
        input: JSON.stringify({ manifest: { bucket: 'vigil-images', key: put.Key }, concurrency: 4 }),
      },
    ]);

    // Every inspection is under way: a second call starts nothing.
    expect(ok(await t.gql(START_SURVEY, { id: toGlobalId('Survey', surveyId) })).startSurvey).toEqual([]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('refuses a survey with no image matched to a device yet', async () => {
    const survey = await t.app.services.surveys.create({ name: 'empty', source: 'DRONE', requestedBy: 'test' });
    const err = failure(await t.gql(START_SURVEY, { id: toGlobalId('Survey', survey.id) }));
    expect(err.extensions?.code).toBe('BAD_USER_INPUT');
    expect(err.message).toMatch(/no image matched to a device/);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
