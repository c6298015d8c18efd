import { LookoutVisionClient } from '@aws-sdk/client-lookoutvision';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { type Checked, ConfigError, type Config, deployerSettings, trainerSettings } from '../../config/config';
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

const lookoutClient = (config: Config, clients: AwsTrainerClients) =>
  clients.lookout ?? new LookoutVisionClient({ region: config.detectors.region });
const sagemakerClient = (config: Config, clients: AwsTrainerClients) =>
  clients.sagemaker ?? new SageMakerClient({ region: config.detectors.region });

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
      return new LookoutTrainer(lookoutClient(config, clients), { projectName: settings.projectName, outputS3Uri: settings.outputS3Uri });
    case 'sagemaker':
      return new SageMakerTrainer(sagemakerClient(config, clients), settings.sagemaker);
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
      return new LookoutDeployer(lookoutClient(config, clients), { projectName, minInferenceUnits, maxInferenceUnits });
    }
    case 'sagemaker': {
      const { inferenceImage, roleArn, endpointInstanceType, endpointName } = settings;
      return new SageMakerDeployer(sagemakerClient(config, clients), { inferenceImage, roleArn, endpointInstanceType, endpointName });
    }
  }
}
