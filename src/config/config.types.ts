import { type DetectorsConfig } from './detector-settings';
import { type LimitsConfig } from './limits-settings';
import { type WebhooksConfig } from './webhook-settings';
import { type ModelsConfig } from './model-settings';
import { type DatasetsConfig, type ReviewsConfig } from './review-settings';
import { type ServerConfig } from './server-settings';

/** Every setting, typed and grouped by area: what loadConfig returns. */
export interface Config extends ServerConfig {
  detectors: DetectorsConfig;
  reviews: ReviewsConfig;
  datasets: DatasetsConfig;
  models: ModelsConfig;
  limits: LimitsConfig;
  webhooks: WebhooksConfig;
}
