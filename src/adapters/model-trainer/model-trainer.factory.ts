import { type LookoutVisionClient } from '@aws-sdk/client-lookoutvision';
import { type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { type Checked, ConfigError, type Config, deployerSettings, trainerSettings } from '../../config/config';
import { type ExternalDeployer, type ExternalTrainer } from './model-trainer.port';

// The drivers and their AWS SDK clients load only when an AWS inspect detector is configured.
const lookout = () => require('./lookout.driver') as typeof import('./lookout.driver');
const sagemaker = () => require('./sagemaker.driver') as typeof import('./sagemaker.driver');

/** SDK clients to use (tests pass mocked ones); a missing one is built for config.detectors.region. */
export interface AwsTrainerClients {
  lookout?: LookoutVisionClient;
  sagemaker?: SageMakerClient;
}

const lookoutClient = (config: Config, clients: AwsTrainerClients) =>
  clients.lookout ??
  new (require('@aws-sdk/client-lookoutvision') as typeof import('@aws-sdk/client-lookoutvision')).LookoutVisionClient({
    region: config.detectors.region,
  });
const sagemakerClient = (config: Config, clients: AwsTrainerClients) =>
  clients.sagemaker ??
  new (require('@aws-sdk/client-sagemaker') as typeof import('@aws-sdk/client-sagemaker')).SageMakerClient({
    region: config.detectors.region,
  });

/** The settings config found, or a ConfigError naming what is missing (start-up turns it into "unavailable"). */
function settingsOrThrow<T>(checked: Checked<T>): T {
  if ('unavailable' in checked) throw new ConfigError([checked.unavailable]);
  return checked.ok;
}

/** The trainer for the configured inspect detector, or null when INSPECT_DETECTOR is the built-in one. */
export function createExternalTrainer(config: Config, clients: AwsTrainerClients = {}): ExternalTrainer | null {
  const checked = trainerSettings(config);
  if (!checked) return null;
  const settings = settingsOrThrow(checked);
  switch (settings.kind) {
    case 'lookout-for-vision':
      return new (lookout().LookoutTrainer)(lookoutClient(config, clients), {
        projectName: settings.projectName,
        outputS3Uri: settings.outputS3Uri,
      });
    case 'sagemaker':
      return new (sagemaker().SageMakerTrainer)(sagemakerClient(config, clients), settings.sagemaker);
  }
}

/** The deployer for the configured inspect detector, or null when INSPECT_DETECTOR is the built-in one. */
export function createExternalDeployer(config: Config, clients: AwsTrainerClients = {}): ExternalDeployer | null {
  const checked = deployerSettings(config);
  if (!checked) return null;
  const settings = settingsOrThrow(checked);
  switch (settings.kind) {
    case 'lookout-for-vision': {
      const { projectName, minInferenceUnits, maxInferenceUnits } = settings;
      return new (lookout().LookoutDeployer)(lookoutClient(config, clients), { projectName, minInferenceUnits, maxInferenceUnits });
    }
    case 'sagemaker': {
      const { inferenceImage, roleArn, endpointInstanceType, endpointName } = settings;
      return new (sagemaker().SageMakerDeployer)(sagemakerClient(config, clients), {
        inferenceImage,
        roleArn,
        endpointInstanceType,
        endpointName,
      });
    }
  }
}
