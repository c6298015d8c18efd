import { type ModelVersion } from '../generated/prisma/client';
import { type ModelProfile } from '../generated/prisma/enums';
import { badInput } from '../common/errors';
import { type ExternalTrainer } from '../adapters/model-trainer/model-trainer.port';
import { type StoredMetrics, type TrainedOn, trainedOnOf, TrainingFailedError, type TrainingDeps } from './training.types';

// Cloud training (Lookout for Vision or SageMaker): started from the snapshot's manifests, then polled.

/** Hyperparameters pass through to the service; only the INSPECT model trains in the cloud. */
export function checkExternalParams(
  external: ExternalTrainer,
  profile: ModelProfile,
  params: Record<string, unknown>,
): Record<string, string | number | boolean> {
  if (profile === 'SCREEN')
    throw badInput('profile', `SCREEN models are trained only for the built-in screen detector; ${external.kind} trains the INSPECT model`);
  for (const [k, v] of Object.entries(params)) {
    if (!['string', 'number', 'boolean'].includes(typeof v))
      throw badInput(`params.${k}`, 'hyperparameters are strings, numbers or booleans');
  }
  return params as Record<string, string | number | boolean>;
}

/** StartTraining in the cloud: the service's training starts once (a retried step finds its id). */
export async function startExternal(
  deps: TrainingDeps,
  external: ExternalTrainer,
  version: ModelVersion,
  trainedOn: TrainedOn,
): Promise<void> {
  if (version.externalId) return;
  const { externalId } = await external.start({
    modelVersionId: version.id,
    deviceType: version.deviceType,
    trainManifestUri: deps.objectUri(trainedOn.trainManifestKey),
    testManifestUri: deps.objectUri(trainedOn.testManifestKey),
    params: version.params as Record<string, string | number | boolean>,
  });
  await deps.prisma.modelVersion.update({ where: { id: version.id }, data: { externalId } });
}

/**
 * CheckTraining: false while the cloud training runs; once it is done, its version and the figures the
 * service measured on the test split are stored and true returned. A failed training throws its reason.
 */
export async function checkExternal(deps: TrainingDeps, version: ModelVersion): Promise<boolean> {
  if (!deps.external || !version.externalId) throw new TrainingFailedError(`model version ${version.id} has no training to check`);
  const status = await deps.external.status(version.externalId);
  if (status.state === 'RUNNING') return false;
  if (status.state === 'FAILED') throw new TrainingFailedError(`${status.error}: ${status.cause}`);
  const trainedOn = trainedOnOf(version);
  const m = status.metrics;
  // TRAINED means measured on the test split (as built-in and Lookout versions are): with no figures the gate could judge nothing.
  if ([m.auroc, m.precision, m.recall, m.f1].every((v) => v === null))
    throw new TrainingFailedError(
      `${deps.external.kind} reported no evaluation metrics for ${status.externalVersion}: the training must report its figures on the test split`,
    );
  const metrics: StoredMetrics = {
    source: deps.external.kind,
    testCount: trainedOn.test.count,
    normal: trainedOn.test.normal,
    anomalous: trainedOn.test.anomalous,
    auroc: m.auroc,
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    threshold: null,
    reviewBandShare: null,
    accuracyOutsideBand: null,
    confusion: null,
    splitHash: trainedOn.splitHash,
    baseline: null,
  };
  await deps.prisma.modelVersion.update({
    where: { id: version.id },
    data: {
      version: deps.externalVersionName(status.externalVersion),
      externalVersion: status.externalVersion,
      artifactUri: status.artifactUri,
      metrics: metrics as object,
    },
  });
  return true;
}
