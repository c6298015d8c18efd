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
import { BatchInspectionService } from '../detections/batch-inspection.service';
import { type Detectors } from '../adapters/detectors/detectors.factory';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { type Logger } from '../logging/logger';
import { ReviewQueue } from '../reviews/review-queue.service';
import { CostService } from '../costs/cost.service';
import { WorkflowRunService } from '../workflows/workflow-run.service';
import { DatasetService } from '../datasets/dataset.service';
import { type LookoutDatasetSink } from '../adapters/dataset-sink/lookout.driver';
import { type HumanReviewPort } from '../adapters/human-review/human-review.port';
import { ReviewLifecycle } from '../reviews/review-lifecycle.service';
import { type StoredModels } from '../models/model-artifacts';
import { type BackboneProvider } from '../adapters/backbone/backbone.factory';
import { ModelTrainingService, ModelVersionQueries } from '../models/training.service';
import { type TrainingThreadSettings } from '../models/training.types';
import { DatasetImportService } from '../datasets/dataset-import.service';
import { ModelDeploymentService } from '../models/deployment.service';
import { ModelHealthService } from '../models/model-health.service';
import { type ExternalDeployer, type ExternalTrainer } from '../adapters/model-trainer/model-trainer.port';
import { lookoutVersionName } from '../adapters/detectors/version-names';
import { DefectTracker } from '../repairs/defect-tracker.service';
import { DefectService } from '../repairs/defect.service';
import { WorkOrderService } from '../repairs/work-order.service';
import { FieldReports } from '../repairs/field-report.service';
import { RepairRules } from '../repairs/repair-rules.service';
import { RepairQueueService } from '../repairs/repair-queue.service';
import { WebhookEndpointService } from '../webhooks/webhook-endpoint.service';
import { WebhookSender } from '../webhooks/webhook-sender';
import { type WebhookTransport } from '../adapters/webhook-transport/webhook-transport.port';
import { ExportService } from '../exports/export.service';
import { ReportService } from '../reports/report.service';
import { DataLakeService } from '../datalake/datalake.service';

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
  batchInspection: BatchInspectionService;
  reviewQueue: ReviewQueue;
  reviewLifecycle: ReviewLifecycle;
  datasets: DatasetService;
  workflowRuns: WorkflowRunService;
  costs: CostService;
  datasetImports: DatasetImportService;
  modelTraining: ModelTrainingService;
  modelVersions: ModelVersionQueries;
  modelDeployments: ModelDeploymentService;
  modelHealth: ModelHealthService;
  defectTracker: DefectTracker;
  defects: DefectService;
  workOrders: WorkOrderService;
  fieldReports: FieldReports;
  repairRules: RepairRules;
  repairQueue: RepairQueueService;
  webhooks: WebhookEndpointService;
  /** Sends the outbox's due deliveries once started (the server starts it). */
  webhookSender: WebhookSender;
  exports: ExportService;
  reports: ReportService;
  /** Incremental Parquet export of inspections, detections, anomalies, defects and review outcomes. */
  dataLake: DataLakeService;
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
  /** Built-in model files in the object store. */
  storedModels: StoredModels;
  /** The pretrained network the built-in model's features come from, opened on first use. */
  backbone: BackboneProvider;
  /** Where the built-in model trains and is measured off the API's thread; null: on it (MODEL_TRAINING_THREAD=false, or injected clients). */
  trainingThread: TrainingThreadSettings | null;
  /** POSTs signed webhooks to receivers. */
  webhookTransport: WebhookTransport;
  /** Lookout for Vision or SageMaker training and deployment, when the inspect detector is one. */
  externalModels?: { trainer: ExternalTrainer; deployer: ExternalDeployer } | { unavailable: string } | null;
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

type ServiceConfig = Pick<
  Config,
  | 'pagination'
  | 'auth'
  | 'uploads'
  | 'gpsMatch'
  | 'workflows'
  | 'detectors'
  | 'objectStore'
  | 'reviews'
  | 'datasets'
  | 'models'
  | 'webhooks'
>;

/** What each group of services is built from. */
interface Wiring {
  prisma: Database['prisma'];
  config: ServiceConfig;
  uploadDeps: UploadDeps;
  workflow: WorkflowDeps;
}

function fleetServices(
  { prisma, config, uploadDeps, workflow }: Wiring,
  track: (deviceId: string, completingInspectionId?: string) => Promise<void>,
) {
  const limits = config.pagination;
  const devices = new DeviceService(prisma, limits, workflow.events, { afterRefresh: track });
  const inspections = new InspectionService(prisma, limits);
  const surveys = new SurveyService(prisma, devices, inspections, limits, config.gpsMatch);
  const { limits: uploadLimits, derivatives, urlTtlSeconds } = config.uploads;
  const uploads = new UploadService(
    prisma,
    uploadDeps.store,
    { limits: uploadLimits, derivatives, urlTtlSeconds, signingSecret: uploadDeps.signingSecret, baseUrl: uploadDeps.baseUrl },
    surveys,
  );
  return {
    devices,
    inspections,
    surveys,
    uploads,
    images: new ImageService(prisma),
    anomalies: new AnomalyService(prisma, limits),
    apiKeys: new ApiKeyService(prisma, { cacheMs: config.auth.apiKeyCacheMs, limits }),
    // Export links are signed like upload links and live as long.
    exports: new ExportService(prisma, { signingSecret: uploadDeps.signingSecret, ttlSeconds: urlTtlSeconds, baseUrl: uploadDeps.baseUrl }),
    // Report links too; the report is read and rendered when its link is opened.
    reports: new ReportService(prisma, uploadDeps.store, {
      signingSecret: uploadDeps.signingSecret,
      urlTtlSeconds,
      baseUrl: uploadDeps.baseUrl,
    }),
    dataLake: new DataLakeService(prisma, uploadDeps.store),
  };
}

function datasetServices({ prisma, config, uploadDeps, workflow }: Wiring) {
  const common = {
    prisma,
    store: uploadDeps.store,
    objectUri: objectUri(config.objectStore),
    settings: { testShare: config.datasets.testShare, anomalyTypes: config.reviews.anomalyTypes },
    log: workflow.log,
  };
  const datasets = new DatasetService({ ...common, lookout: workflow.lookoutDatasets ?? null, limits: config.pagination });
  return { datasets, datasetImports: new DatasetImportService({ ...common, datasets, importRoot: config.datasets.importRoot }) };
}

function modelServices({ prisma, config, uploadDeps, workflow }: Wiring, datasets: DatasetService) {
  const cloud = workflow.externalModels ?? null;
  const { inspect } = config.detectors;
  const modelTraining: ModelTrainingService = new ModelTrainingService({
    prisma,
    store: uploadDeps.store,
    models: workflow.storedModels,
    backbone: workflow.backbone,
    trainingThread: workflow.trainingThread,
    datasets,
    objectUri: objectUri(config.objectStore),
    external: cloud && 'trainer' in cloud ? cloud.trainer : null,
    unavailable: cloud && 'unavailable' in cloud ? cloud.unavailable : null,
    externalVersionName: (v) =>
      inspect.kind === 'lookout-for-vision' ? lookoutVersionName(inspect.projectName, v) : `sagemaker:${v}`.slice(0, 100),
    settings: {
      pollSeconds: config.models.pollSeconds,
      anomalyTypes: config.reviews.anomalyTypes,
      retrainAfterLabels: config.models.retrainAfterLabels,
      retrainIntervalHours: config.models.retrainIntervalHours,
    },
    onTrained: (version) => modelDeployments.deployIfAutomatic(version),
    log: workflow.log,
  });
  const modelDeployments = new ModelDeploymentService({
    prisma,
    training: modelTraining,
    models: workflow.storedModels,
    external: cloud && 'deployer' in cloud ? cloud.deployer : null,
    settings: { ...config.models.gate, autoDeploy: config.models.autoDeploy },
    log: workflow.log,
  });
  const modelHealth = new ModelHealthService({
    prisma,
    events: workflow.events,
    settings: config.models.health,
    labelsWaiting: (datasetId) => modelTraining.labelsWaiting(datasetId, 'INSPECT'),
    log: workflow.log,
  });
  return { modelTraining, modelDeployments, modelHealth, modelVersions: new ModelVersionQueries(prisma, config.pagination) };
}

function reviewQueue({ prisma, config, uploadDeps, workflow }: Wiring): ReviewQueue {
  const { consensus, qaShare, learning, anomalyTypes, leaseSeconds, humanReview } = config.reviews;
  return new ReviewQueue({
    prisma,
    settings: { consensus, qaShare, learning, anomalyTypes, leaseSeconds, humanReview: humanReview.kind },
    limits: config.pagination,
    events: workflow.events,
    humanReview: workflow.humanReview ?? null,
    store: uploadDeps.store,
    bucket: config.objectStore.kind === 's3' ? config.objectStore.bucket : null,
    log: workflow.log,
  });
}

function repairServices({ prisma, config, workflow }: Wiring, devices: DeviceService, datasets: DatasetService) {
  const defectTracker = new DefectTracker({ prisma, devices, events: workflow.events, log: workflow.log });
  const fieldReports = new FieldReports({ datasets, anomalyTypes: config.reviews.anomalyTypes, log: workflow.log });
  return {
    defectTracker,
    fieldReports,
    defects: new DefectService(prisma, defectTracker, config.pagination),
    workOrders: new WorkOrderService(prisma, defectTracker, fieldReports, config.pagination),
    repairRules: new RepairRules(prisma),
    repairQueue: new RepairQueueService(prisma, config.pagination),
  };
}

function webhookServices({ prisma, config, workflow }: Wiring) {
  const webhookSender = new WebhookSender({ prisma, transport: workflow.webhookTransport, config: config.webhooks, log: workflow.log });
  const settings = { endpointsPerKey: config.webhooks.endpointsPerKey, limits: config.pagination };
  return { webhookSender, webhooks: new WebhookEndpointService(prisma, settings, () => webhookSender.nudge()) };
}

/**
 * Whether images are screened as they become READY: only where the run that takes the verdict runs in this process
 * (the local engine, started by the upload) and the extra work costs CPU, not money (the built-in screen).
 */
function screensAhead({ workflows, detectors }: ServiceConfig): boolean {
  return workflows.screenAhead && workflows.autoStart && workflows.engine === 'local' && detectors.screen.kind === 'builtin';
}

// At most 64 pictures wait for the model's thread (their bytes held meanwhile: up to about 1 MB each at 2048 px).
// Verdicts (a few hundred bytes each) wait for their runs up to 30 minutes, 16,384 at most: about 700 tiled 2048 px
// photos, so a large inspection's first verdicts are still there when its run starts.
const SCREEN_AHEAD = { maxPending: 64, maxKept: 16_384, keptMs: 30 * 60_000 };

/** The runs of the detection workflow: with batch stage 2, detect-inspection-batch (one transform job per run). */
function workflowRunService(
  config: ServiceConfig,
  deps: { prisma: Database['prisma']; detections: DetectionService; devices: DeviceService; events: EventBus; log: Logger },
  manifests: { store: ObjectStore; bucket: string | null },
): WorkflowRunService {
  const { workflows } = config;
  const batch = config.detectors.inspect.kind === 'sagemaker-batch';
  const options = {
    mapConcurrency: workflows.mapConcurrency,
    autoStart: workflows.autoStart,
    manifests,
    // detect-survey's Distributed Map inspects image by image: batch stage 2 runs one job per inspection run instead.
    distributedSurveys: workflows.engine === 'stepfunctions' && !!workflows.stepFunctions.detectSurveyArn && !batch,
    detectWorkflow: batch ? ('detect-inspection-batch' as const) : ('detect-inspection' as const),
  };
  return new WorkflowRunService(deps.prisma, deps.detections, deps.devices, deps.events, options, deps.log);
}

/** Every service, each built once from the adapters it is given: the wiring, and no rules. */
export function createServices(db: Database, config: ServiceConfig, uploadDeps: UploadDeps, workflow: WorkflowDeps): Services {
  const wiring: Wiring = { prisma: db.prisma, config, uploadDeps, workflow };
  const { prisma } = db;
  // The tracker links a device's new anomalies to defects after its status is recomputed; it heals at the next call if it fails.
  const track = (deviceId: string, completingInspectionId?: string) =>
    repairs.defectTracker
      .track(deviceId, completingInspectionId)
      .catch((err) => workflow.log.error({ err, deviceId }, 'defect tracking failed; retried at the next change'));
  const fleet = fleetServices(wiring, track);
  const queue = reviewQueue(wiring);
  const data = datasetServices(wiring);
  const repairs = repairServices(wiring, fleet.devices, data.datasets);
  const models = modelServices(wiring, data.datasets);
  const { detectors, events, log } = workflow;
  const detections = new DetectionService({
    prisma,
    store: uploadDeps.store,
    bucket: workflow.bucket,
    uploads: fleet.uploads,
    screen: detectors.screen,
    inspect: detectors.inspect,
    prices: config.detectors.prices,
    reviews: queue,
    events,
    log,
    screenAhead: screensAhead(config) ? SCREEN_AHEAD : null,
  });
  if (screensAhead(config)) fleet.uploads.onReady((image, pictures) => detections.screenAhead(image, pictures));
  const batchInspection = new BatchInspectionService({
    prisma,
    store: uploadDeps.store,
    bucket: workflow.bucket,
    detections,
    inspect: detectors.inspect,
  });
  const { reviews } = config;
  const reviewLifecycle = new ReviewLifecycle({
    prisma,
    tasks: queue,
    datasets: data.datasets,
    devices: fleet.devices,
    events,
    settings: {
      leaseSeconds: reviews.leaseSeconds,
      anomalyTypes: reviews.anomalyTypes,
      maxHumanLoops: reviews.humanReview.kind === 'a2i' ? reviews.humanReview.maxLoops : 1,
    },
    afterLabel: async ({ datasetId }) => {
      await models.modelTraining.retrainIfDue(datasetId, 'labels');
      await models.modelHealth.checkDataset(datasetId);
    },
    log,
  });
  const workflowRuns = workflowRunService(
    config,
    { prisma, detections, devices: fleet.devices, events, log },
    { store: uploadDeps.store, bucket: workflow.manifestBucket },
  );
  const costs = new CostService(prisma, {
    prices: config.detectors.prices,
    screen: detectors.screen.name,
    inspect: detectors.inspect.name,
  });
  return {
    ...fleet,
    ...data,
    ...models,
    ...repairs,
    ...webhookServices(wiring),
    detections,
    batchInspection,
    reviewQueue: queue,
    reviewLifecycle,
    workflowRuns,
    costs,
    events,
  };
}
