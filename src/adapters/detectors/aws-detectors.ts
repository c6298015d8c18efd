import { LookoutVisionClient } from '@aws-sdk/client-lookoutvision';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { type Config } from '../../config/config';
import { type InspectDetector, type ScreenDetector } from './detector.port';
import { LookoutForVisionDetector } from './lookout.driver';
import { RekognitionCustomLabelsDetector, RekognitionLabelsDetector } from './rekognition.driver';
import { SageMakerBatchDetector } from './sagemaker-batch.driver';
import { SageMakerAnomalyDetector } from './sagemaker.driver';

export { LOOKOUT_DEPRECATION_NOTICE } from './lookout.driver';

/** SDK clients to use (tests pass mocked ones); a missing one is built for config.detectors.region. */
export interface AwsDetectorClients {
  rekognition?: RekognitionClient;
  lookout?: LookoutVisionClient;
  sagemaker?: SageMakerRuntimeClient;
}

/** The configured AWS screen detector, or null when SCREEN_DETECTOR is the built-in one. */
export function createAwsScreenDetector(detectors: Config['detectors'], clients: AwsDetectorClients = {}): ScreenDetector | null {
  const screen = detectors.screen;
  if (screen.kind === 'builtin') return null;
  const client = clients.rekognition ?? new RekognitionClient({ region: detectors.region });
  return screen.kind === 'rekognition-labels'
    ? new RekognitionLabelsDetector(client, screen)
    : new RekognitionCustomLabelsDetector(client, screen);
}

/** The configured AWS inspect detector, or null when INSPECT_DETECTOR is the built-in one. */
export function createAwsInspectDetector(detectors: Config['detectors'], clients: AwsDetectorClients = {}): InspectDetector | null {
  const inspect = detectors.inspect;
  switch (inspect.kind) {
    case 'builtin':
      return null;
    case 'lookout-for-vision':
      return new LookoutForVisionDetector(clients.lookout ?? new LookoutVisionClient({ region: detectors.region }), inspect);
    case 'sagemaker-batch':
      return new SageMakerBatchDetector(inspect);
    case 'sagemaker':
      return new SageMakerAnomalyDetector(clients.sagemaker ?? new SageMakerRuntimeClient({ region: detectors.region }), inspect);
  }
}
