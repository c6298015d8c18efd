import { type LookoutVisionClient } from '@aws-sdk/client-lookoutvision';
import { type SageMakerA2IRuntimeClient } from '@aws-sdk/client-sagemaker-a2i-runtime';
import { type Config } from '../../config/config';
import { type LookoutDatasetSink } from '../dataset-sink/lookout.driver';
import { type HumanReviewPort } from './human-review.port';

// The drivers and their AWS SDK clients load only when A2I or a Lookout dataset project is configured.
const a2i = () => require('./a2i.driver') as typeof import('./a2i.driver');
const a2iSdk = () => require('@aws-sdk/client-sagemaker-a2i-runtime') as typeof import('@aws-sdk/client-sagemaker-a2i-runtime');
const lookout = () => require('../dataset-sink/lookout.driver') as typeof import('../dataset-sink/lookout.driver');
const lookoutSdk = () => require('@aws-sdk/client-lookoutvision') as typeof import('@aws-sdk/client-lookoutvision');

/** SDK clients to use (tests pass mocked ones); a missing one is built for AWS_REGION. */
export interface ReviewClients {
  a2i?: SageMakerA2IRuntimeClient;
  lookout?: LookoutVisionClient;
}

/** Amazon A2I when HUMAN_REVIEW=a2i; null for the built-in reviewer page alone. */
export function createHumanReview(config: Pick<Config, 'reviews' | 'detectors'>, clients: ReviewClients = {}): HumanReviewPort | null {
  const review = config.reviews.humanReview;
  if (review.kind !== 'a2i') return null;
  return new (a2i().A2IHumanReview)({
    client: clients.a2i ?? new (a2iSdk().SageMakerA2IRuntimeClient)({ region: config.detectors.region }),
    flowDefinitionArn: review.flowDefinitionArn,
  });
}

/** UpdateDatasetEntries for LOOKOUT_DATASET_PROJECT; null when none is configured. */
export function createLookoutDatasets(
  config: Pick<Config, 'datasets' | 'detectors'>,
  clients: ReviewClients = {},
): LookoutDatasetSink | null {
  const project = config.datasets.lookoutProject;
  if (!project) return null;
  return new (lookout().LookoutDatasetSink)({
    client: clients.lookout ?? new (lookoutSdk().LookoutVisionClient)({ region: config.detectors.region }),
    projectName: project,
  });
}
