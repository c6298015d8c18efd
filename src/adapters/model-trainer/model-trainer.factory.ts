import { LookoutVisionClient } from '@aws-sdk/client-lookoutvision';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { ConfigError, type Config } from '../../config/config';
import { type ExternalDeployer, type ExternalTrainer } from './model-trainer.port';
import { LookoutDeployer, LookoutTrainer } from './lookout.driver';
import { SageMakerDeployer, SageMakerTrainer } from './sagemaker.driver';

export { LookoutDeployer, LookoutTrainer } from './lookout.driver';
export { SageMakerDeployer, SageMakerTrainer } from './sagemaker.driver';

/** SDK clients to use (tests pass mocked ones); a missing one is built for config.detectors.region. */
export interface AwsTrainerClients {
  lookout?: LookoutVisionClient;
  sagemaker?: SageMakerClient;
}

type LookoutInspect = Extract<Config['detectors']['inspect'], { kind: 'lookout-for-vision' }>;

/** Lookout trains on the datasets of one project and hosts the result in that same project. */
function lookoutProject(config: Config, inspect: LookoutInspect): string {
  const datasets = config.datasets.lookoutProject;
  if (datasets && datasets !== inspect.projectName) {
    throw new ConfigError([
      `LOOKOUT_DATASET_PROJECT=${JSON.stringify(datasets)} and LOOKOUT_PROJECT_NAME=${JSON.stringify(inspect.projectName)}: Lookout for Vision trains on a project's own datasets and hosts the model in that project, so both must name the same project`,
    ]);
  }
  return inspect.projectName;
}

function sagemakerSettings(config: Config): NonNullable<Config['models']['sagemaker']> {
  if (!config.models.sagemaker) {
    throw new ConfigError([
      'INSPECT_DETECTOR=sagemaker trains and deploys models in SageMaker: set SAGEMAKER_TRAINING_IMAGE, SAGEMAKER_ROLE_ARN and SAGEMAKER_OUTPUT_S3_URI',
    ]);
  }
  return config.models.sagemaker;
}

const lookoutClient = (config: Config, clients: AwsTrainerClients) => clients.lookout ?? new LookoutVisionClient({ region: config.detectors.region });
const sagemakerClient = (config: Config, clients: AwsTrainerClients) => clients.sagemaker ?? new SageMakerClient({ region: config.detectors.region });

/** The trainer for the configured inspect detector, or null when INSPECT_DETECTOR is the built-in one. */
export function createExternalTrainer(config: Config, clients: AwsTrainerClients = {}): ExternalTrainer | null {
  const inspect = config.detectors.inspect;
  switch (inspect.kind) {
    case 'builtin':
      return null;
    case 'lookout-for-vision': {
      const projectName = lookoutProject(config, inspect);
      const outputS3Uri = config.models.lookout.outputS3Uri;
      if (!outputS3Uri) {
        throw new ConfigError(['INSPECT_DETECTOR=lookout-for-vision trains models in Lookout for Vision: set LOOKOUT_OUTPUT_S3_URI (s3://bucket/prefix for training results)']);
      }
      return new LookoutTrainer(lookoutClient(config, clients), { projectName, outputS3Uri });
    }
    case 'sagemaker':
      return new SageMakerTrainer(sagemakerClient(config, clients), sagemakerSettings(config));
  }
}

/** The deployer for the configured inspect detector, or null when INSPECT_DETECTOR is the built-in one. */
export function createExternalDeployer(config: Config, clients: AwsTrainerClients = {}): ExternalDeployer | null {
  const inspect = config.detectors.inspect;
  switch (inspect.kind) {
    case 'builtin':
      return null;
    case 'lookout-for-vision': {
      const { minInferenceUnits, maxInferenceUnits } = config.models.lookout;
      return new LookoutDeployer(lookoutClient(config, clients), { projectName: lookoutProject(config, inspect), minInferenceUnits, maxInferenceUnits });
    }
    case 'sagemaker': {
      const settings = sagemakerSettings(config);
      return new SageMakerDeployer(sagemakerClient(config, clients), {
        inferenceImage: settings.inferenceImage,
        roleArn: settings.roleArn,
        endpointInstanceType: settings.endpointInstanceType,
        endpointName: inspect.endpointName,
      });
    }
  }
}
