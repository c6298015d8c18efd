import { type Logger } from 'pino';
import { type Dataset, type DatasetEntry, type Prisma, type PrismaClient } from '../generated/prisma/client';
import { type DatasetSplit, type ReviewVerdict } from '../generated/prisma/enums';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { byId, type Ordering, type PageLimits, paginate, listOrdering } from '../common/pagination/keyset';
import { type PageArgs } from '../common/pagination/page.args';
import { type Connection } from '../common/pagination/connection.type';
import { type Box } from '../common/box';
import { storedImageSize } from '../image-processing/stored-image-size';
import { type LookoutDatasetSink } from '../adapters/dataset-sink/lookout.driver';
import { manifestLine, type ManifestEntry } from './lookout-manifest';
import { maskColorMap, renderMask } from './mask';
import { splitFor } from './split';

export interface LabelledRegion {
  box: Box;
  type: string;
}

export interface DatasetStats {
  train: { count: number; normal: number; anomalous: number };
  test: { count: number; normal: number; anomalous: number };
  reviewed: number;
  imported: number;
  lastLabelAt: Date | null;
}

export interface DatasetSettings {
  testShare: number;
  anomalyTypes: string[];
}

export interface DatasetDeps {
  prisma: PrismaClient;
  store: ObjectStore;
  /** How a stored object is named in a manifest: s3://bucket/key on S3, file:///… on the local store. */
  objectUri: (key: string) => string;
  settings: DatasetSettings;
  /** UpdateDatasetEntries for a Lookout for Vision project, when one is configured. */
  lookout: LookoutDatasetSink | null;
  limits: PageLimits;
  log: Logger;
}

export const ENTRY_ORDER: Ordering = listOrdering('DatasetEntry', [
  { field: 'createdAt', column: 'created_at', kind: 'date', direction: 'asc' },
  byId('asc'),
]);
const JOB_NAME = 'vigil-review';

/**
 * Reviewed labels as training data: one entry per (dataset, image), a mask PNG per entry with
 * regions, and the dataset's Lookout-format JSON Lines manifest in the object store.
 */
export class DatasetService {
  // One publish per dataset at a time; a request arriving meanwhile makes it run once more.
  private readonly publishing = new Map<string, { again: boolean; done: Promise<void> }>();

  constructor(private readonly deps: DatasetDeps) {}

  /** The device type's dataset, created on first use; named after the type. */
  async forDeviceType(db: PrismaClient, deviceType: string): Promise<Dataset> {
    // Prisma's upsert is a read then a write: two first reviews of a type at once would collide on the name.
    await db.dataset.createMany({ data: [{ name: deviceType, deviceType }], skipDuplicates: true });
    return db.dataset.findUniqueOrThrow({ where: { name: deviceType } });
  }

  /**
   * Records a reviewed label inside the caller's transaction. The entry's split is decided once
   * from the image id and never moves, so an image cannot leak from test into train.
   */
  async recordEntry(
    db: PrismaClient,
    input: { deviceType: string; imageId: string; reviewTaskId: string | null; label: ReviewVerdict; regions: LabelledRegion[] },
  ): Promise<DatasetEntry> {
    const dataset = await this.forDeviceType(db, input.deviceType);
    const data = {
      label: input.label,
      regions: input.regions as unknown as Prisma.InputJsonValue,
      reviewTaskId: input.reviewTaskId,
      maskKey: null,
      syncedAt: null,
    };
    const entry = await db.datasetEntry.upsert({
      where: { datasetId_imageId: { datasetId: dataset.id, imageId: input.imageId } },
      create: {
        datasetId: dataset.id,
        imageId: input.imageId,
        split: splitFor(input.imageId, this.deps.settings.testShare) as DatasetSplit,
        ...data,
      },
      update: data,
    });
    await db.dataset.update({ where: { id: dataset.id }, data: { manifestAt: null } });
    return entry;
  }

  /** Masks for new entries, the manifest, and the Lookout project; safe to repeat, coalesced per dataset. */
  publish(datasetId: string): Promise<void> {
    const running = this.publishing.get(datasetId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.publishOnce(datasetId);
        } while (state.again);
      } finally {
        this.publishing.delete(datasetId);
      }
    })();
    this.publishing.set(datasetId, state);
    return state.done;
  }

  /** Datasets whose manifest is older than their entries (e.g. the process stopped in between). */
  async publishStale(): Promise<number> {
    const stale = await this.deps.prisma.dataset.findMany({ where: { manifestAt: null }, select: { id: true } });
    for (const d of stale) await this.publish(d.id);
    return stale.length;
  }

  list(): Promise<Dataset[]> {
    return this.deps.prisma.dataset.findMany({ orderBy: [{ name: 'asc' }] });
  }

  byIds(ids: readonly string[]): Promise<Dataset[]> {
    return this.deps.prisma.dataset.findMany({ where: { id: { in: [...ids] } } });
  }

  entry(id: string): Promise<DatasetEntry | null> {
    return this.deps.prisma.datasetEntry.findUnique({ where: { id } });
  }

  entries(
    datasetId: string,
    page: PageArgs,
    filter: { split?: DatasetSplit | null; label?: ReviewVerdict | null; imported?: boolean | null } = {},
  ): Promise<Connection<DatasetEntry>> {
    const where = {
      datasetId,
      ...(filter.split ? { split: filter.split } : {}),
      ...(filter.label ? { label: filter.label } : {}),
      ...(filter.imported === true ? { imageId: null } : filter.imported === false ? { imageId: { not: null } } : {}),
    };
    return paginate({
      page,
      ordering: ENTRY_ORDER,
      limits: this.deps.limits,
      where,
      find: (q) => this.deps.prisma.datasetEntry.findMany(q),
      count: (w) => this.deps.prisma.datasetEntry.count({ where: w }),
    });
  }

  async counts(datasetIds: readonly string[]): Promise<Map<string, { total: number; anomalous: number; test: number }>> {
    const rows = await this.deps.prisma.datasetEntry.groupBy({
      by: ['datasetId', 'label', 'split'],
      where: { datasetId: { in: [...datasetIds] } },
      _count: { _all: true },
    });
    const out = new Map(datasetIds.map((id) => [id, { total: 0, anomalous: 0, test: 0 }]));
    for (const r of rows) {
      const c = out.get(r.datasetId)!;
      c.total += r._count._all;
      if (r.label === 'ANOMALOUS') c.anomalous += r._count._all;
      if (r.split === 'TEST') c.test += r._count._all;
    }
    return out;
  }

  /** Entries by split and label, and how many came from reviews or imports. */
  async stats(datasetId: string): Promise<DatasetStats> {
    const rows = await this.deps.prisma.datasetEntry.groupBy({ by: ['label', 'split'], where: { datasetId }, _count: { _all: true } });
    const n = (split: string, label?: string) =>
      rows.filter((r) => r.split === split && (!label || r.label === label)).reduce((s, r) => s + r._count._all, 0);
    const imported = await this.deps.prisma.datasetEntry.count({ where: { datasetId, imageId: null } });
    const newest = await this.deps.prisma.datasetEntry.aggregate({ where: { datasetId }, _max: { updatedAt: true } });
    return {
      train: { count: n('TRAIN'), normal: n('TRAIN', 'NORMAL'), anomalous: n('TRAIN', 'ANOMALOUS') },
      test: { count: n('TEST'), normal: n('TEST', 'NORMAL'), anomalous: n('TEST', 'ANOMALOUS') },
      reviewed: n('TRAIN') + n('TEST') - imported,
      imported,
      lastLabelAt: newest._max.updatedAt,
    };
  }

  static manifestKey(datasetId: string): string {
    return `datasets/${datasetId}/manifest.jsonl`;
  }

  private async publishOnce(datasetId: string): Promise<void> {
    const { prisma } = this.deps;
    const dataset = await prisma.dataset.findUnique({ where: { id: datasetId } });
    if (!dataset) return;
    const entries = await prisma.datasetEntry.findMany({
      where: { datasetId },
      include: { image: { select: { normalizedKey: true } } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    const lines: { entry: DatasetEntry; line: Record<string, unknown> }[] = [];
    for (const entry of entries) {
      const imageKey = entry.image?.normalizedKey ?? entry.sourceKey;
      if (!imageKey) continue;
      const regions = entry.regions as unknown as LabelledRegion[];
      let maskKey = entry.maskKey;
      let colorMap: ManifestEntry['colorMap'] = null;
      if (regions.length && !entry.imageId) {
        // Imported with its own mask, already painted in the project's colours at import.
        colorMap = maskKey
          ? maskColorMap(
              regions.map((r) => r.type),
              this.deps.settings.anomalyTypes,
            )
          : null;
      } else if (regions.length) {
        const key = `datasets/${datasetId}/masks/${entry.imageId!}.png`;
        // A mask already written tells its size; a new one takes the image's.
        const sized = await storedImageSize(this.deps.store, maskKey === key ? key : imageKey);
        const mask = await renderMask({
          width: sized.width ?? 1,
          height: sized.height ?? 1,
          regions,
          types: this.deps.settings.anomalyTypes,
        });
        colorMap = mask.colorMap;
        if (maskKey !== key) {
          await this.deps.store.put(key, mask.png, { contentType: 'image/png' });
          const marked = await prisma.datasetEntry.updateManyAndReturn({
            where: { id: entry.id, updatedAt: entry.updatedAt },
            data: { maskKey: key },
          });
          // A newer label arrived meanwhile: the next publish renders its mask.
          if (!marked.length) continue;
          entry.updatedAt = marked[0].updatedAt;
          maskKey = key;
        }
      }
      lines.push({
        entry,
        line: manifestLine({
          sourceRef: this.deps.objectUri(imageKey),
          anomalous: entry.label === 'ANOMALOUS',
          maskRef: maskKey && colorMap ? this.deps.objectUri(maskKey) : null,
          colorMap,
          createdAt: entry.updatedAt,
          jobName: JOB_NAME,
        }),
      });
    }
    const manifestKey = DatasetService.manifestKey(datasetId);
    await this.deps.store.put(manifestKey, Buffer.from(lines.map((l) => `${JSON.stringify(l.line)}\n`).join('')), {
      contentType: 'application/x-ndjson',
    });
    // Fresh only if no entry was recorded while it was written (recording one touches the dataset row).
    await prisma.dataset.updateMany({
      where: { id: datasetId, updatedAt: dataset.updatedAt },
      data: { manifestKey, manifestAt: new Date() },
    });
    if (this.deps.lookout) await this.syncLookout(lines.filter((l) => !l.entry.syncedAt));
  }

  private async syncLookout(pending: { entry: DatasetEntry; line: Record<string, unknown> }[]): Promise<void> {
    for (const split of ['TRAIN', 'TEST'] as const) {
      const batch = pending.filter((p) => p.entry.split === split);
      if (!batch.length) continue;
      await this.deps.lookout!.update(
        split === 'TRAIN' ? 'train' : 'test',
        batch.map((p) => JSON.stringify(p.line)),
      );
      for (const p of batch) {
        await this.deps.prisma.datasetEntry.updateMany({
          where: { id: p.entry.id, updatedAt: p.entry.updatedAt },
          data: { syncedAt: new Date() },
        });
      }
      this.deps.log.info({ split, entries: batch.length }, 'dataset entries sent to Lookout for Vision');
    }
  }
}
