import { type Config } from '../config/config';
import { type Database } from '../db/database';
import { AnomalyService } from '../anomalies/anomaly.service';
import { ApiKeyService } from '../auth/api-key.service';
import { DeviceService } from '../devices/device.service';
import { ImageService } from '../images/image.service';
import { InspectionService } from '../inspections/inspection.service';
import { type ObjectStore, type Presigner } from '../adapters/object-store/object-store.port';
import { UploadService } from '../images/upload.service';
import { SurveyService } from '../surveys/survey.service';
import { DetectionService } from '../detections/detection.service';
import { type Detectors } from '../detectors/detectors';
import { type EventBus } from '../events/event-bus.port';
import { type Logger } from '../logging/logger';
import { ReviewTaskService } from '../reviews/review-task.service';
import { CostService } from '../costs/cost.service';
import { WorkflowRunService } from '../workflows/workflow-run.service';
import { DatasetService } from '../datasets/dataset.service';
import { type LookoutDatasetSink } from '../datasets/lookout-dataset.sink';
import { type HumanReviewPort } from '../reviews/human-review.port';
import { ReviewService } from '../reviews/review.service';

/** The business logic, shared by resolvers, workflow handlers and the CLI. */
export interface Services {
  devices: DeviceService;
  inspections: InspectionService;
  images: ImageService;
  anomalies: AnomalyService;
  apiKeys: ApiKeyService;
  uploads: UploadService;
  surveys: SurveyService;
  detections: DetectionService;
  reviews: ReviewTaskService;
  reviewLifecycle: ReviewService;
  datasets: DatasetService;
  workflowRuns: WorkflowRunService;
  costs: CostService;
  events: EventBus;
}

export interface WorkflowDeps {
  events: EventBus;
  detectors: Detectors;
  /** The S3 bucket when images live in S3, for detectors that read S3 themselves. */
  bucket: string | null;
  /** The S3 bucket of the object store (any region or endpoint), for Distributed Map manifests. */
  manifestBucket: string | null;
  log: Logger;
  /** Amazon A2I when HUMAN_REVIEW=a2i. */
  humanReview?: HumanReviewPort | null;
  /** UpdateDatasetEntries for LOOKOUT_DATASET_PROJECT. */
  lookoutDatasets?: LookoutDatasetSink | null;
}

/** How a stored object is named in a dataset manifest. */
export function objectUri(store: Config['objectStore']): (key: string) => string {
  return store.kind === 's3' ? (key) => `s3://${store.bucket}/${key}` : (key) => `file://${store.root}/${key}`;
}

export interface UploadDeps {
  store: ObjectStore & Partial<Presigner>;
  signingSecret: string;
  baseUrl: () => string;
}

export function createServices(
  db: Database,
  config: Pick<Config, 'pagination' | 'auth' | 'uploads' | 'gpsMatch' | 'workflows' | 'detectors' | 'objectStore' | 'reviews' | 'datasets'>,
  uploadDeps: UploadDeps,
  workflow: WorkflowDeps,
): Services {
  const { prisma } = db;
  const limits = config.pagination;
  const devices = new DeviceService(prisma, limits);
  const inspections = new InspectionService(prisma, limits);
  const surveys = new SurveyService(prisma, devices, inspections, limits, config.gpsMatch);
  const uploads = new UploadService(prisma, uploadDeps.store, {
    limits: config.uploads.limits,
    derivatives: config.uploads.derivatives,
    urlTtlSeconds: config.uploads.urlTtlSeconds,
    signingSecret: uploadDeps.signingSecret,
    baseUrl: uploadDeps.baseUrl,
  }, surveys);
  const reviews = new ReviewTaskService({
    prisma,
    settings: {
      consensus: config.reviews.consensus,
      qaShare: config.reviews.qaShare,
      anomalyTypes: config.reviews.anomalyTypes,
      leaseSeconds: config.reviews.leaseSeconds,
      humanReview: config.reviews.humanReview.kind,
    },
    limits,
    events: workflow.events,
    humanReview: workflow.humanReview ?? null,
    store: uploadDeps.store,
    bucket: config.objectStore.kind === 's3' ? config.objectStore.bucket : null,
    log: workflow.log,
  });
  const datasets = new DatasetService({
    prisma,
    store: uploadDeps.store,
    objectUri: objectUri(config.objectStore),
    settings: { testShare: config.datasets.testShare, anomalyTypes: config.reviews.anomalyTypes },
    lookout: workflow.lookoutDatasets ?? null,
    limits,
    log: workflow.log,
  });
  const detections = new DetectionService({
    prisma,
    store: uploadDeps.store,
    bucket: workflow.bucket,
    uploads,
    screen: workflow.detectors.screen,
    inspect: workflow.detectors.inspect,
    prices: config.detectors.prices,
    reviews,
    events: workflow.events,
    log: workflow.log,
  });
  return {
    devices,
    inspections,
    surveys,
    images: new ImageService(prisma),
    anomalies: new AnomalyService(prisma, limits),
    apiKeys: new ApiKeyService(prisma, { cacheMs: config.auth.apiKeyCacheMs, limits }),
    uploads,
    detections,
    reviews,
    datasets,
    reviewLifecycle: new ReviewService({
      prisma,
      tasks: reviews,
      datasets,
      detections,
      events: workflow.events,
      settings: {
        leaseSeconds: config.reviews.leaseSeconds,
        anomalyTypes: config.reviews.anomalyTypes,
        maxHumanLoops: config.reviews.humanReview.kind === 'a2i' ? config.reviews.humanReview.maxLoops : 1,
      },
      log: workflow.log,
    }),
    workflowRuns: new WorkflowRunService(prisma, detections, workflow.events, {
        mapConcurrency: config.workflows.mapConcurrency,
        autoStart: config.workflows.autoStart,
        manifests: { store: uploadDeps.store, bucket: workflow.manifestBucket },
        distributedSurveys: config.workflows.engine === 'stepfunctions' && !!config.workflows.stepFunctions.detectSurveyArn,
      }, workflow.log),
    costs: new CostService(prisma, { prices: config.detectors.prices, screen: workflow.detectors.screen.name, inspect: workflow.detectors.inspect.name }),
    events: workflow.events,
  };
}
