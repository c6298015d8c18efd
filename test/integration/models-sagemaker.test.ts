import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobResponse,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { trainingJobName } from '../../src/adapters/model-trainer/sagemaker.driver';
import { fromGlobalId } from '../../src/common/global-id';
import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { untilTrained } from '../support/models';
import { writeDataset } from '../support/textures';

jest.setTimeout(120_000);

// The train-model workflow with SageMaker as the trainer, against a mocked SageMaker client.
const sagemaker = mockClient(SageMakerClient);

let t: TestApp;
let root: string;
let datasetId: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sagemaker-train-'));
  t = await startTestApp(
    {
      INSPECT_DETECTOR: 'sagemaker',
      SAGEMAKER_ENDPOINT_NAME: 'vigil-anomaly',
      SAGEMAKER_TRAINING_IMAGE: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/vigil-anomaly-train:3',
      SAGEMAKER_INFERENCE_IMAGE: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/vigil-anomaly-serve:3',
      SAGEMAKER_ROLE_ARN: 'arn:aws:iam::123456789012:role/vigil-sagemaker',
      SAGEMAKER_OUTPUT_S3_URI: 's3://vigil-models/sagemaker',
      MODEL_TRAINING_POLL_SECONDS: '1',
      MODEL_RETRAIN_AFTER_LABELS: '0',
      IMPORT_ROOT: root,
    },
    {
      trainerClients: {
        sagemaker: new SageMakerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
      },
    },
  );
  await writeDataset(path.join(root, 'train'), { normal: 4, anomalous: 2, seed: 1, side: 96 });
  await writeDataset(path.join(root, 'test'), { normal: 2, anomalous: 1, seed: 50, side: 96 });
  const imp = `mutation($i: ImportDatasetInput!) { importDataset(input: $i) { dataset { id } } }`;
  datasetId = ok(await t.gql(imp, { i: { deviceType: 'insulator-sm', folder: 'train', split: 'TRAIN' } })).importDataset.dataset.id;
  ok(await t.gql(imp, { i: { deviceType: 'insulator-sm', folder: 'test', split: 'TEST' } }));
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});
beforeEach(() => sagemaker.reset());

const VERSION = `query($id: ID!) { modelVersion(id: $id) { status trainer version externalId error cause metrics { source f1 } } }`;

it('fails a training that reports no evaluation metrics, so it can never be deployed', async () => {
  sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:123456789012:training-job/x' });
  // Completed, but the container logged none of the test:* figures.
  const completed: DescribeTrainingJobResponse = {
    TrainingJobName: 'x',
    TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:123456789012:training-job/x',
    TrainingJobStatus: 'Completed',
    SecondaryStatus: 'Completed',
    ModelArtifacts: { S3ModelArtifacts: 's3://vigil-models/sagemaker/x/output/model.tar.gz' },
    AlgorithmSpecification: { TrainingInputMode: 'Pipe' },
    ResourceConfig: { InstanceCount: 1, VolumeSizeInGB: 30 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    CreationTime: new Date('2025-03-02T10:00:00Z'),
    FinalMetricDataList: [{ MetricName: 'train:loss', Value: 0.04, Timestamp: new Date('2025-03-02T11:10:00Z') }],
  };
  sagemaker.on(DescribeTrainingJobCommand).resolves(completed);

  const started = ok(
    await t.gql(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id status trainer } }`, { i: { datasetId, profile: 'INSPECT' } }),
  ).trainModel;
  expect(started).toMatchObject({ status: 'TRAINING', trainer: 'sagemaker' });
  const v = await untilTrained(t, VERSION, started.id, 60_000);
  const jobName = trainingJobName(fromGlobalId('ModelVersion', started.id, 'id'));
  expect(v).toMatchObject({ status: 'FAILED', externalId: jobName, metrics: null });
  expect(v.cause).toMatch(/sagemaker reported no evaluation metrics/);

  const creates = sagemaker.commandCalls(CreateTrainingJobCommand);
  expect(creates).toHaveLength(1);
  expect(creates[0].args[0].input).toMatchObject({
    TrainingJobName: jobName,
    RoleArn: 'arn:aws:iam::123456789012:role/vigil-sagemaker',
    OutputDataConfig: { S3OutputPath: 's3://vigil-models/sagemaker' },
  });
  expect(sagemaker.commandCalls(DescribeTrainingJobCommand).map((c) => c.args[0].input)).toEqual([{ TrainingJobName: jobName }]);

  const refused = failure(await t.gql(`mutation($i: DeployModelInput!) { deployModel(input: $i) { id } }`, { i: { id: started.id } }));
  expect(refused.extensions?.code).toBe('CONFLICT');
  expect(refused.message).toMatch(/is FAILED: only TRAINED versions deploy/);
  expect(sagemaker.commandCalls(DescribeTrainingJobCommand)).toHaveLength(1);
});
