import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateModelCommand,
  DescribeModelCommand,
  LookoutVisionClient,
  type ModelStatus,
  StartModelCommand,
  StopModelCommand,
} from '@aws-sdk/client-lookoutvision';
import { mockClient } from 'aws-sdk-client-mock';
import { fromGlobalId } from '../../src/common/global-id';
import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { untilTrained } from '../support/models';
import { writeDataset } from '../support/textures';

jest.setTimeout(120_000);

// The train-model workflow with Lookout for Vision as the trainer: the local engine runs the same
// ASL (StartTraining, then Wait/CheckTraining until done) against a mocked Lookout client.
const lookout = mockClient(LookoutVisionClient);
const PROJECT = 'vigil-insulators';

let t: TestApp;
let root: string;
let datasetId: string;
/** What DescribeModel answers, per model version: each call takes the next status (the last repeats). */
const script = new Map<string, { status: ModelStatus; message?: string }[]>();

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lookout-train-'));
  t = await startTestApp(
    {
      INSPECT_DETECTOR: 'lookout-for-vision',
      LOOKOUT_PROJECT_NAME: PROJECT,
      LOOKOUT_MODEL_VERSION: '1',
      LOOKOUT_OUTPUT_S3_URI: 's3://vigil-models/lookout-output',
      LOOKOUT_MIN_INFERENCE_UNITS: '2',
      MODEL_TRAINING_POLL_SECONDS: '1',
      MODEL_RETRAIN_AFTER_LABELS: '0',
      IMPORT_ROOT: root,
    },
    {
      trainerClients: {
        lookout: new LookoutVisionClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
      },
    },
  );
  await writeDataset(path.join(root, 'train'), { normal: 4, anomalous: 2, seed: 1, side: 96 });
  await writeDataset(path.join(root, 'test'), { normal: 2, anomalous: 1, seed: 50, side: 96 });
  const imp = `mutation($i: ImportDatasetInput!) { importDataset(input: $i) { dataset { id } } }`;
  datasetId = ok(await t.gql(imp, { i: { deviceType: 'insulator-aws', folder: 'train', split: 'TRAIN' } })).importDataset.dataset.id;
  ok(await t.gql(imp, { i: { deviceType: 'insulator-aws', folder: 'test', split: 'TEST' } }));
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  lookout.reset();
  script.clear();
  let next = 2;
  lookout.on(CreateModelCommand).callsFake(() => ({ ModelMetadata: { ModelVersion: String(next++), Status: 'TRAINING' } }));
  lookout.on(DescribeModelCommand).callsFake((input: { ModelVersion: string }) => {
    const steps = script.get(input.ModelVersion) ?? [{ status: 'TRAINED' }];
    const step = steps.length > 1 ? steps.shift()! : steps[0];
    return {
      ModelDescription: {
        ModelVersion: input.ModelVersion,
        Status: step.status,
        StatusMessage: step.message,
        Performance: step.status === 'TRAINING' ? undefined : { F1Score: 0.91, Recall: 0.9, Precision: 0.92 },
      },
    };
  });
  lookout.on(StartModelCommand).resolves({ Status: 'STARTING_HOSTING' });
  lookout.on(StopModelCommand).resolves({ Status: 'STOPPING_HOSTING' });
});

const VERSION = `query($id: ID!) { modelVersion(id: $id) { status trainer version externalId error cause metrics { source f1 recall precision auroc testCount } } }`;
const settled = (id: string) => untilTrained(t, VERSION, id, 60_000);

it('trains in Lookout for Vision: CreateModel once, DescribeModel until TRAINED, its figures stored', async () => {
  script.set('2', [{ status: 'TRAINING' }, { status: 'TRAINING' }, { status: 'TRAINED' }]);
  const started = ok(
    await t.gql(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id status trainer } }`, { i: { datasetId, profile: 'INSPECT' } }),
  ).trainModel;
  expect(started).toMatchObject({ status: 'TRAINING', trainer: 'lookout-for-vision' });
  const v = await settled(started.id);
  expect(v).toMatchObject({
    status: 'TRAINED',
    version: `lookout-for-vision:${PROJECT}:2`,
    externalId: `${PROJECT}:2`,
    metrics: { source: 'lookout-for-vision', f1: 0.91, recall: 0.9, precision: 0.92, auroc: null, testCount: 3 },
  });
  const creates = lookout.commandCalls(CreateModelCommand);
  expect(creates).toHaveLength(1);
  expect(creates[0].args[0].input).toMatchObject({
    ProjectName: PROJECT,
    OutputConfig: { S3Location: { Bucket: 'vigil-models', Prefix: 'lookout-output' } },
    Tags: [{ Key: 'vigil:model-version-id', Value: fromGlobalId('ModelVersion', started.id, 'id') }],
  });
  // Polled through the workflow's Wait state until the third answer.
  expect(lookout.commandCalls(DescribeModelCommand).map((c) => c.args[0].input)).toEqual([
    { ProjectName: PROJECT, ModelVersion: '2' },
    { ProjectName: PROJECT, ModelVersion: '2' },
    { ProjectName: PROJECT, ModelVersion: '2' },
  ]);

  // Deploying hosts it with the configured inference units before the swap.
  script.set('2', [{ status: 'TRAINED' }, { status: 'HOSTED' }]);
  const deployed = ok(
    await t.gql(`mutation($i: DeployModelInput!) { deployModel(input: $i) { action model { version } } }`, { i: { id: started.id } }),
  ).deployModel;
  expect(deployed).toEqual({ action: 'DEPLOY', model: { version: `lookout-for-vision:${PROJECT}:2` } });
  expect(lookout.commandCalls(StartModelCommand).map((c) => c.args[0].input)).toEqual([
    { ProjectName: PROJECT, ModelVersion: '2', MinInferenceUnits: 2, ClientToken: expect.any(String) },
  ]);
  expect(lookout.commandCalls(StopModelCommand)).toHaveLength(0);
});

it('records the service reason when the training fails, and trains only INSPECT models', async () => {
  script.set('2', [{ status: 'TRAINING' }, { status: 'TRAINING_FAILED', message: 'The dataset needs at least 10 anomalous images' }]);
  const started = ok(
    await t.gql(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, { i: { datasetId, profile: 'INSPECT' } }),
  ).trainModel;
  const v = await settled(started.id);
  expect(v.status).toBe('FAILED');
  expect(v.cause).toContain('The dataset needs at least 10 anomalous images');
  expect(v.metrics).toBeNull();

  const screen = failure(
    await t.gql(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, { i: { datasetId, profile: 'SCREEN' } }),
  );
  expect(screen.extensions?.code).toBe('BAD_USER_INPUT');
  expect(screen.message).toMatch(/SCREEN models are trained only for the built-in screen detector/);
});
