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

/** The business logic, shared by resolvers, workflow handlers and the CLI. */
export interface Services {
  devices: DeviceService;
  inspections: InspectionService;
  images: ImageService;
  anomalies: AnomalyService;
  apiKeys: ApiKeyService;
  uploads: UploadService;
  surveys: SurveyService;
}

export interface UploadDeps {
  store: ObjectStore & Partial<Presigner>;
  signingSecret: string;
  baseUrl: () => string;
}

export function createServices(db: Database, config: Pick<Config, 'pagination' | 'auth' | 'uploads' | 'gpsMatch'>, uploads: UploadDeps): Services {
  const { prisma } = db;
  const limits = config.pagination;
  const devices = new DeviceService(prisma, limits);
  const inspections = new InspectionService(prisma, limits);
  const surveys = new SurveyService(prisma, devices, inspections, limits, config.gpsMatch);
  return {
    devices,
    inspections,
    surveys,
    images: new ImageService(prisma),
    anomalies: new AnomalyService(prisma, limits),
    apiKeys: new ApiKeyService(prisma, { cacheMs: config.auth.apiKeyCacheMs, limits }),
    uploads: new UploadService(prisma, uploads.store, {
      limits: config.uploads.limits,
      derivatives: config.uploads.derivatives,
      urlTtlSeconds: config.uploads.urlTtlSeconds,
      signingSecret: uploads.signingSecret,
      baseUrl: uploads.baseUrl,
    }, surveys),
  };
}
