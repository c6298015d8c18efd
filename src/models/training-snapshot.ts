import crypto from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { type DatasetEntry, type ModelVersion } from '../generated/prisma/client';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { type LabelledRegion } from '../datasets/dataset.service';
import { manifestLine } from '../datasets/lookout-manifest';
import { binaryMaskOf, maskColorMap } from '../datasets/mask';
import { type DatasetItem } from '../anomaly-model/dataset';
import { type SnapshotEntry, type TrainedOn, type TrainingDeps } from './training.types';

// BeginTraining's snapshot: the dataset's entries frozen, with a manifest per split; and reading it back.

type EntryRow = DatasetEntry & { image: { normalizedKey: string | null } | null };

/** The TEST entries and their labels, order-free: equal hashes mean the same test split. */
export function splitHash(entries: SnapshotEntry[]): string {
  const lines = entries
    .filter((e) => e.split === 'TEST')
    .map((e) => `${e.key}\t${e.label}`)
    .sort();
  return crypto.createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** The dataset's rows as snapshot entries (rows without an image object are left out). */
function snapshotEntries(rows: EntryRow[]): SnapshotEntry[] {
  const entries: SnapshotEntry[] = [];
  for (const row of rows) {
    const key = row.image?.normalizedKey ?? row.sourceKey;
    if (!key) continue;
    const regions = row.regions as unknown as LabelledRegion[];
    entries.push({
      id: row.id,
      key,
      label: row.label === 'ANOMALOUS' ? 'anomalous' : 'normal',
      type: row.label === 'ANOMALOUS' ? (regions[0]?.type ?? 'anomaly') : null,
      types: [...new Set(regions.map((r) => r.type))],
      maskKey: row.maskKey,
      split: row.split,
    });
  }
  return entries;
}

function trainedOnOfEntries(versionId: string, entries: SnapshotEntry[], rows: EntryRow[]): TrainedOn {
  const labelledThrough = rows.reduce<Date | null>((max, r) => (!max || r.updatedAt > max ? r.updatedAt : max), null);
  const stats = (split: 'TRAIN' | 'TEST') => {
    const of = entries.filter((e) => e.split === split);
    return {
      count: of.length,
      normal: of.filter((e) => e.label === 'normal').length,
      anomalous: of.filter((e) => e.label === 'anomalous').length,
    };
  };
  const prefix = `models/runs/${versionId}`;
  return {
    snapshotKey: `${prefix}/snapshot.json`,
    takenAt: new Date().toISOString(),
    labelledThrough: labelledThrough?.toISOString() ?? null,
    entries: entries.length,
    train: stats('TRAIN'),
    test: stats('TEST'),
    splitHash: splitHash(entries),
    trainManifestKey: `${prefix}/train.manifest`,
    testManifestKey: `${prefix}/test.manifest`,
  };
}

function manifest(deps: TrainingDeps, entries: SnapshotEntry[], rows: { id: string; updatedAt: Date }[]): Buffer {
  const when = new Map(rows.map((r) => [r.id, r.updatedAt]));
  const lines = entries.map((e) =>
    JSON.stringify(
      manifestLine({
        sourceRef: deps.objectUri(e.key),
        anomalous: e.label === 'anomalous',
        maskRef: e.maskKey && e.types.length ? deps.objectUri(e.maskKey) : null,
        colorMap: e.maskKey && e.types.length ? maskColorMap(e.types, deps.settings.anomalyTypes) : null,
        createdAt: when.get(e.id) ?? new Date(),
        jobName: 'vigil-training',
      }),
    ),
  );
  return Buffer.from(lines.map((l) => `${l}\n`).join(''));
}

/**
 * Freezes the dataset's entries into a snapshot and two manifests and records them on the version;
 * the first snapshot wins, so a retried step that raced another keeps what the version trains on.
 */
export async function takeSnapshot(deps: TrainingDeps, version: ModelVersion): Promise<void> {
  // Masks of newly reviewed entries are drawn by publishing; the snapshot names them.
  await deps.datasets.publish(version.datasetId);
  const rows = await deps.prisma.datasetEntry.findMany({
    where: { datasetId: version.datasetId },
    include: { image: { select: { normalizedKey: true } } },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  const entries = snapshotEntries(rows);
  const trainedOn = trainedOnOfEntries(version.id, entries, rows);
  await deps.store.put(
    trainedOn.snapshotKey,
    Buffer.from(JSON.stringify({ modelVersionId: version.id, datasetId: version.datasetId, entries })),
    { contentType: 'application/json' },
  );
  await deps.store.put(
    trainedOn.trainManifestKey,
    manifest(
      deps,
      entries.filter((e) => e.split === 'TRAIN'),
      rows,
    ),
    { contentType: 'application/x-ndjson' },
  );
  await deps.store.put(
    trainedOn.testManifestKey,
    manifest(
      deps,
      entries.filter((e) => e.split === 'TEST'),
      rows,
    ),
    { contentType: 'application/x-ndjson' },
  );
  await deps.prisma
    .$executeRaw`UPDATE model_versions SET trained_on = ${JSON.stringify(trainedOn)}::jsonb, started_at = now(), updated_at = now() WHERE id = ${version.id}::uuid AND trained_on IS NULL`;
}

/** The snapshot's entries, read back from the object store. */
export async function readSnapshot(store: ObjectStore, trainedOn: TrainedOn): Promise<SnapshotEntry[]> {
  const doc = JSON.parse((await buffer(await store.get(trainedOn.snapshotKey))).toString('utf8')) as { entries: SnapshotEntry[] };
  return doc.entries;
}

/** A snapshot entry as a model dataset item: its image (and mask) loaded from the object store on demand. */
export function snapshotItem(store: ObjectStore, e: SnapshotEntry): DatasetItem {
  return {
    id: e.id,
    label: e.label,
    type: e.type,
    load: async () => buffer(await store.get(e.key)),
    loadMask: e.maskKey ? async () => binaryMaskOf(await buffer(await store.get(e.maskKey!))) : null,
  };
}
