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
}

export interface UploadDeps {
  store: ObjectStore & Partial<Presigner>;
  signingSecret: string;
  baseUrl: () => string;
}

export function createServices(
  db: Database,
  config: Pick<Config, 'pagination' | 'auth' | 'uploads' | 'gpsMatch' | 'workflows' | 'detectors'>,
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
  const reviews = new ReviewTaskService(prisma);
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
