import {
  AccessDeniedException,
  CreateModelCommand,
  DescribeModelCommand,
  LookoutVisionClient,
  ResourceNotFoundException,
  StartModelCommand,
  StopModelCommand,
  ThrottlingException,
  ValidationException,
  type ModelDescription,
  type ModelStatus,
} from '@aws-sdk/client-lookoutvision';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ConfigError, loadConfig } from '../../../../src/config/config';
import { TransientDetectorError } from '../../../../src/adapters/detectors/detector.port';
import { createExternalDeployer, createExternalTrainer } from '../../../../src/adapters/model-trainer/model-trainer.factory';
import { LookoutDeployer, LookoutTrainer, lookoutClientToken } from '../../../../src/adapters/model-trainer/lookout.driver';
import { type ExternalModel, type TrainingRequest } from '../../../../src/adapters/model-trainer/model-trainer.port';

const credentials = { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' };
const lookout = mockClient(LookoutVisionClient);
const client = new LookoutVisionClient({ region: 'eu-west-1', credentials });
const trainer = new LookoutTrainer(client, { projectName: 'vigil-poles', outputS3Uri: 's3://vigil-models/lookout/' });

beforeEach(() => lookout.reset());

const request: TrainingRequest = {
  modelVersionId: 'cm3x8k2p50000vigil7f3q9z1',
  deviceType: 'pole',
  trainManifestUri: 's3://vigil-datasets/pole/train.manifest',
  testManifestUri: 's3://vigil-datasets/pole/test.manifest',
  params: { epochs: 20 },
};

/** A DescribeModel answer shaped as the API reference shows it. */
function described(version: string, Status: ModelStatus, extra: Partial<ModelDescription> = {}) {
  return {
    ModelDescription: {
      ModelVersion: version,
      ModelArn: `arn:aws:lookoutvision:eu-west-1:123456789012:model/vigil-poles/${version}`,
      CreationTimestamp: new Date('2025-03-02T10:00:00Z'),
      Description: 'vigil model version cm3x8k2p50000vigil7f3q9z1 (pole)',
      Status,
      StatusMessage: `Model is ${Status.toLowerCase()}.`,
      OutputConfig: { S3Location: { Bucket: 'vigil-models', Prefix: 'lookout/' } },
      ...extra,
    },
  };
}

const performance = { F1Score: 0.912, Recall: 0.887, Precision: 0.938 };

/** The commands the client received, as "Command version", in order. */
function sequence(): string[] {
  return lookout.calls().map((c) => {
    const command = c.args[0] as { constructor: { name: string }; input: { ModelVersion?: string } };
    return `${command.constructor.name.replace(/Command$/, '')} ${command.input.ModelVersion ?? ''}`.trim();
  });
}

describe('the Lookout for Vision trainer', () => {
  it('starts training with a CreateModel request tied to the vigil model version', async () => {
    lookout.on(CreateModelCommand).resolves({
      ModelMetadata: {
        ModelVersion: '4',
        Status: 'TRAINING',
        ModelArn: 'arn:aws:lookoutvision:eu-west-1:123456789012:model/vigil-poles/4',
      },
    });
    await expect(trainer.start(request)).resolves.toEqual({ externalId: 'vigil-poles:4' });
    expect(lookout.commandCalls(CreateModelCommand)).toHaveLength(1);
    expect(lookout.commandCalls(CreateModelCommand)[0].args[0].input).toEqual({
      ProjectName: 'vigil-poles',
      ClientToken: 'vigil-cm3x8k2p50000vigil7f3q9z1',
      Description: 'vigil model version cm3x8k2p50000vigil7f3q9z1 (pole)',
      OutputConfig: { S3Location: { Bucket: 'vigil-models', Prefix: 'lookout/' } },
      Tags: [{ Key: 'vigil:model-version-id', Value: 'cm3x8k2p50000vigil7f3q9z1' }],
    });
  });

  it('sends the same ClientToken when a retried step starts the same version again', async () => {
    // Within the token's window Lookout answers a repeated request with the model it already made.
    lookout.on(CreateModelCommand).resolves({ ModelMetadata: { ModelVersion: '4', Status: 'TRAINING' } });
    const first = await trainer.start(request);
    const second = await trainer.start({ ...request, params: {} });
    expect(second).toEqual(first);
    const tokens = lookout.commandCalls(CreateModelCommand).map((c) => c.args[0].input.ClientToken);
    expect(tokens).toEqual(['vigil-cm3x8k2p50000vigil7f3q9z1', 'vigil-cm3x8k2p50000vigil7f3q9z1']);
    await trainer.start({ ...request, modelVersionId: 'cm3x8k2p50001vigil7f3q9z2' });
    expect(lookout.commandCalls(CreateModelCommand)[2].args[0].input.ClientToken).toBe('vigil-cm3x8k2p50001vigil7f3q9z2');
  });

  it('hashes model version ids that do not fit a ClientToken into a stable one that does', () => {
    const odd = 'model_version/with:odd.characters-and-a-length-well-beyond-sixty-four-characters';
    const token = lookoutClientToken(odd);
    expect(token).toMatch(/^[a-zA-Z0-9-]{1,64}$/);
    expect(lookoutClientToken(odd)).toBe(token);
    expect(lookoutClientToken(`${odd}!`)).not.toBe(token);
  });

  it('omits the prefix when the output URI names only a bucket', async () => {
    lookout.on(CreateModelCommand).resolves({ ModelMetadata: { ModelVersion: '1' } });
    await new LookoutTrainer(client, { projectName: 'vigil-poles', outputS3Uri: 's3://vigil-models' }).start(request);
    expect(lookout.commandCalls(CreateModelCommand)[0].args[0].input.OutputConfig).toEqual({ S3Location: { Bucket: 'vigil-models' } });
  });

  it('reports a version still training as RUNNING with Lookout’s message', async () => {
    lookout.on(DescribeModelCommand).resolves(described('4', 'TRAINING', { StatusMessage: 'Training in progress.' }));
    await expect(trainer.status('vigil-poles:4')).resolves.toEqual({ state: 'RUNNING', message: 'Training in progress.' });
    expect(lookout.commandCalls(DescribeModelCommand)[0].args[0].input).toEqual({ ProjectName: 'vigil-poles', ModelVersion: '4' });
  });

  it.each<ModelStatus>(['TRAINED', 'HOSTED', 'STARTING_HOSTING', 'HOSTING_FAILED', 'STOPPING_HOSTING'])(
    'reports a %s version as SUCCEEDED with its precision, recall and F1 and no AUROC',
    async (status) => {
      lookout.on(DescribeModelCommand).resolves(
        described('4', status, {
          Performance: performance,
          EvaluationManifest: { Bucket: 'vigil-models', Key: 'lookout/vigil-poles/4/evaluation-manifest.json' },
          EvaluationResult: { Bucket: 'vigil-models', Key: 'lookout/vigil-poles/4/evaluation-result.json' },
          EvaluationEndTimestamp: new Date('2025-03-02T11:12:00Z'),
        }),
      );
      await expect(trainer.status('vigil-poles:4')).resolves.toEqual({
        state: 'SUCCEEDED',
        externalVersion: '4',
        artifactUri: null,
        metrics: { precision: 0.938, recall: 0.887, f1: 0.912, auroc: null },
      });
    },
  );

  it('reports null metrics a trained version does not have', async () => {
    lookout.on(DescribeModelCommand).resolves(described('4', 'TRAINED', { Performance: { F1Score: 0.5 } }));
    await expect(trainer.status('vigil-poles:4')).resolves.toMatchObject({
      metrics: { precision: null, recall: null, f1: 0.5, auroc: null },
    });
  });

  it('reports a failed training with Lookout’s status message as cause', async () => {
    lookout
      .on(DescribeModelCommand)
      .resolves(described('4', 'TRAINING_FAILED', { StatusMessage: 'The test dataset must contain at least 10 anomalous images.' }));
    await expect(trainer.status('vigil-poles:4')).resolves.toEqual({
      state: 'FAILED',
      error: 'LookoutVision.TRAINING_FAILED',
      cause: 'The test dataset must contain at least 10 anomalous images.',
    });
  });

  it('reports a version being deleted, or gone, as FAILED', async () => {
    lookout.on(DescribeModelCommand).resolvesOnce(described('4', 'DELETING', { StatusMessage: undefined }));
    await expect(trainer.status('vigil-poles:4')).resolves.toEqual({
      state: 'FAILED',
      error: 'LookoutVision.DELETING',
      cause: 'model version 4 of project vigil-poles is DELETING',
    });
    lookout.on(DescribeModelCommand).rejects(
      new ResourceNotFoundException({
        message: 'Model not found',
        Message: 'Model not found',
        ResourceId: '4',
        ResourceType: 'MODEL',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    await expect(trainer.status('vigil-poles:4')).resolves.toMatchObject({ state: 'FAILED', error: 'LookoutVision.NotFound' });
  });

  it('refuses an id it did not make', async () => {
    await expect(trainer.status('4')).rejects.toThrow('not a Lookout for Vision training id');
    expect(lookout.calls()).toHaveLength(0);
  });

  it('turns throttling into a retryable error', async () => {
    const throttled = new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    lookout.on(CreateModelCommand).rejects(throttled);
    const error = await trainer.start(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDetectorError);
    expect(error).toMatchObject({ name: 'Vigil.TransientError', cause: throttled });
  });

  it('says which permission is missing when CreateModel is denied', async () => {
    lookout
      .on(CreateModelCommand)
      .rejects(new AccessDeniedException({ message: 'not authorized', Message: 'not authorized', $metadata: { httpStatusCode: 403 } }));
    const error = (await trainer.start(request).catch((e: unknown) => e)) as Error;
    expect(error).not.toBeInstanceOf(TransientDetectorError);
    expect(error.name).toBe('Vigil.DetectorError');
    expect(error.message).toMatch(
      /^lookoutvision:CreateModel was denied: the IAM role vigil runs as needs the "lookoutvision:CreateModel" permission/,
    );
  });

  it('names the settings to check when CreateModel refuses the request', async () => {
    lookout.on(CreateModelCommand).rejects(
      new ValidationException({
        message: 'Project has no test dataset',
        Message: 'Project has no test dataset',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(trainer.start(request)).rejects.toMatchObject({
      name: 'Vigil.DetectorError',
      message:
        'lookoutvision:CreateModel failed (ValidationException): Project has no test dataset. Check LOOKOUT_PROJECT_NAME (vigil-poles: it needs train and test datasets with labeled images) and LOOKOUT_OUTPUT_S3_URI (s3://vigil-models/lookout/)',
    });
  });
});

describe('the Lookout for Vision deployer', () => {
  const deployer = new LookoutDeployer(client, {
    projectName: 'vigil-poles',
    minInferenceUnits: 2,
    maxInferenceUnits: 4,
    pollIntervalMs: 1,
    timeoutMs: 200,
  });
  const target: ExternalModel = { modelVersionId: 'mv-new', externalVersion: '4', artifactUri: null };
  const previous: ExternalModel = { modelVersionId: 'mv-old', externalVersion: '3', artifactUri: null };

  it('starts the new version, waits until it is hosted, then stops the previous one', async () => {
    lookout
      .on(DescribeModelCommand, { ModelVersion: '4' })
      .resolvesOnce(described('4', 'TRAINED'))
      .resolvesOnce(described('4', 'STARTING_HOSTING'))
      .resolves(described('4', 'HOSTED'));
    lookout.on(DescribeModelCommand, { ModelVersion: '3' }).resolves(described('3', 'HOSTED'));
    lookout.on(StartModelCommand).resolves({ Status: 'STARTING_HOSTING' });
    lookout.on(StopModelCommand).resolves({ Status: 'STOPPING_HOSTING' });

    await deployer.deploy(target, previous);

    expect(sequence()).toEqual(['DescribeModel 4', 'StartModel 4', 'DescribeModel 4', 'DescribeModel 4', 'DescribeModel 3', 'StopModel 3']);
    expect(lookout.commandCalls(StartModelCommand)[0].args[0].input).toEqual({
      ProjectName: 'vigil-poles',
      ModelVersion: '4',
      MinInferenceUnits: 2,
      MaxInferenceUnits: 4,
      ClientToken: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    });
    expect(lookout.commandCalls(StopModelCommand)[0].args[0].input).toEqual({ ProjectName: 'vigil-poles', ModelVersion: '3' });
  });

  it('leaves MaxInferenceUnits out when auto-scaling is off', async () => {
    lookout.on(DescribeModelCommand).resolvesOnce(described('4', 'TRAINED')).resolves(described('4', 'HOSTED'));
    lookout.on(StartModelCommand).resolves({ Status: 'STARTING_HOSTING' });
    await new LookoutDeployer(client, {
      projectName: 'vigil-poles',
      minInferenceUnits: 1,
      maxInferenceUnits: null,
      pollIntervalMs: 1,
    }).deploy(target, null);
    expect(lookout.commandCalls(StartModelCommand)[0].args[0].input).toEqual({
      ProjectName: 'vigil-poles',
      ModelVersion: '4',
      MinInferenceUnits: 1,
      ClientToken: expect.any(String),
    });
    expect(lookout).not.toHaveReceivedCommand(StopModelCommand);
  });

  it('changes nothing when the target already serves', async () => {
    lookout.on(DescribeModelCommand).resolves(described('4', 'HOSTED'));
    await deployer.deploy(target, null);
    await deployer.deploy(target, { ...target });
    expect(sequence()).toEqual(['DescribeModel 4', 'DescribeModel 4']);
  });

  it('on a retry finds the target starting and does not start it twice', async () => {
    lookout
      .on(DescribeModelCommand, { ModelVersion: '4' })
      .resolvesOnce(described('4', 'STARTING_HOSTING'))
      .resolves(described('4', 'HOSTED'));
    lookout.on(DescribeModelCommand, { ModelVersion: '3' }).resolves(described('3', 'HOSTED'));
    await deployer.deploy(target, previous);
    expect(sequence()).toEqual(['DescribeModel 4', 'DescribeModel 4', 'DescribeModel 3', 'StopModel 3']);
  });

  it('does not stop a previous version that no longer is hosted', async () => {
    lookout.on(DescribeModelCommand, { ModelVersion: '4' }).resolves(described('4', 'HOSTED'));
    lookout.on(DescribeModelCommand, { ModelVersion: '3' }).resolves(described('3', 'STOPPING_HOSTING'));
    await deployer.deploy(target, previous);
    expect(lookout).not.toHaveReceivedCommand(StopModelCommand);
  });

  it('waits for a version still stopping before starting it again', async () => {
    lookout
      .on(DescribeModelCommand, { ModelVersion: '4' })
      .resolvesOnce(described('4', 'STOPPING_HOSTING'))
      .resolvesOnce(described('4', 'TRAINED'))
      .resolves(described('4', 'HOSTED'));
    lookout.on(StartModelCommand).resolves({ Status: 'STARTING_HOSTING' });
    await deployer.deploy(target, null);
    expect(sequence()).toEqual(['DescribeModel 4', 'DescribeModel 4', 'StartModel 4', 'DescribeModel 4']);
  });

  it('keeps the previous version serving when hosting fails', async () => {
    lookout
      .on(DescribeModelCommand, { ModelVersion: '4' })
      .resolvesOnce(described('4', 'TRAINED'))
      .resolves(described('4', 'HOSTING_FAILED', { StatusMessage: 'Insufficient capacity for inference units.' }));
    lookout.on(StartModelCommand).resolves({ Status: 'STARTING_HOSTING' });
    await expect(deployer.deploy(target, previous)).rejects.toMatchObject({
      name: 'Vigil.DetectorError',
      message:
        'Lookout for Vision could not host model version 4 of project vigil-poles (HOSTING_FAILED): Insufficient capacity for inference units.; version 3 keeps serving',
    });
    expect(lookout).not.toHaveReceivedCommand(StopModelCommand);
  });

  it('gives up waiting with a retryable error and stops nothing', async () => {
    lookout
      .on(DescribeModelCommand, { ModelVersion: '4' })
      .resolvesOnce(described('4', 'TRAINED'))
      .resolves(described('4', 'STARTING_HOSTING'));
    lookout.on(StartModelCommand).resolves({ Status: 'STARTING_HOSTING' });
    const quick = new LookoutDeployer(client, {
      projectName: 'vigil-poles',
      minInferenceUnits: 1,
      maxInferenceUnits: null,
      pollIntervalMs: 1,
      timeoutMs: 20,
    });
    const error = await quick.deploy(target, previous).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDetectorError);
    expect((error as Error).message).toBe('Lookout for Vision model version 4 is still STARTING_HOSTING after 0.02 s');
    expect(lookout).not.toHaveReceivedCommand(StopModelCommand);
  });

  it('refuses to host a version whose training failed', async () => {
    lookout.on(DescribeModelCommand).resolves(described('4', 'TRAINING_FAILED'));
    await expect(deployer.deploy(target, previous)).rejects.toThrow(
      'cannot host Lookout for Vision model version 4 of project vigil-poles: it is TRAINING_FAILED',
    );
    expect(lookout).not.toHaveReceivedCommand(StartModelCommand);
    expect(lookout).not.toHaveReceivedCommand(StopModelCommand);
  });

  it('turns a throttled StartModel into a retryable error', async () => {
    lookout.on(DescribeModelCommand).resolves(described('4', 'TRAINED'));
    lookout.on(StartModelCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }));
    await expect(deployer.deploy(target, previous)).rejects.toBeInstanceOf(TransientDetectorError);
    expect(lookout).not.toHaveReceivedCommand(StopModelCommand);
  });
});

describe('the AWS trainer factory for Lookout for Vision', () => {
  const env = {
    INSPECT_DETECTOR: 'lookout-for-vision',
    LOOKOUT_PROJECT_NAME: 'vigil-poles',
    LOOKOUT_MODEL_VERSION: '3',
    LOOKOUT_OUTPUT_S3_URI: 's3://vigil-models/lookout/',
    LOOKOUT_MIN_INFERENCE_UNITS: '2',
  };

  it('builds the Lookout pair on the inspect project', async () => {
    const config = loadConfig(env);
    const built = createExternalTrainer(config, { lookout: client });
    expect(built).toBeInstanceOf(LookoutTrainer);
    expect(built!.kind).toBe('lookout-for-vision');
    lookout.on(CreateModelCommand).resolves({ ModelMetadata: { ModelVersion: '5' } });
    await expect(built!.start(request)).resolves.toEqual({ externalId: 'vigil-poles:5' });
    expect(lookout).toHaveReceivedCommandWith(CreateModelCommand, {
      ProjectName: 'vigil-poles',
      OutputConfig: { S3Location: { Bucket: 'vigil-models', Prefix: 'lookout/' } },
    });

    const deployer = createExternalDeployer(config, { lookout: client });
    expect(deployer).toBeInstanceOf(LookoutDeployer);
    lookout.on(DescribeModelCommand).resolvesOnce(described('5', 'TRAINED')).resolves(described('5', 'HOSTED'));
    lookout.on(StartModelCommand).resolves({});
    // HOSTED on the first check after StartModel: the default 30 s poll interval never elapses.
    await deployer!.deploy({ modelVersionId: 'mv', externalVersion: '5', artifactUri: null }, null);
    expect(lookout).toHaveReceivedCommandWith(StartModelCommand, { ProjectName: 'vigil-poles', ModelVersion: '5', MinInferenceUnits: 2 });
  });

  it('returns nothing for the built-in detector', () => {
    const config = loadConfig({});
    expect(
      createExternalTrainer(config, { lookout: client, sagemaker: new SageMakerClient({ region: 'eu-west-1', credentials }) }),
    ).toBeNull();
    expect(createExternalDeployer(config)).toBeNull();
  });

  it('asks for LOOKOUT_OUTPUT_S3_URI before it trains', () => {
    const config = loadConfig({ ...env, LOOKOUT_OUTPUT_S3_URI: undefined });
    expect(() => createExternalTrainer(config, { lookout: client })).toThrow(ConfigError);
    expect(() => createExternalTrainer(config, { lookout: client })).toThrow(/set LOOKOUT_OUTPUT_S3_URI/);
    expect(createExternalDeployer(config, { lookout: client })).toBeInstanceOf(LookoutDeployer);
  });

  it('refuses a dataset project other than the one the detector uses', () => {
    const config = loadConfig({ ...env, LOOKOUT_DATASET_PROJECT: 'vigil-other', OBJECT_STORE: 's3', S3_BUCKET: 'vigil-images' });
    expect(() => createExternalTrainer(config, { lookout: client })).toThrow(
      /LOOKOUT_DATASET_PROJECT="vigil-other" and LOOKOUT_PROJECT_NAME="vigil-poles"/,
    );
  });
});
