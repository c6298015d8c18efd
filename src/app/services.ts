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
import { DatasetImportService } from '../datasets/dataset-import.service';
import { ModelDeploymentService } from '../models/deployment.service';
import { ModelHealthService } from '../models/model-health.service';
import { type ExternalDeployer, type ExternalTrainer } from '../adapters/model-trainer/model-trainer.port';
import { DomainError, ErrorCode } from '../common/errors';
import { lookoutVersionName } from '../adapters/detectors/lookout.driver';

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

export function createServices(
  db: Database,
  config: Pick<Config, 'pagination' | 'auth' | 'uploads' | 'gpsMatch' | 'workflows' | 'detectors' | 'objectStore' | 'reviews' | 'datasets' | 'models'>,
  uploadDeps: UploadDeps,
  workflow: WorkflowDeps,
): Services {
  const { prisma } = db;
  const limits = config.pagination;
  const devices = new DeviceService(prisma, limits, workflow.events);
  const inspections = new InspectionService(prisma, limits);
  const surveys = new SurveyService(prisma, devices, inspections, limits, config.gpsMatch);
  const uploads = new UploadService(prisma, uploadDeps.store, {
    limits: config.uploads.limits,
    derivatives: config.uploads.derivatives,
    urlTtlSeconds: config.uploads.urlTtlSeconds,
    signingSecret: uploadDeps.signingSecret,
    baseUrl: uploadDeps.baseUrl,
  }, surveys);
  const reviewQueue = new ReviewQueue({
    prisma,
    settings: {
      consensus: config.reviews.consensus,
      qaShare: config.reviews.qaShare,
      learning: config.reviews.learning,
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
  const cloud = workflow.externalModels ?? null;
  const modelTraining: ModelTrainingService = new ModelTrainingService({
    prisma,
    store: uploadDeps.store,
    models: workflow.storedModels,
    backbone: workflow.backbone,
    datasets,
    objectUri: objectUri(config.objectStore),
    external: cloud && 'trainer' in cloud ? cloud.trainer : null,
    unavailable: cloud && 'unavailable' in cloud ? cloud.unavailable : null,
    externalVersionName: (v) =>
      config.detectors.inspect.kind === 'lookout-for-vision' ? lookoutVersionName(config.detectors.inspect.projectName, v) : `sagemaker:${v}`.slice(0, 100),
    settings: {
      pollSeconds: config.models.pollSeconds,
      anomalyTypes: config.reviews.anomalyTypes,
      retrainAfterLabels: config.models.retrainAfterLabels,
      retrainIntervalHours: config.models.retrainIntervalHours,
    },
    // A version trained automatically goes live if it passes the gate; a refusal leaves it TRAINED for a person to judge.
    onTrained: async (version) => {
      if (version.trigger === 'MANUAL' || !config.models.autoDeploy) return;
      try {
        await modelDeployments.deploy(version.id, { by: `auto:${version.trigger}` });
      } catch (err) {
        if (!(err instanceof DomainError) || err.code !== ErrorCode.GATE_REFUSED) throw err;
        workflow.log.warn({ modelVersionId: version.id, gate: err.details.gate }, 'automatically trained version not deployed: the gate refused it');
      }
    },
    log: workflow.log,
  });
  const modelDeployments = new ModelDeploymentService({
    prisma,
    training: modelTraining,
    models: workflow.storedModels,
    external: cloud && 'deployer' in cloud ? cloud.deployer : null,
    settings: {
      recallMargin: config.models.gate.recallMargin,
      f1Margin: config.models.gate.f1Margin,
      aurocMargin: config.models.gate.aurocMargin,
      precisionMargin: config.models.gate.precisionMargin,
    },
    log: workflow.log,
  });
  const modelHealth = new ModelHealthService({
    prisma,
    events: workflow.events,
    settings: config.models.health,
    labelsWaiting: (datasetId) => modelTraining.labelsWaiting(datasetId, 'INSPECT'),
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
    reviews: reviewQueue,
    events: workflow.events,
    devices,
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
    reviewQueue,
    datasets,
    datasetImports: new DatasetImportService({
      prisma,
      store: uploadDeps.store,
      datasets,
      objectUri: objectUri(config.objectStore),
      settings: { testShare: config.datasets.testShare, anomalyTypes: config.reviews.anomalyTypes },
      log: workflow.log,
    }),
    modelTraining,
    modelVersions: new ModelVersionQueries(prisma, limits),
    modelDeployments,
    modelHealth,
    reviewLifecycle: new ReviewLifecycle({
      prisma,
      tasks: reviewQueue,
      datasets,
      detections,
      events: workflow.events,
      settings: {
        leaseSeconds: config.reviews.leaseSeconds,
        anomalyTypes: config.reviews.anomalyTypes,
        maxHumanLoops: config.reviews.humanReview.kind === 'a2i' ? config.reviews.humanReview.maxLoops : 1,
      },
      afterLabel: async ({ datasetId }) => {
        await modelTraining.retrainIfDue(datasetId, 'labels');
        const dataset = await prisma.dataset.findUnique({ where: { id: datasetId }, select: { deviceType: true } });
        if (dataset) await modelHealth.check(dataset.deviceType);
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
