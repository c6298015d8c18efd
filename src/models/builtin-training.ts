import { z } from 'zod';
import { type ModelVersion } from '../generated/prisma/client';
import { badInput } from '../common/errors';
import { type ModelArtifact } from '../anomaly-model/artifact';
import { train } from '../anomaly-model/detector';
import { evaluateOn } from './evaluation';
import { fromDbProfile } from './profile';
import { runOnTrainingThread } from './training-thread';
import { readSnapshot, snapshotItem } from './training-snapshot';
import { type StoredMetrics, type TrainedOn, type TrainingDeps } from './training.types';

// The built-in model: trained here and now on the snapshot's TRAIN entries, measured on its TEST entries.

const builtinParams = z.strictObject({
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31)
    .optional(),
});

/** The built-in model takes a seed, nothing else. */
export function checkBuiltinParams(params: Record<string, unknown>): Record<string, string | number | boolean> {
  const parsed = builtinParams.safeParse(params);
  if (!parsed.success)
    throw badInput(
      'params',
      `${parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')} (the built-in model takes seed)`,
    );
  return parsed.data;
}

/** StartTraining for the built-in model: trains on the TRAIN entries and stores the artifact on the version. */
export async function trainBuiltin(deps: TrainingDeps, version: ModelVersion, trainedOn: TrainedOn): Promise<void> {
  const entries = await readSnapshot(deps.store, trainedOn);
  const trainEntries = entries.filter((e) => e.split === 'TRAIN');
  const params = version.params as { seed?: number };
  const started = Date.now();
  let lastLog = 0;
  const profile = fromDbProfile(version.profile);
  const onProgress = (phase: string, done: number, total: number) => {
    if (Date.now() - lastLog < 5000 && done !== total) return;
    lastLog = Date.now();
    deps.log.info({ modelVersionId: version.id, phase, done, total }, 'training');
  };
  const artifact = deps.trainingThread
    ? await runOnTrainingThread(deps.trainingThread, { job: 'train', entries: trainEntries, profile, seed: params.seed }, onProgress)
    : await train(
        await deps.backbone.get(),
        { items: trainEntries.map((e) => snapshotItem(deps.store, e)) },
        { profile, seed: params.seed, onProgress },
      );
  const stored = await deps.models.put(version.deviceType, artifact);
  await deps.prisma.modelVersion.update({
    where: { id: version.id },
    data: {
      version: artifact.manifest.version,
      artifactKey: stored.key,
      artifactBytes: stored.bytes,
      artifactSha256: stored.sha256,
      thresholds: artifact.manifest.thresholds as object,
    },
  });
  deps.log.info(
    { modelVersionId: version.id, version: artifact.manifest.version, seconds: (Date.now() - started) / 1000 },
    'model trained',
  );
}

/** EvaluateModel for the built-in model: the version, and the version serving now, on the snapshot's TEST entries. */
export async function evaluateBuiltin(
  deps: TrainingDeps,
  version: ModelVersion & { artifactKey: string },
  trainedOn: TrainedOn,
): Promise<StoredMetrics> {
  const test = (await readSnapshot(deps.store, trainedOn)).filter((e) => e.split === 'TEST');
  const measure = async (artifact: ModelArtifact) =>
    deps.trainingThread
      ? runOnTrainingThread(deps.trainingThread, { job: 'evaluate', artifact, entries: test, splitHash: trainedOn.splitHash })
      : evaluateOn(
          await deps.backbone.get(),
          artifact,
          test.map((e) => snapshotItem(deps.store, e)),
          trainedOn.splitHash,
        );
  const metrics = await measure(await deps.models.read(version.artifactKey));
  const active = await deps.prisma.activeModel.findUnique({
    where: { deviceType_profile: { deviceType: version.deviceType, profile: version.profile } },
    include: { model: true },
  });
  let baseline: StoredMetrics['baseline'] = null;
  if (active && active.model.id !== version.id && active.model.artifactKey) {
    baseline = {
      modelVersionId: active.model.id,
      version: active.model.version,
      metrics: await measure(await deps.models.read(active.model.artifactKey)),
    };
  }
  return { ...metrics, baseline };
}
