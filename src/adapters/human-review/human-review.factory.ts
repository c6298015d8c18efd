import { LookoutVisionClient } from '@aws-sdk/client-lookoutvision';
import { SageMakerA2IRuntimeClient } from '@aws-sdk/client-sagemaker-a2i-runtime';
import { type Config } from '../../config/config';
import { LookoutDatasetSink } from '../dataset-sink/lookout.driver';
import { A2IHumanReview } from './a2i.driver';
import { type HumanReviewPort } from './human-review.port';

/** SDK clients to use (tests pass mocked ones); a missing one is built for AWS_REGION. */
export interface ReviewClients {
  a2i?: SageMakerA2IRuntimeClient;
  lookout?: LookoutVisionClient;
}

/** Amazon A2I when HUMAN_REVIEW=a2i; null for the built-in reviewer page alone. */
export function createHumanReview(config: Pick<Config, 'reviews' | 'detectors'>, clients: ReviewClients = {}): HumanReviewPort | null {
  const review = config.reviews.humanReview;
  if (review.kind !== 'a2i') return null;
  return new A2IHumanReview({
    client: clients.a2i ?? new SageMakerA2IRuntimeClient({ region: config.detectors.region }),
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
  return new LookoutDatasetSink({
    client: clients.lookout ?? new LookoutVisionClient({ region: config.detectors.region }),
    projectName: project,
  });
}
