import crypto from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
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

/** A survey whose READY images were matched to `devices` devices (one inspection each). */
async function surveyWithTwoInspections(devices = 2) {
  const prisma = t.app.db.prisma;
  const survey = await t.app.services.surveys.create({ name: 'flight', source: 'DRONE', requestedBy: 'test' });
  const inspectionIds: string[] = [];
  for (let d = 0; d < devices; d++) {
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

/** The EventBridge event Step Functions sends when an execution ends. */
function statusEvent(
  executionArn: string,
  stateMachineArn: string,
  name: string,
  status: string,
  failure?: { error: string; cause: string },
) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: 'eu-west-1',
    resources: [executionArn],
    detail: {
      ...{ executionArn, stateMachineArn, name, status, startDate: Date.now() - 1000, stopDate: Date.now(), input: '{}' },
      ...{ output: failure ? null : '{}', error: failure?.error ?? null, cause: failure?.cause ?? null },
    },
  };
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
    const event = statusEvent(run.executionId!, INSPECTION_ARN, `vigil-${runId}`, 'TIMED_OUT', {
      error: 'States.Timeout',
      cause: 'The execution exceeded its TimeoutSeconds',
    });
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

  it("settles a survey's child runs when its Distributed Map execution ends, and starts them again afterwards", async () => {
    const { surveyId } = await surveyWithTwoInspections();
    const runs = ok(await t.gql(START_SURVEY, { id: toGlobalId('Survey', surveyId) })).startSurvey as any[];
    const [started] = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    const parent = `${SURVEY_ARN.replace(':stateMachine:', ':execution:')}:${started.name}`;
    const rows = await t.app.db.prisma.workflowRun.findMany({
      where: { id: { in: runs.map((r) => Buffer.from(r.id, 'base64url').toString().split(':')[1]) } },
    });
    expect(rows.map((r) => [r.parentExecutionId, r.executionId])).toEqual([
      [parent, null],
      [parent, null],
    ]);
    // The map ran no child for either (an empty Map Run): their runs fail as lost.
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [] });

    // One child finished its run; the other failed before its MarkFailed state, and the map tolerated it.
    const [done, lost] = rows;
    await t.app.services.workflowRuns.begin(done.id);
    await t.app.services.workflowRuns.finish(done.id);
    const event = statusEvent(parent, SURVEY_ARN, started.name!, 'SUCCEEDED');
    await handleExecutionStatusChange(event, t.app.services.workflowRuns);
    const settled = await t.app.db.prisma.workflowRun.findMany({ where: { id: { in: [done.id, lost.id] } } });
    expect(settled.find((r) => r.id === done.id)?.status).toBe('SUCCEEDED');
    expect(settled.find((r) => r.id === lost.id)).toMatchObject({
      status: 'FAILED',
      error: 'Vigil.ChildLost',
      cause: expect.stringContaining(`the survey's execution ended SUCCEEDED but this inspection's child execution never settled its run`),
    });
    expect(sfn.commandCalls(ListMapRunsCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: parent }]);

    // Nothing is left open, so starting the survey again starts both inspections again.
    sfn.resetHistory();
    expect(ok(await t.gql(START_SURVEY, { id: toGlobalId('Survey', surveyId) })).startSurvey).toHaveLength(2);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('settles each survey run by its own child execution: listed through the Map Run, described, its ARN and error recorded', async () => {
    const { surveyId } = await surveyWithTwoInspections(3);
    ok(await t.gql(START_SURVEY, { id: toGlobalId('Survey', surveyId) }));
    const [started] = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    const parent = `${SURVEY_ARN.replace(':stateMachine:', ':execution:')}:${started.name}`;
    const rows = await t.app.db.prisma.workflowRun.findMany({ where: { parentExecutionId: parent }, orderBy: { id: 'asc' } });
    expect(rows).toHaveLength(3);
    const [done, broke, never] = rows;
    const mapRunArn = `arn:aws:states:eu-west-1:${ACCOUNT}:mapRun:vigil-detect-survey/JudgeInspections:${crypto.randomUUID()}`;
    const child = (run: { id: string }) =>
      `arn:aws:states:eu-west-1:${ACCOUNT}:execution:vigil-detect-survey/JudgeInspections:${run.id}-child`;
    const input = (run: { id: string; inspectionId: string }) =>
      JSON.stringify({ runId: run.id, inspectionId: run.inspectionId, concurrency: 4 });

    // One child judged its inspection; one began (and named itself on its run), then died of States.Runtime before
    // MarkFailed; one timed out before its BeginRun ever ran.
    await t.app.services.workflowRuns.begin(done.id, child(done));
    await t.app.services.workflowRuns.finish(done.id);
    await t.app.services.workflowRuns.begin(broke.id, child(broke));
    expect((await t.app.db.prisma.workflowRun.findUniqueOrThrow({ where: { id: broke.id } })).executionId).toBe(child(broke));
    sfn
      .on(ListMapRunsCommand)
      .resolves({ mapRuns: [{ executionArn: parent, mapRunArn, stateMachineArn: SURVEY_ARN, startDate: new Date() }] });
    sfn.on(ListExecutionsCommand).callsFake((req: { nextToken?: string }) => {
      const entry = (run: { id: string }, status: string) => ({
        executionArn: child(run),
        stateMachineArn: SURVEY_ARN,
        name: `${run.id}-child`,
        status,
        startDate: new Date(),
        mapRunArn,
      });
      return req.nextToken === 'page-2'
        ? { executions: [entry(never, 'TIMED_OUT')] }
        : { executions: [entry(done, 'SUCCEEDED'), entry(broke, 'FAILED')], nextToken: 'page-2' };
    });
    sfn
      .on(DescribeExecutionCommand, { executionArn: child(broke) })
      .resolves({
        executionArn: child(broke),
        status: 'FAILED',
        input: input(broke),
        error: 'States.Runtime',
        cause: 'The JSONPath $.failure.Error could not be found',
      })
      .on(DescribeExecutionCommand, { executionArn: child(never) })
      .resolves({ executionArn: child(never), status: 'TIMED_OUT', input: input(never) });

    // The map tolerated both failures and succeeded; its end (here by EventBridge, twice) settles the children.
    const event = statusEvent(parent, SURVEY_ARN, started.name!, 'SUCCEEDED');
    await handleExecutionStatusChange(event, t.app.services.workflowRuns);
    expect(sfn.commandCalls(ListMapRunsCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: parent }]);
    expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([
      { mapRunArn },
      { mapRunArn, nextToken: 'page-2' },
    ]);
    expect(
      sfn
        .commandCalls(DescribeExecutionCommand)
        .map((c) => c.args[0].input.executionArn)
        .sort(),
    ).toEqual([child(broke), child(never)].sort());
    await handleExecutionStatusChange(event, t.app.services.workflowRuns);
    expect(sfn.commandCalls(ListMapRunsCommand)).toHaveLength(1);

    const settled = await t.app.db.prisma.workflowRun.findMany({ where: { parentExecutionId: parent }, orderBy: { id: 'asc' } });
    expect(settled.map((r) => ({ id: r.id, status: r.status, executionId: r.executionId, error: r.error, cause: r.cause }))).toEqual([
      { id: done.id, status: 'SUCCEEDED', executionId: child(done), error: null, cause: null },
      {
        id: broke.id,
        status: 'FAILED',
        executionId: child(broke),
        error: 'States.Runtime',
        cause: 'The JSONPath $.failure.Error could not be found',
      },
      {
        id: never.id,
        status: 'FAILED',
        executionId: child(never),
        error: 'Execution.TIMED_OUT',
        cause: `this inspection's child execution ${child(never)} ended TIMED_OUT before its MarkFailed state`,
      },
    ]);
    const inspections = await t.app.db.prisma.inspection.findMany({ where: { id: { in: [broke.inspectionId, never.inspectionId] } } });
    expect(inspections.map((i) => i.status)).toEqual(['FAILED', 'FAILED']);

    // Nothing is left open: the survey starts again, all three inspections under one new map.
    sfn.resetHistory();
    expect(ok(await t.gql(START_SURVEY, { id: toGlobalId('Survey', surveyId) })).startSurvey).toHaveLength(3);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('keeps survey runs open when listing the children fails for a while, and fails them as lost when it is denied', async () => {
    const { surveyId } = await surveyWithTwoInspections();
    ok(await t.gql(START_SURVEY, { id: toGlobalId('Survey', surveyId) }));
    const [started] = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    const parent = `${SURVEY_ARN.replace(':stateMachine:', ':execution:')}:${started.name}`;
    const event = statusEvent(parent, SURVEY_ARN, started.name!, 'SUCCEEDED');
    const open = () => t.app.db.prisma.workflowRun.count({ where: { parentExecutionId: parent, status: { in: ['QUEUED', 'RUNNING'] } } });

    // Throttled: the outcome is not recorded (the event is delivered again, or the next poll reports it).
    sfn.on(ListMapRunsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(handleExecutionStatusChange(event, t.app.services.workflowRuns)).rejects.toThrow(/Rate exceeded/);
    expect(await open()).toBe(2);

    // Denied: the runs cannot be told apart, and fail as lost rather than stay open.
    sfn.on(ListMapRunsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await handleExecutionStatusChange(event, t.app.services.workflowRuns);
    expect(await open()).toBe(0);
    const failed = await t.app.db.prisma.workflowRun.findMany({ where: { parentExecutionId: parent } });
    expect(failed.map((r) => [r.status, r.error])).toEqual([
      ['FAILED', 'Vigil.ChildLost'],
      ['FAILED', 'Vigil.ChildLost'],
    ]);
    expect(sfn.commandCalls(ListMapRunsCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: parent }, { executionArn: parent }]);
  });

  it('starts a run whose start was lost, on restart and on the next startSurvey', async () => {
    const { surveyId, inspectionIds } = await surveyWithTwoInspections();
    const old = new Date(Date.now() - 5 * 60_000);
    const lost = await t.app.db.prisma.workflowRun.create({
      data: { inspectionId: inspectionIds[0], workflow: 'detect-survey', engine: 'STEP_FUNCTIONS', createdAt: old },
    });
    // A run of a Distributed Map whose child has not begun yet has no execution id of its own: it is not lost.
    const mapped = await t.app.db.prisma.workflowRun.create({
      data: {
        inspectionId: inspectionIds[1],
        workflow: 'detect-survey',
        engine: 'STEP_FUNCTIONS',
        createdAt: old,
        parentExecutionId: `${SURVEY_ARN.replace(':stateMachine:', ':execution:')}:vigil-${crypto.randomUUID()}`,
      },
    });
    await t.app.services.workflowRuns.resumeInterrupted();
    expect((await t.app.db.prisma.workflowRun.findUniqueOrThrow({ where: { id: mapped.id } })).executionId).toBeNull();
    await t.app.db.prisma.workflowRun.delete({ where: { id: mapped.id } });
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ stateMachineArn: INSPECTION_ARN, name: `vigil-${lost.id}` }),
    ]);
    const relaunched = await t.app.db.prisma.workflowRun.findUniqueOrThrow({ where: { id: lost.id } });
    expect(relaunched.executionId).toBe(`${INSPECTION_ARN.replace(':stateMachine:', ':execution:')}:vigil-${lost.id}`);

    // Lost again (as if that start had failed too): the next startSurvey starts it, and the other inspection by the map.
    await t.app.db.prisma.workflowRun.update({ where: { id: lost.id }, data: { executionId: null } });
    sfn.resetHistory();
    const runs = ok(await t.gql(START_SURVEY, { id: toGlobalId('Survey', surveyId) })).startSurvey as any[];
    expect(runs.map((r) => r.inspection.id).sort()).toEqual(inspectionIds.map((id) => toGlobalId('Inspection', id)).sort());
    expect(
      sfn
        .commandCalls(StartExecutionCommand)
        .map((c) => c.args[0].input.stateMachineArn)
        .sort(),
    ).toEqual([INSPECTION_ARN, SURVEY_ARN]);
  });

  it('refuses a survey with no image matched to a device yet', async () => {
    const survey = await t.app.services.surveys.create({ name: 'empty', source: 'DRONE', requestedBy: 'test' });
    const err = failure(await t.gql(START_SURVEY, { id: toGlobalId('Survey', survey.id) }));
    expect(err.extensions?.code).toBe('BAD_USER_INPUT');
    expect(err.message).toMatch(/no image matched to a device/);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
