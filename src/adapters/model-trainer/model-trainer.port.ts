// Training and serving a model version on a cloud service. The built-in model trains in-process
// (src/models/builtin.trainer.ts); Lookout for Vision and its SageMaker successor train and host
// in AWS behind these two small interfaces. The train-model workflow calls them.

/** What the service needs to train one version; ids and URIs come from vigil's own records. */
export interface TrainingRequest {
  /** vigil's ModelVersion id: idempotency token and name stem, so a retried step starts once. */
  modelVersionId: string;
  deviceType: string;
  /** JSON Lines manifest (Lookout / Ground Truth format) of the TRAIN split entries: s3://bucket/key. */
  trainManifestUri: string;
  /** The same for the TEST split; the service evaluates on it and vigil reads its metrics back. */
  testManifestUri: string;
  /** Free-form knobs from trainModel(params), passed on as hyperparameters where the service takes them. */
  params: Record<string, string | number | boolean>;
}

/** Figures a service reports for a trained version, on its test data; null where it reports none. */
export interface ServiceMetrics {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  auroc: number | null;
}

export type TrainingStatus =
  | { state: 'RUNNING'; message: string | null }
  | {
      state: 'SUCCEEDED';
      /** The service's name for the trained model: Lookout model version number, SageMaker training job name. */
      externalVersion: string;
      /** Where the service put the trained model (SageMaker model.tar.gz), if anywhere. */
      artifactUri: string | null;
      metrics: ServiceMetrics;
    }
  | { state: 'FAILED'; error: string; cause: string };

export interface ExternalTrainer {
  readonly kind: 'lookout-for-vision' | 'sagemaker';
  /** Starts training (or finds the training already started for request.modelVersionId); returns the service's id for it. */
  start(request: TrainingRequest): Promise<{ externalId: string }>;
  /** Where a training started earlier stands. */
  status(externalId: string): Promise<TrainingStatus>;
}

/** A trained external model, as the deployer needs it. */
export interface ExternalModel {
  modelVersionId: string;
  externalVersion: string;
  artifactUri: string | null;
}

export interface ExternalDeployer {
  readonly kind: 'lookout-for-vision' | 'sagemaker';
  /**
   * Makes `target` the one serving DetectAnomalies / InvokeEndpoint and retires `previous` once
   * the target serves. Idempotent: deploying what already serves changes nothing.
   */
  deploy(target: ExternalModel, previous: ExternalModel | null): Promise<void>;
}
