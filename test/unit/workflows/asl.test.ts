import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import aslValidator from 'asl-validator';
import { DetectorError, TransientDetectorError } from '../../../src/adapters/detectors/detector.port';
import {
  type AslDefinition,
  readDefinition,
  substituteResources,
  taskStates,
  WORKFLOWS_DIR,
} from '../../../src/adapters/workflow-engine/asl-definitions';
import { type ExecutionOutcome } from '../../../src/adapters/workflow-engine/workflow-engine.port';
import { LocalWorkflowEngine, type LocalTask } from '../../../src/adapters/workflow-engine/local.driver';
import { CREATE_TRANSFORM_JOB_SYNC } from '../../../src/adapters/workflow-engine/sagemaker-transform';
import { lazyLocalEngine } from '../../../src/app/workflows';
import { STEPS_BY_NAME } from '../../../src/workflows/steps';
import { defineStep, runOnly } from '../../../src/workflows/steps/step';

// The ASL files run here on the local engine with recording handlers: the real handlers are
// exercised against a database in test/integration/workflow.test.ts.

const log = pino({ level: 'silent' });
const RUN = '0193a0b4-0000-7000-8000-000000000001';
const INSPECTION = '0193a0b4-0000-7000-8000-000000000002';
const img = (n: number) => `0193a0b4-0000-7000-8000-${String(n).padStart(12, '0')}`;

function recorder(overrides: Partial<Record<string, LocalTask>> = {}) {
  const calls: { task: string; input: any }[] = [];
  const screen: Record<string, string> = {
    [img(11)]: 'CLEAR',
    [img(12)]: 'FLAGGED',
    [img(13)]: 'FLAGGED',
    [img(14)]: 'COLD_START',
    [img(15)]: 'FLAGGED',
  };
  const inspect: Record<string, string> = { [img(12)]: 'ANOMALY', [img(13)]: 'UNCERTAIN', [img(15)]: 'NORMAL' };
  const base: Record<string, LocalTask> = {
    // img(10) and img(11) arrived but were not processed: the preprocess step rejects the first and makes the second ready.
    BeginRun: async () => ({
      images: [10, 11, 12, 13, 14, 15].map((n) => ({ imageId: img(n), ready: n > 11 })),
      total: 6,
    }),
    PreprocessImage: async (i: any) => ({ imageId: i.imageId, ready: i.imageId !== img(10) }),
    ScreenImage: async (i: any) => ({ imageId: i.imageId, route: screen[i.imageId] }),
    InspectImage: async (i: any) => ({ imageId: i.imageId, route: inspect[i.imageId] }),
    RecordAnomalies: async (i: any) => ({ imageId: i.imageId, anomalies: 1 }),
    RequestReview: async (i: any) => ({ imageId: i.imageId, reviewTaskId: `task-${i.imageId}` }),
    FinishRun: async () => ({ status: 'SUCCEEDED' }),
    MarkFailed: async () => ({ status: 'FAILED' }),
  };
  const tasks = Object.fromEntries(
    Object.entries({ ...base, ...overrides }).map(([name, fn]) => [
      name,
      async (input: unknown) => {
        calls.push({ task: name, input });
        return fn!(input);
      },
    ]),
  );
  return { calls, tasks };
}

async function execute(tasks: Record<string, LocalTask>) {
  const outcomes: ExecutionOutcome[] = [];
  let ended!: () => void;
  const done = new Promise<void>((r) => (ended = r));
  const engine = new LocalWorkflowEngine(
    { 'detect-inspection': readDefinition('detect-inspection') },
    tasks,
    { maxRuns: 1, retryIntervalMs: 1 },
    {
      reconcile: async (o) => {
        outcomes.push(o);
        ended();
      },
    },
    log,
  );
  const { executionId } = await engine.start({
    runId: RUN,
    workflow: 'detect-inspection',
    input: { runId: RUN, inspectionId: INSPECTION, concurrency: 3 },
  });
  await done;
  await engine.close();
  return { executionId, outcomes };
}

const inputsOf = (calls: { task: string; input: any }[], task: string) => calls.filter((c) => c.task === task).map((c) => c.input);

describe('workflow definitions', () => {
  const files = fs.readdirSync(WORKFLOWS_DIR).filter((f) => f.endsWith('.asl.json'));

  it('are JSON with a start state that exists, and every Task names a vigil handler', () => {
    expect(files).toEqual(expect.arrayContaining(['detect-inspection.asl.json', 'detect-survey.asl.json']));
    for (const file of files) {
      const definition = JSON.parse(fs.readFileSync(path.join(WORKFLOWS_DIR, file), 'utf8')) as AslDefinition;
      expect(definition.States[definition.StartAt]).toBeDefined();
      const tasks = taskStates(definition);
      expect(tasks.length).toBeGreaterThan(0);
      for (const t of tasks) {
        // The one service integration a workflow calls, which the local engine runs itself (sagemaker-transform.ts).
        if (t.handler === null) expect([file, t.state, t.resource]).toEqual([file, t.state, CREATE_TRANSFORM_JOB_SYNC]);
        else expect([file, t.state, STEPS_BY_NAME[t.handler]?.name]).toEqual([file, t.state, t.handler]);
      }
    }
  });

  it('detect-inspection-batch screens and routes exactly as detect-inspection, with the transform job in place of InspectImage', () => {
    const inspection = readDefinition('detect-inspection');
    const batch = readDefinition('detect-inspection-batch');
    for (const state of ['BeginRun', 'PreprocessImages', 'FinishRun', 'Done', 'MarkFailed', 'Failed'])
      expect([state, batch.States[state]]).toEqual([state, inspection.States[state]]);
    expect({ ...batch.States.ScreenImages, Next: 'InspectFlagged' }).toEqual(inspection.States.ScreenImages);
    const perImage = batch.States.RecordBatchResults.ItemProcessor!.States;
    const endpoint = inspection.States.InspectFlagged.ItemProcessor!.States;
    const { RecordBatchResult, ...routing } = perImage;
    const { Inspect, ...endpointRouting } = endpoint;
    expect(JSON.stringify(routing).replaceAll('RecordBatchResult', 'Inspect')).toEqual(JSON.stringify(endpointRouting));
    expect({ ...RecordBatchResult, Resource: Inspect.Resource, Parameters: Inspect.Parameters }).toEqual(Inspect);
    const job = batch.States.RunBatchTransform;
    expect(job.Resource).toBe(CREATE_TRANSFORM_JOB_SYNC);
    // The local engine ends a Task after 60 s unless the state says otherwise; a job takes minutes to hours.
    expect(job.TimeoutSeconds).toBeGreaterThanOrEqual(3600);
    expect(job.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'MarkFailed' }]);
  });

  it('are valid Amazon States Language once the Lambda ARNs are substituted (as at deployment)', () => {
    for (const file of files) {
      const definition = substituteResources(
        readDefinition(file.replace('.asl.json', '')),
        (h) => `arn:aws:lambda:eu-west-1:123456789012:function:vigil-${h}`,
      );
      const result = aslValidator(definition as never, { checkArn: true, checkPaths: true });
      expect([file, result.isValid, result.errorsText('; ')]).toEqual([file, true, '']);
      expect(JSON.stringify(definition)).not.toMatch(/"Resource":"\$\{/);
    }
  });

  it('detect-survey reads its items from the S3 manifest with a Distributed Map and runs exactly the detect-inspection states per item', () => {
    const survey = readDefinition('detect-survey');
    const map = survey.States[survey.StartAt];
    expect(map.Type).toBe('Map');
    expect(map.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Bucket.$': '$.manifest.bucket', 'Key.$': '$.manifest.key' },
    });
    expect(map.ItemProcessor!.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    const inspection = readDefinition('detect-inspection');
    expect(map.ItemProcessor!.StartAt).toBe(inspection.StartAt);
    expect(map.ItemProcessor!.States).toEqual(inspection.States);
  });

  it('use JSONPath only (the local engine does not read JSONata)', () => {
    for (const file of files)
      expect(fs.readFileSync(path.join(WORKFLOWS_DIR, file), 'utf8')).not.toMatch(/"QueryLanguage"\s*:\s*"JSONata"|\{%/);
  });
});

describe('detect-inspection on the local engine', () => {
  it('screens every ready image, inspects only the flagged ones and routes each by its verdict', async () => {
    const { calls, tasks } = recorder();
    const { executionId, outcomes } = await execute(tasks);

    expect(executionId).toBe(`local:detect-inspection:${RUN}`);
    expect(outcomes).toEqual([{ executionId, status: 'SUCCEEDED' }]);
    expect(inputsOf(calls, 'BeginRun')).toEqual([{ runId: RUN, executionId }]);
    // Only the images BeginRun did not find ready are preprocessed.
    expect(
      inputsOf(calls, 'PreprocessImage')
        .map((i) => i.imageId)
        .sort(),
    ).toEqual([img(10), img(11)]);
    // img(10) was not ready: never screened.
    expect(
      inputsOf(calls, 'ScreenImage')
        .map((i) => i.imageId)
        .sort(),
    ).toEqual([img(11), img(12), img(13), img(14), img(15)]);
    expect(
      inputsOf(calls, 'InspectImage')
        .map((i) => i.imageId)
        .sort(),
    ).toEqual([img(12), img(13), img(15)]);
    expect(inputsOf(calls, 'RecordAnomalies')).toEqual([{ runId: RUN, imageId: img(12) }]);
    expect(inputsOf(calls, 'RequestReview').sort((a, b) => a.imageId.localeCompare(b.imageId))).toEqual([
      { runId: RUN, imageId: img(13), reason: 'LOW_CONFIDENCE' },
      { runId: RUN, imageId: img(14), reason: 'COLD_START' },
    ]);
    expect(inputsOf(calls, 'FinishRun')).toEqual([{ runId: RUN }]);
    expect(inputsOf(calls, 'MarkFailed')).toEqual([]);
    // Payloads carry ids, never bytes.
    expect(Math.max(...calls.map((c) => JSON.stringify(c.input).length))).toBeLessThan(200);
  });

  it('retries a step that fails transiently and then succeeds', async () => {
    let attempts = 0;
    const { calls, tasks } = recorder({
      ScreenImage: async (i: any) => {
        if (i.imageId === img(12) && ++attempts <= 2) throw new TransientDetectorError('Rate exceeded');
        return { imageId: i.imageId, route: i.imageId === img(12) ? 'FLAGGED' : 'CLEAR' };
      },
    });
    const { outcomes } = await execute(tasks);
    expect(outcomes[0]).toEqual(expect.objectContaining({ status: 'SUCCEEDED' }));
    expect(inputsOf(calls, 'ScreenImage').filter((i) => i.imageId === img(12))).toHaveLength(3);
    expect(inputsOf(calls, 'MarkFailed')).toEqual([]);
  });

  it('sends a step that keeps failing to MarkFailed with its error and cause, and the execution fails', async () => {
    const { calls, tasks } = recorder({
      InspectImage: async () => {
        throw new DetectorError('lookoutvision:DetectAnomalies was denied');
      },
    });
    const { outcomes } = await execute(tasks);
    expect(inputsOf(calls, 'MarkFailed')).toEqual([
      { runId: RUN, error: 'Vigil.DetectorError', cause: 'lookoutvision:DetectAnomalies was denied' },
    ]);
    expect(inputsOf(calls, 'FinishRun')).toEqual([]);
    expect(outcomes).toEqual([expect.objectContaining({ status: 'FAILED', error: 'Vigil.RunFailed' })]);
  });

  it("gives up retrying a transient error after the definition's attempts and fails the run", async () => {
    const { calls, tasks } = recorder({
      PreprocessImage: async () => {
        throw new TransientDetectorError('still throttled');
      },
    });
    await execute(tasks);
    // 1 attempt + 4 retries for the first image to fail; the Map stops there.
    expect(inputsOf(calls, 'PreprocessImage').length).toBeGreaterThanOrEqual(5);
    expect(inputsOf(calls, 'MarkFailed')).toEqual([{ runId: RUN, error: 'Vigil.TransientError', cause: 'still throttled' }]);
  });

  it('retries a step whose database did not answer, through the real step wrapper', async () => {
    let attempts = 0;
    // A Prisma error as a PostgreSQL restart produces it, raised inside a step defined like every vigil step.
    const finish = defineStep('FinishRun', runOnly, async () => {
      if (++attempts <= 2) throw Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: 'P1001' });
      return { status: 'SUCCEEDED' };
    });
    const { calls, tasks } = recorder({ FinishRun: (input) => finish.run({} as never, input) });
    const { outcomes } = await execute(tasks);
    expect(attempts).toBe(3);
    expect(inputsOf(calls, 'MarkFailed')).toEqual([]);
    expect(outcomes).toEqual([expect.objectContaining({ status: 'SUCCEEDED' })]);
  });

  it('keeps trying to record the end of an execution until the database takes it', async () => {
    const { tasks } = recorder();
    const attempts: ExecutionOutcome[] = [];
    let recorded!: () => void;
    const done = new Promise<void>((r) => (recorded = r));
    const engine = new LocalWorkflowEngine(
      { 'detect-inspection': readDefinition('detect-inspection') },
      tasks,
      { maxRuns: 1, retryIntervalMs: 1 },
      {
        reconcile: async (o) => {
          attempts.push(o);
          if (attempts.length < 3) throw new Error('Connection terminated unexpectedly');
          recorded();
        },
      },
      log,
    );
    await engine.start({ runId: RUN, workflow: 'detect-inspection', input: { runId: RUN, inspectionId: INSPECTION, concurrency: 3 } });
    await done;
    await engine.close();
    expect(attempts.map((a) => a.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  });

  it('waits at close for a step in progress to return, and no longer than its grace for one that does not', async () => {
    for (const ends of [true, false]) {
      let entered!: () => void;
      const inStep = new Promise<void>((r) => (entered = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const { tasks } = recorder({
        // As FinishRun marks the run done and then tracks the device's defects: still running when the execution is aborted.
        FinishRun: async () => {
          entered();
          await gate;
          return { status: 'SUCCEEDED' };
        },
      });
      const lines: string[] = [];
      // Through the wrapper the server uses, which must hand the grace on.
      const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
      const engine = lazyLocalEngine(
        () =>
          new LocalWorkflowEngine(
            { 'detect-inspection': readDefinition('detect-inspection') },
            tasks,
            { maxRuns: 1, retryIntervalMs: 1 },
            { reconcile: async () => {} },
            logger,
          ),
        logger,
      );
      await engine.start({ runId: RUN, workflow: 'detect-inspection', input: { runId: RUN, inspectionId: INSPECTION, concurrency: 3 } });
      await inStep;
      let closed = false;
      const closing = engine.close(ends ? 10_000 : 50).then(() => (closed = true));
      await new Promise((r) => setTimeout(r, ends ? 100 : 300));
      expect(closed).toBe(!ends);
      release();
      await closing;
      expect(lines.some((l) => l.includes('workflow steps still running at stop'))).toBe(!ends);
    }
  });

  it('refuses a definition whose Task names no handler', () => {
    const definition = readDefinition('detect-inspection');
    expect(
      () => new LocalWorkflowEngine({ 'detect-inspection': definition }, {}, { maxRuns: 1 }, { reconcile: async () => {} }, log),
    ).toThrow(/Task state BeginRun names no vigil handler \(BeginRun\)/);
  });
});
