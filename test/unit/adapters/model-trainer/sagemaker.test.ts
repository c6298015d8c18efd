import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  ResourceInUse,
  ResourceLimitExceeded,
  ResourceNotFound,
  SageMakerClient,
  SageMakerServiceException,
  UpdateEndpointCommand,
  type DescribeEndpointOutput,
  type DescribeTrainingJobResponse,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ConfigError, loadConfig } from '../../../../src/config/config';
import { TransientDetectorError } from '../../../../src/adapters/detectors/detector.port';
import { createExternalDeployer, createExternalTrainer } from '../../../../src/adapters/model-trainer/model-trainer.factory';
import {
  METRIC_DEFINITIONS,
  SageMakerDeployer,
  SageMakerTrainer,
  trainingJobName,
} from '../../../../src/adapters/model-trainer/sagemaker.driver';
import { type ExternalModel, type TrainingRequest } from '../../../../src/adapters/model-trainer/model-trainer.port';

const credentials = { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' };
const sagemaker = mockClient(SageMakerClient);
const client = new SageMakerClient({ region: 'eu-west-1', credentials });

const settings = {
  trainingImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/vigil-anomaly-train:3',
  roleArn: 'arn:aws:iam::123456789012:role/vigil-sagemaker',
  outputS3Uri: 's3://vigil-models/sagemaker',
  trainingInstanceType: 'ml.g4dn.xlarge',
  maxTrainingSeconds: 7200,
};
const trainer = new SageMakerTrainer(client, settings);

beforeEach(() => sagemaker.reset());

const request: TrainingRequest = {
  modelVersionId: 'cm3x8k2p50000vigil7f3q9z1',
  deviceType: 'pole',
  trainManifestUri: 's3://vigil-datasets/pole/train.manifest',
  testManifestUri: 's3://vigil-datasets/pole/test.manifest',
  params: { epochs: 20, learning_rate: 0.001, augment: true, backbone: 'resnet18' },
};
const jobName = 'vigil-cm3x8k2p50000vigil7f3q9z1';

/** An AWS SDK error as the client raises it for errors the SageMaker model does not declare. */
function sdkError(name: string, message: string, httpStatusCode: number, fault: 'client' | 'server' = 'client') {
  return new SageMakerServiceException({ name, $fault: fault, message, $metadata: { httpStatusCode } });
}

function manifestChannel(name: string, uri: string) {
  return {
    ChannelName: name,
    DataSource: {
      S3DataSource: {
        S3DataType: 'AugmentedManifestFile',
        S3Uri: uri,
        S3DataDistributionType: 'FullyReplicated',
        AttributeNames: ['source-ref', 'anomaly-label'],
      },
    },
    InputMode: 'Pipe',
    RecordWrapperType: 'RecordIO',
    ContentType: 'application/x-recordio',
  };
}

/** A DescribeTrainingJob answer shaped as the API reference shows it. */
function job(extra: Partial<DescribeTrainingJobResponse>): DescribeTrainingJobResponse {
  return {
    TrainingJobName: jobName,
    TrainingJobArn: `arn:aws:sagemaker:eu-west-1:123456789012:training-job/${jobName}`,
    ModelArtifacts: { S3ModelArtifacts: `s3://vigil-models/sagemaker/${jobName}/output/model.tar.gz` },
    TrainingJobStatus: 'InProgress',
    SecondaryStatus: 'Training',
    HyperParameters: { epochs: '20' },
    RoleArn: settings.roleArn,
    StoppingCondition: { MaxRuntimeInSeconds: 7200 },
    CreationTime: new Date('2025-03-02T10:00:00Z'),
    TrainingStartTime: new Date('2025-03-02T10:03:12Z'),
    LastModifiedTime: new Date('2025-03-02T10:20:00Z'),
    ...extra,
  };
}

describe('the SageMaker trainer', () => {
  it('starts a training job that reads both manifests in Pipe mode', async () => {
    sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: `arn:aws:sagemaker:eu-west-1:123456789012:training-job/${jobName}` });
    await expect(trainer.start(request)).resolves.toEqual({ externalId: jobName });
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)[0].args[0].input).toEqual({
      TrainingJobName: jobName,
      AlgorithmSpecification: {
        TrainingImage: settings.trainingImage,
        TrainingInputMode: 'Pipe',
        MetricDefinitions: [
          { Name: 'test:precision', Regex: 'test:precision=([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)' },
          { Name: 'test:recall', Regex: 'test:recall=([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)' },
          { Name: 'test:f1', Regex: 'test:f1=([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)' },
          { Name: 'test:auroc', Regex: 'test:auroc=([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)' },
        ],
      },
      RoleArn: settings.roleArn,
      InputDataConfig: [manifestChannel('train', request.trainManifestUri), manifestChannel('test', request.testManifestUri)],
      OutputDataConfig: { S3OutputPath: 's3://vigil-models/sagemaker' },
      ResourceConfig: { InstanceType: 'ml.g4dn.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
      StoppingCondition: { MaxRuntimeInSeconds: 7200 },
      HyperParameters: { epochs: '20', learning_rate: '0.001', augment: 'true', backbone: 'resnet18' },
      Tags: [{ Key: 'vigil:model-version-id', Value: 'cm3x8k2p50000vigil7f3q9z1' }],
    });
  });

  it('metric regexes read the figures a training container logs', () => {
    const log = '[epoch 20] test:precision=0.938 test:recall=0.887 test:f1=0.912 test:auroc=9.71e-1';
    const read = Object.fromEntries(METRIC_DEFINITIONS.map((d) => [d.Name, Number(new RegExp(d.Regex!).exec(log)?.[1])]));
    expect(read).toEqual({ 'test:precision': 0.938, 'test:recall': 0.887, 'test:f1': 0.912, 'test:auroc': 0.971 });
  });

  it('names jobs deterministically within SageMaker’s name rules', () => {
    const pattern = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
    expect(trainingJobName('cm3x8k2p50000vigil7f3q9z1')).toBe(jobName);
    expect(trainingJobName('0b7f3c9e-6a51-4e0d-9a55-2f1c3b8d7e61')).toBe('vigil-0b7f3c9e-6a51-4e0d-9a55-2f1c3b8d7e61');
    const long = 'a-model-version-id-that-is-far-too-long-to-be-a-training-job-name-as-it-is';
    for (const id of [long, 'pole_v2', 'pole.v2', '__']) {
      const name = trainingJobName(id);
      expect(name).toMatch(pattern);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(trainingJobName(id)).toBe(name);
    }
    // "_" and "." both become "-": the hash keeps the two ids apart.
    expect(trainingJobName('pole_v2')).not.toBe(trainingJobName('pole.v2'));
    expect(trainingJobName('pole_v2')).toMatch(/^vigil-pole-v2-[0-9a-f]{12}$/);
  });

  it('finds the job a retried step already started', async () => {
    sagemaker.on(CreateTrainingJobCommand).rejects(
      new ResourceInUse({
        message: 'Training job names must be unique within an AWS account and region, and a training job with this name already exists',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(trainer.start(request)).resolves.toEqual({ externalId: jobName });
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
  });

  it('reports a job in progress or stopping as RUNNING with its secondary status', async () => {
    sagemaker
      .on(DescribeTrainingJobCommand)
      .resolvesOnce(job({ SecondaryStatus: 'Downloading' }))
      .resolvesOnce(job({ TrainingJobStatus: 'Stopping', SecondaryStatus: 'Stopping' }));
    await expect(trainer.status(jobName)).resolves.toEqual({ state: 'RUNNING', message: 'Downloading' });
    await expect(trainer.status(jobName)).resolves.toEqual({ state: 'RUNNING', message: 'Stopping' });
    expect(sagemaker.commandCalls(DescribeTrainingJobCommand)[0].args[0].input).toEqual({ TrainingJobName: jobName });
  });

  it('reports a completed job with its artifact and the final test metrics', async () => {
    sagemaker.on(DescribeTrainingJobCommand).resolves(
      job({
        TrainingJobStatus: 'Completed',
        SecondaryStatus: 'Completed',
        TrainingEndTime: new Date('2025-03-02T11:12:00Z'),
        FinalMetricDataList: [
          { MetricName: 'test:precision', Value: 0.938, Timestamp: new Date('2025-03-02T11:10:00Z') },
          { MetricName: 'test:recall', Value: 0.887, Timestamp: new Date('2025-03-02T11:10:00Z') },
          { MetricName: 'test:f1', Value: 0.912, Timestamp: new Date('2025-03-02T11:10:00Z') },
          { MetricName: 'train:loss', Value: 0.04, Timestamp: new Date('2025-03-02T11:10:00Z') },
        ],
      }),
    );
    await expect(trainer.status(jobName)).resolves.toEqual({
      state: 'SUCCEEDED',
      externalVersion: jobName,
      artifactUri: `s3://vigil-models/sagemaker/${jobName}/output/model.tar.gz`,
      metrics: { precision: 0.938, recall: 0.887, f1: 0.912, auroc: null },
    });
  });

  it('reports failed and stopped jobs as FAILED with SageMaker’s reason', async () => {
    sagemaker
      .on(DescribeTrainingJobCommand)
      .resolvesOnce(job({ TrainingJobStatus: 'Failed', SecondaryStatus: 'Failed', FailureReason: 'AlgorithmError: test channel is empty' }))
      .resolvesOnce(job({ TrainingJobStatus: 'Stopped', SecondaryStatus: 'MaxRuntimeExceeded' }));
    await expect(trainer.status(jobName)).resolves.toEqual({
      state: 'FAILED',
      error: 'SageMaker.Failed',
      cause: 'AlgorithmError: test channel is empty',
    });
    await expect(trainer.status(jobName)).resolves.toEqual({
      state: 'FAILED',
      error: 'SageMaker.Stopped',
      cause: `training job ${jobName} is Stopped (MaxRuntimeExceeded)`,
    });
  });

  it('reports a job that does not exist as FAILED', async () => {
    sagemaker
      .on(DescribeTrainingJobCommand)
      .rejects(new ResourceNotFound({ message: 'Requested resource not found.', $metadata: { httpStatusCode: 400 } }));
    await expect(trainer.status(jobName)).resolves.toEqual({
      state: 'FAILED',
      error: 'SageMaker.NotFound',
      cause: `training job ${jobName} does not exist`,
    });
  });

  it('turns throttling and server errors into retryable errors', async () => {
    const throttled = sdkError('ThrottlingException', 'Rate exceeded', 400);
    sagemaker.on(CreateTrainingJobCommand).rejects(throttled);
    await expect(trainer.start(request)).rejects.toMatchObject({ name: 'Vigil.TransientError', cause: throttled });
    sagemaker.on(DescribeTrainingJobCommand).rejects(sdkError('InternalFailure', 'We encountered an internal error.', 500, 'server'));
    await expect(trainer.status(jobName)).rejects.toBeInstanceOf(TransientDetectorError);
  });

  it('says what to fix when CreateTrainingJob is denied', async () => {
    sagemaker
      .on(CreateTrainingJobCommand)
      .rejects(sdkError('AccessDeniedException', 'User is not authorized to perform: iam:PassRole', 400));
    const error = (await trainer.start(request).catch((e: unknown) => e)) as Error;
    expect(error).not.toBeInstanceOf(TransientDetectorError);
    expect(error.name).toBe('Vigil.DetectorError');
    expect(error.message).toBe(
      'sagemaker:CreateTrainingJob was denied: the IAM role vigil runs as needs the "sagemaker:CreateTrainingJob" permission (AWS said: User is not authorized to perform: iam:PassRole). ' +
        'Check SAGEMAKER_TRAINING_IMAGE, SAGEMAKER_ROLE_ARN (vigil needs iam:PassRole on it), SAGEMAKER_OUTPUT_S3_URI, SAGEMAKER_TRAINING_INSTANCE_TYPE (and its quota) and that the role can read the manifests',
    );
  });

  it('does not retry a refused request or an exhausted quota', async () => {
    sagemaker
      .on(CreateTrainingJobCommand)
      .rejectsOnce(sdkError('ValidationException', 'Invalid S3Uri: manifest not found', 400))
      .rejectsOnce(
        new ResourceLimitExceeded({
          message: 'The account-level service limit for ml.g4dn.xlarge is 0 Instances',
          $metadata: { httpStatusCode: 400 },
        }),
      );
    await expect(trainer.start(request)).rejects.toMatchObject({
      name: 'Vigil.DetectorError',
      message: expect.stringMatching(/^sagemaker:CreateTrainingJob failed \(ValidationException\): Invalid S3Uri/),
    });
    await expect(trainer.start(request)).rejects.toMatchObject({
      name: 'Vigil.DetectorError',
      message: expect.stringContaining('SAGEMAKER_TRAINING_INSTANCE_TYPE (and its quota)'),
    });
  });
});

describe('the SageMaker deployer', () => {
  const deployerOptions = {
    inferenceImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/vigil-anomaly-serve:3',
    roleArn: 'arn:aws:iam::123456789012:role/vigil-sagemaker',
    endpointInstanceType: 'ml.m5.xlarge',
    endpointName: 'vigil-anomaly',
    pollIntervalMs: 1,
    timeoutMs: 200,
  };
  const deployer = new SageMakerDeployer(client, deployerOptions);
  const oldJob = 'vigil-cm3old000000vigil7f3q9z0';
  const target: ExternalModel = {
    modelVersionId: 'cm3x8k2p50000vigil7f3q9z1',
    externalVersion: jobName,
    artifactUri: `s3://vigil-models/sagemaker/${jobName}/output/model.tar.gz`,
  };
  const previous: ExternalModel = {
    modelVersionId: 'cm3old000000vigil7f3q9z0',
    externalVersion: oldJob,
    artifactUri: `s3://vigil-models/sagemaker/${oldJob}/output/model.tar.gz`,
  };

  function endpoint(
    EndpointStatus: DescribeEndpointOutput['EndpointStatus'],
    EndpointConfigName: string,
    extra: Partial<DescribeEndpointOutput> = {},
  ): DescribeEndpointOutput {
    return {
      EndpointName: 'vigil-anomaly',
      EndpointArn: 'arn:aws:sagemaker:eu-west-1:123456789012:endpoint/vigil-anomaly',
      EndpointConfigName,
      EndpointStatus,
      CreationTime: new Date('2025-01-10T08:00:00Z'),
      LastModifiedTime: new Date('2025-03-02T12:00:00Z'),
      ...extra,
    };
  }
  const updating = endpoint('Updating', oldJob, {
    PendingDeploymentSummary: { EndpointConfigName: jobName, StartTime: new Date('2025-03-02T12:00:00Z') },
  });

  /** Command names in the order the client received them. */
  const sequence = () =>
    sagemaker.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''));

  it('creates the model and its endpoint config, then points the endpoint at them', async () => {
    sagemaker.on(CreateModelCommand).resolves({ ModelArn: `arn:aws:sagemaker:eu-west-1:123456789012:model/${jobName}` });
    sagemaker
      .on(CreateEndpointConfigCommand)
      .resolves({ EndpointConfigArn: `arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/${jobName}` });
    sagemaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(endpoint('InService', oldJob))
      .resolvesOnce(updating)
      .resolves(endpoint('InService', jobName));
    sagemaker.on(UpdateEndpointCommand).resolves({ EndpointArn: 'arn:aws:sagemaker:eu-west-1:123456789012:endpoint/vigil-anomaly' });

    await deployer.deploy(target, previous);

    expect(sequence()).toEqual([
      'CreateModel',
      'CreateEndpointConfig',
      'DescribeEndpoint',
      'UpdateEndpoint',
      'DescribeEndpoint',
      'DescribeEndpoint',
    ]);
    expect(sagemaker.commandCalls(CreateModelCommand)[0].args[0].input).toEqual({
      ModelName: jobName,
      PrimaryContainer: { Image: deployerOptions.inferenceImage, ModelDataUrl: target.artifactUri },
      ExecutionRoleArn: deployerOptions.roleArn,
      Tags: [{ Key: 'vigil:model-version-id', Value: 'cm3x8k2p50000vigil7f3q9z1' }],
    });
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)[0].args[0].input).toEqual({
      EndpointConfigName: jobName,
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: jobName, InstanceType: 'ml.m5.xlarge', InitialInstanceCount: 1 }],
      Tags: [{ Key: 'vigil:model-version-id', Value: 'cm3x8k2p50000vigil7f3q9z1' }],
    });
    expect(sagemaker.commandCalls(UpdateEndpointCommand)[0].args[0].input).toEqual({
      EndpointName: 'vigil-anomaly',
      EndpointConfigName: jobName,
    });
    expect(sagemaker.commandCalls(DescribeEndpointCommand)[0].args[0].input).toEqual({ EndpointName: 'vigil-anomaly' });
  });

  it('treats a model and config that already exist as made, on a retried step', async () => {
    sagemaker
      .on(CreateModelCommand)
      .rejects(
        sdkError(
          'ValidationException',
          `Cannot create already existing model "arn:aws:sagemaker:eu-west-1:123456789012:model/${jobName}".`,
          400,
        ),
      );
    sagemaker
      .on(CreateEndpointConfigCommand)
      .rejects(
        sdkError(
          'ValidationException',
          `Cannot create already existing endpoint configuration "arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/${jobName}".`,
          400,
        ),
      );
    sagemaker.on(DescribeEndpointCommand).resolvesOnce(endpoint('InService', oldJob)).resolves(endpoint('InService', jobName));
    await new SageMakerDeployer(client, { ...deployerOptions, waitForInService: false }).deploy(target, previous);
    expect(sequence()).toEqual(['CreateModel', 'CreateEndpointConfig', 'DescribeEndpoint', 'UpdateEndpoint']);
  });

  it('changes nothing when the endpoint already serves the target', async () => {
    sagemaker.on(CreateModelCommand).rejects(sdkError('ValidationException', 'Cannot create already existing model "m".', 400));
    sagemaker
      .on(CreateEndpointConfigCommand)
      .rejects(sdkError('ValidationException', 'Cannot create already existing endpoint configuration "c".', 400));
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', jobName));
    await deployer.deploy(target, previous);
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
    expect(sagemaker).not.toHaveReceivedCommand(CreateEndpointCommand);
  });

  it('waits on an update an earlier attempt started instead of updating again', async () => {
    sagemaker.on(DescribeEndpointCommand).resolvesOnce(updating).resolvesOnce(updating).resolves(endpoint('InService', jobName));
    await deployer.deploy(target, previous);
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
    expect(sagemaker).toHaveReceivedCommandTimes(DescribeEndpointCommand, 3);
  });

  it('creates the endpoint on the first deploy', async () => {
    sagemaker
      .on(DescribeEndpointCommand)
      .rejectsOnce(
        sdkError('ValidationException', 'Could not find endpoint "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/vigil-anomaly".', 400),
      )
      .resolvesOnce(endpoint('Creating', jobName))
      .resolves(endpoint('InService', jobName));
    await deployer.deploy(target, null);
    expect(sequence()).toEqual([
      'CreateModel',
      'CreateEndpointConfig',
      'DescribeEndpoint',
      'CreateEndpoint',
      'DescribeEndpoint',
      'DescribeEndpoint',
    ]);
    expect(sagemaker.commandCalls(CreateEndpointCommand)[0].args[0].input).toEqual({
      EndpointName: 'vigil-anomaly',
      EndpointConfigName: jobName,
    });
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  it('reports an update SageMaker rolled back, with the old model still serving', async () => {
    sagemaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(endpoint('InService', oldJob))
      .resolvesOnce(updating)
      .resolves(
        endpoint('InService', oldJob, {
          FailureReason: 'The primary container for production variant AllTraffic did not pass the ping health check.',
        }),
      );
    await expect(deployer.deploy(target, previous)).rejects.toMatchObject({
      name: 'Vigil.DetectorError',
      message: `SageMaker endpoint vigil-anomaly did not take ${jobName} and kept serving ${oldJob}: The primary container for production variant AllTraffic did not pass the ping health check.`,
    });
  });

  it('asks for a retry while the endpoint is busy with another update', async () => {
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves(endpoint('Updating', oldJob, { PendingDeploymentSummary: { EndpointConfigName: 'someone-elses-config' } }));
    await expect(deployer.deploy(target, previous)).rejects.toBeInstanceOf(TransientDetectorError);
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  it('refuses to update a failed endpoint and says so', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('Failed', oldJob, { FailureReason: 'Image not found' }));
    await expect(deployer.deploy(target, previous)).rejects.toThrow(
      'SageMaker endpoint vigil-anomaly is Failed (Image not found): repair or delete it, then deploy again',
    );
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  it('gives up waiting with a retryable error', async () => {
    sagemaker.on(DescribeEndpointCommand).resolvesOnce(endpoint('InService', oldJob)).resolves(updating);
    const quick = new SageMakerDeployer(client, { ...deployerOptions, timeoutMs: 20 });
    await expect(quick.deploy(target, previous)).rejects.toThrow(
      new TransientDetectorError('SageMaker endpoint vigil-anomaly is still Updating after 0.02 s'),
    );
  });

  it('needs the training’s model artifact', async () => {
    await expect(deployer.deploy({ ...target, artifactUri: null }, previous)).rejects.toThrow(/left no model artifact/);
    expect(sagemaker.calls()).toHaveLength(0);
  });

  it('turns a throttled UpdateEndpoint into a retryable error and a denied CreateModel into a clear one', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', oldJob));
    sagemaker.on(UpdateEndpointCommand).rejects(sdkError('ThrottlingException', 'Rate exceeded', 400));
    await expect(deployer.deploy(target, previous)).rejects.toMatchObject({ name: 'Vigil.TransientError' });

    sagemaker.on(CreateModelCommand).rejects(sdkError('AccessDeniedException', 'not authorized to perform iam:PassRole', 400));
    await expect(deployer.deploy(target, previous)).rejects.toMatchObject({
      name: 'Vigil.DetectorError',
      message: expect.stringMatching(
        /^sagemaker:CreateModel was denied: .*"sagemaker:CreateModel" permission.*Check SAGEMAKER_INFERENCE_IMAGE and SAGEMAKER_ROLE_ARN \(vigil needs iam:PassRole on it\)$/,
      ),
    });
  });
});

describe('the AWS trainer factory for SageMaker', () => {
  const env = {
    INSPECT_DETECTOR: 'sagemaker',
    SAGEMAKER_ENDPOINT_NAME: 'vigil-anomaly',
    SAGEMAKER_TRAINING_IMAGE: settings.trainingImage,
    SAGEMAKER_INFERENCE_IMAGE: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/vigil-anomaly-serve:3',
    SAGEMAKER_ROLE_ARN: settings.roleArn,
    SAGEMAKER_OUTPUT_S3_URI: 's3://vigil-models/sagemaker',
    SAGEMAKER_MAX_TRAINING_SECONDS: '3600',
  };

  it('builds the SageMaker pair from the settings', async () => {
    const config = loadConfig(env);
    const built = createExternalTrainer(config, { sagemaker: client });
    expect(built).toBeInstanceOf(SageMakerTrainer);
    sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn' });
    await built!.start(request);
    expect(sagemaker).toHaveReceivedCommandWith(CreateTrainingJobCommand, {
      RoleArn: settings.roleArn,
      OutputDataConfig: { S3OutputPath: 's3://vigil-models/sagemaker' },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    });

    const deployer = createExternalDeployer(config, { sagemaker: client });
    expect(deployer).toBeInstanceOf(SageMakerDeployer);
    sagemaker
      .on(DescribeEndpointCommand)
      .resolvesOnce({
        EndpointName: 'vigil-anomaly',
        EndpointArn: 'arn',
        EndpointConfigName: 'old',
        EndpointStatus: 'InService',
        CreationTime: new Date(),
        LastModifiedTime: new Date(),
      })
      .resolves({
        EndpointName: 'vigil-anomaly',
        EndpointArn: 'arn',
        EndpointConfigName: jobName,
        EndpointStatus: 'InService',
        CreationTime: new Date(),
        LastModifiedTime: new Date(),
      });
    await deployer!.deploy({ modelVersionId: 'mv', externalVersion: jobName, artifactUri: 's3://vigil-models/m.tar.gz' }, null);
    expect(sagemaker).toHaveReceivedCommandWith(CreateModelCommand, {
      PrimaryContainer: { Image: env.SAGEMAKER_INFERENCE_IMAGE, ModelDataUrl: 's3://vigil-models/m.tar.gz' },
    });
    expect(sagemaker).toHaveReceivedCommandWith(CreateEndpointConfigCommand, {
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: jobName, InstanceType: 'ml.m5.xlarge', InitialInstanceCount: 1 }],
    });
    expect(sagemaker).toHaveReceivedCommandWith(UpdateEndpointCommand, { EndpointName: 'vigil-anomaly', EndpointConfigName: jobName });
  });

  it('names the settings SageMaker training still needs', () => {
    const config = loadConfig({
      INSPECT_DETECTOR: 'sagemaker',
      SAGEMAKER_ENDPOINT_NAME: 'vigil-anomaly',
      SAGEMAKER_TRAINING_IMAGE: settings.trainingImage,
    });
    expect(config.models.sagemaker).toBeNull();
    const message = /set SAGEMAKER_TRAINING_IMAGE, SAGEMAKER_ROLE_ARN and SAGEMAKER_OUTPUT_S3_URI/;
    expect(() => createExternalTrainer(config, { sagemaker: client })).toThrow(ConfigError);
    expect(() => createExternalTrainer(config, { sagemaker: client })).toThrow(message);
    expect(() => createExternalDeployer(config, { sagemaker: client })).toThrow(message);
  });

  it('returns nothing for the built-in detector', () => {
    expect(createExternalTrainer(loadConfig({}), { sagemaker: client })).toBeNull();
    expect(createExternalDeployer(loadConfig({}), { sagemaker: client })).toBeNull();
  });
});
