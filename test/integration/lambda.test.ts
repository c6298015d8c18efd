import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, ListExecutionsCommand, ListMapRunsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PGlite } from '@electric-sql/pglite';
import { mockClient } from 'aws-sdk-client-mock';
import pg from 'pg';
import * as lambda from '../../src/app/lambda';
import { loadConfig } from '../../src/config/config';
import { openDatabase } from '../../src/db/database';
import { migrate } from '../../src/db/migrator';
import { WORKFLOW_STEPS } from '../../src/workflows/steps';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The deployed Lambdas (src/app/lambda.ts) open the services from the environment, once per
// container, and never migrate: a cold start against a database behind the code fails, naming the fix.

let tdb: TestDatabase;
let dataDir: string;
const savedEnv = { ...process.env };

beforeEach(async () => {
  tdb = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lambda-'));
  process.env.DATA_DIR = dataDir;
  process.env.LOG_LEVEL = 'silent';
  delete process.env.REDIS_URL;
  if (tdb.config.kind === 'postgres') process.env.DATABASE_URL = tdb.config.url;
  else delete process.env.DATABASE_URL;
});

afterEach(async () => {
  await lambda.closeContainerServices();
  process.env = { ...savedEnv };
  await tdb.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Whether the database the environment names has Prisma's migrations table, read without vigil's code. */
async function hasMigrationsTable(): Promise<boolean> {
  const sql = `SELECT to_regclass('"_prisma_migrations"')::text AS name`;
  if (tdb.config.kind === 'postgres') {
    const client = new pg.Client({ connectionString: tdb.config.url });
    await client.connect();
    try {
      return (await client.query<{ name: string | null }>(sql)).rows[0].name !== null;
    } finally {
      await client.end();
    }
  }
  const config = loadConfig().database;
  if (config.kind !== 'pglite') throw new Error('expected the embedded database');
  const db = new PGlite(config.dataDir);
  try {
    return (await db.query<{ name: string | null }>(sql)).rows[0].name !== null;
  } finally {
    await db.close();
  }
}

describe('the Lambda entry points', () => {
  it('export every workflow step and both EventBridge handlers', () => {
    for (const key of Object.keys(WORKFLOW_STEPS))
      expect([key, typeof (lambda as Record<string, unknown>)[key]]).toEqual([key, 'function']);
    expect(typeof lambda.executionStatusChange).toBe('function');
    expect(typeof lambda.humanLoopStatusChange).toBe('function');
  });

  it('refuse a database that was never migrated, name `vigil migrate`, and leave it untouched', async () => {
    await expect(lambda.beginRun({ runId: randomUUID() })).rejects.toThrow(/missing \d+ migration\(s\).*run `vigil migrate`/);
    await lambda.closeContainerServices();
    expect(await hasMigrationsTable()).toBe(false);
  });

  it('run a step once the database is migrated, and check the payload before touching it', async () => {
    const db = await openDatabase(loadConfig().database);
    await migrate(db);
    await db.close();
    await expect(lambda.finishRun({ runId: 'not-a-uuid' })).rejects.toThrow(/FinishRun received a bad payload: runId/);
    await expect(lambda.beginRun({ runId: randomUUID() })).rejects.toThrow(/WorkflowRun .* does not exist/);
  });
});

describe('executionStatusChange on Step Functions', () => {
  const ACCOUNT = '123456789012';
  const SURVEY_ARN = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:vigil-detect-survey`;
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());

  it("settles a run an ended survey map left open with its own child's error, listing the map's children", async () => {
    process.env.WORKFLOW_ENGINE = 'stepfunctions';
    process.env.SFN_DETECT_INSPECTION_ARN = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:vigil-detect-inspection`;
    process.env.SFN_DETECT_SURVEY_ARN = SURVEY_ARN;
    process.env.AWS_REGION = 'eu-west-1';
    const db = await openDatabase(loadConfig().database);
    await migrate(db);
    const parent = `${SURVEY_ARN.replace(':stateMachine:', ':execution:')}:survey-1`;
    const device = await db.prisma.device.create({ data: { externalId: `pole-${randomUUID()}`, name: 'pole', type: 'pole' } });
    const inspection = await db.prisma.inspection.create({
      data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' },
    });
    const run = await db.prisma.workflowRun.create({
      data: {
        inspectionId: inspection.id,
        workflow: 'detect-survey',
        engine: 'STEP_FUNCTIONS',
        parentExecutionId: parent,
        status: 'QUEUED',
      },
    });
    await db.close();
    const mapRunArn = `arn:aws:states:eu-west-1:${ACCOUNT}:mapRun:vigil-detect-survey/JudgeInspections:${randomUUID()}`;
    const child = `arn:aws:states:eu-west-1:${ACCOUNT}:execution:vigil-detect-survey/JudgeInspections:${run.id}-child`;
    sfn
      .on(ListMapRunsCommand)
      .resolves({ mapRuns: [{ executionArn: parent, mapRunArn, stateMachineArn: SURVEY_ARN, startDate: new Date() }] });
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        { executionArn: child, stateMachineArn: SURVEY_ARN, name: `${run.id}-child`, status: 'FAILED', startDate: new Date(), mapRunArn },
      ],
    });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: child,
      status: 'FAILED',
      input: JSON.stringify({ runId: run.id, inspectionId: inspection.id, concurrency: 4 }),
      error: 'States.Runtime',
      cause: 'The JSONPath $.failure.Error could not be found',
    });

    await lambda.executionStatusChange({
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: 'eu-west-1',
      resources: [parent],
      detail: {
        executionArn: parent,
        stateMachineArn: SURVEY_ARN,
        name: 'survey-1',
        status: 'SUCCEEDED',
        startDate: Date.now() - 1000,
        stopDate: Date.now(),
        input: '{}',
        output: '{}',
        error: null,
        cause: null,
      },
    });

    expect(sfn.commandCalls(ListMapRunsCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: parent }]);
    expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([{ mapRunArn }]);
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: child }]);
    const { services } = await lambda.containerServices();
    const settled = await services.workflowRuns.get(run.id);
    expect(settled).toMatchObject({
      status: 'FAILED',
      executionId: child,
      error: 'States.Runtime',
      cause: 'The JSONPath $.failure.Error could not be found',
    });
  });
});
