import { type Logger } from 'pino';
import { type ModelVersion, type PrismaClient } from '../generated/prisma/client';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { type BackboneProvider } from '../adapters/backbone/backbone.factory';
import { type DatasetService } from '../datasets/dataset.service';
import { type ExternalTrainer } from '../adapters/model-trainer/model-trainer.port';
import { type ModelMetrics } from './evaluation';
import { type StoredModels } from './model-artifacts';
import { type BackboneConfig, type Config } from '../config/config';

/** One entry of the dataset as it was when a training began: what it trained and was tested on. */
export interface SnapshotEntry {
  id: string;
  key: string;
  label: 'normal' | 'anomalous';
  type: string | null;
  /** Every anomaly type its regions name (the mask's colours). */
  types: string[];
  maskKey: string | null;
  split: 'TRAIN' | 'TEST';
}

/** ModelVersion.trainedOn. */
export interface TrainedOn {
  snapshotKey: string;
  takenAt: string;
  /** The newest label it includes: labels after this one count towards the next training. */
  labelledThrough: string | null;
  entries: number;
  train: { count: number; normal: number; anomalous: number };
  test: { count: number; normal: number; anomalous: number };
  /** Hash of the TEST entries and their labels: two versions compare only on the same split. */
  splitHash: string;
  trainManifestKey: string;
  testManifestKey: string;
}

/** ModelVersion.metrics: the candidate's figures on its test split, and the serving version's on the same split. */
export interface StoredMetrics extends ModelMetrics {
  baseline: { modelVersionId: string; version: string | null; metrics: ModelMetrics } | null;
}

export class TrainingFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Vigil.TrainingFailed';
  }
}

/** What a training thread opens for itself (clients and models cannot cross threads; their settings can). */
export interface TrainingThreadSettings {
  objectStore: Config['objectStore'];
  backbone: BackboneConfig;
}

export interface TrainingDeps {
  prisma: PrismaClient;
  store: ObjectStore;
  models: StoredModels;
  /** The features the built-in model learns on. */
  backbone: BackboneProvider;
  /** Set: the built-in model trains and is measured on a worker thread opened with these settings. */
  trainingThread?: TrainingThreadSettings | null;
  datasets: DatasetService;
  objectUri: (key: string) => string;
  /** Lookout for Vision or SageMaker when the inspect detector is one; null: the built-in model. */
  external: ExternalTrainer | null;
  /** Why cloud training cannot run (settings missing); null when it can or the model is built in. */
  unavailable?: string | null;
  /** What detections record for a cloud model (the inspect detector's own naming, e.g. lookout-for-vision:<project>:<n>). */
  externalVersionName: (externalVersion: string) => string;
  settings: { pollSeconds: number; anomalyTypes: string[]; retrainAfterLabels: number; retrainIntervalHours: number };
  /** Called when a version reached TRAINED: automatic trainings deploy through the gate. */
  onTrained?: (version: ModelVersion) => Promise<void>;
  log: Logger;
}

/** The version's snapshot; a version without one has not passed BeginTraining. */
export function trainedOnOf(version: ModelVersion): TrainedOn {
  if (!version.trainedOn) throw new TrainingFailedError(`model version ${version.id} has no snapshot: BeginTraining has not run`);
  return version.trainedOn as unknown as TrainedOn;
}

/** Labels changed after this count towards the next training: the snapshot's time, or the request's before it has one. */
export function labelsCountFrom(version: ModelVersion): Date {
  const trainedOn = version.trainedOn as unknown as TrainedOn | null;
  return trainedOn ? new Date(trainedOn.takenAt) : version.createdAt;
}
