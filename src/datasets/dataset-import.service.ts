import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import sharp from 'sharp';
import { z } from 'zod';
import { type Logger } from 'pino';
import { type Dataset, type Prisma, type PrismaClient } from '../generated/prisma/client';
import { type DatasetSplit } from '../generated/prisma/enums';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { WHOLE_IMAGE } from '../common/box';
import { badInput } from '../common/errors';
import { type DatasetItem, readDatasetFolder } from '../anomaly-model/dataset';
import { type DatasetService, type LabelledRegion } from './dataset.service';
import { paintBinaryMask } from './mask';
import { splitFor } from './split';

export interface ImportProblem {
  /** The file (folder import) or `line N` (manifest import). */
  path: string;
  message: string;
}

export interface ImportReport {
  dataset: Dataset;
  imported: number;
  /** Already in the dataset (same picture): an import can be repeated safely. */
  unchanged: number;
  errors: ImportProblem[];
}

export interface ImportDeps {
  prisma: PrismaClient;
  store: ObjectStore;
  datasets: DatasetService;
  /** The store's own name for a key, and back: a manifest may only name pictures in this store. */
  objectUri: (key: string) => string;
  settings: { testShare: number; anomalyTypes: string[] };
  /** importDataset(folder:) reads only under this folder (IMPORT_ROOT). */
  importRoot: string;
  log: Logger;
}

// A foreign Lookout / Ground Truth line: vigil needs the picture and its label, and reads a mask when there is one.
const foreignLine = z.looseObject({
  'source-ref': z.string().min(1),
  'anomaly-label': z.union([z.literal(0), z.literal(1)]),
  'anomaly-mask-ref': z.string().min(1).optional(),
  'anomaly-mask-ref-metadata': z
    .looseObject({ 'internal-color-map': z.record(z.string(), z.looseObject({ 'class-name': z.string() })) })
    .optional(),
});

/** JSON.parse, without quoting the line back: its message would carry a snippet of the stored manifest. */
function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error('not a JSON object');
  }
}

/**
 * importDataset: labelled pictures a team already has become dataset entries, so a first model
 * can train before any review. Pictures are stored content-addressed (one entry per picture and
 * dataset: importing twice adds nothing); a bad file is reported and skipped, never half-stored.
 */
export class DatasetImportService {
  constructor(private readonly deps: ImportDeps) {}

  async import(input: {
    deviceType: string;
    folder?: string | null;
    manifestUri?: string | null;
    split?: DatasetSplit | null;
  }): Promise<ImportReport> {
    const deviceType = input.deviceType.trim();
    if (!deviceType) throw badInput('deviceType', 'must not be empty');
    if (!!input.folder === !!input.manifestUri) throw badInput('folder', 'give exactly one of folder and manifestUri');
    // Read (and refuse) the source before the dataset exists: a failed import creates nothing.
    const items = input.folder ? await this.readFolder(input.folder) : null;
    const text = items ? null : await this.readManifest(input.manifestUri!);
    const dataset = await this.deps.datasets.forDeviceType(this.deps.prisma, deviceType);
    const report = items
      ? await this.fromFolder(dataset, items, input.split ?? null)
      : await this.fromManifest(dataset, text!, input.split ?? null);
    if (report.imported) {
      await this.deps.prisma.dataset.update({ where: { id: dataset.id }, data: { manifestAt: null } });
      await this.deps.datasets.publish(dataset.id);
    }
    this.deps.log.info(
      { datasetId: dataset.id, imported: report.imported, unchanged: report.unchanged, errors: report.errors.length },
      'dataset imported',
    );
    return { ...report, dataset: await this.deps.prisma.dataset.findUniqueOrThrow({ where: { id: dataset.id } }) };
  }

  private typeOf(name: string | null): string {
    const types = this.deps.settings.anomalyTypes;
    if (name && types.includes(name)) return name;
    if (types.includes('other')) return 'other';
    throw new Error(`anomaly type "${name}" is not one of ANOMALY_TYPES [${types.join(', ')}] and there is no "other"`);
  }

  /** The folder's pictures, when it really is under IMPORT_ROOT; errors name it as the caller did, never the server's paths. */
  private async readFolder(folder: string): Promise<DatasetItem[]> {
    const root = await fs.realpath(this.deps.importRoot).catch(() => null);
    const real = root ? await fs.realpath(path.resolve(root, folder)).catch(() => null) : null;
    const within = !!root && !!real && (real === root || real.startsWith(root + path.sep));
    if (!within || !(await fs.stat(real!)).isDirectory())
      throw badInput('folder', `${JSON.stringify(folder)} is not a folder under the import root (IMPORT_ROOT)`);
    try {
      return (await readDatasetFolder(real!, { confineTo: root!, label: JSON.stringify(folder) })).items;
    } catch (err) {
      const message = (err as Error).message;
      throw badInput('folder', /has no normal images/.test(message) ? message : `${JSON.stringify(folder)} cannot be read`);
    }
  }

  private async fromFolder(dataset: Dataset, items: DatasetItem[], split: DatasetSplit | null): Promise<Omit<ImportReport, 'dataset'>> {
    const out = { imported: 0, unchanged: 0, errors: [] as ImportProblem[] };
    for (const [n, item] of items.entries()) {
      try {
        const bytes = await item.load().catch(() => {
          throw new Error('cannot read the file');
        });
        const type = item.label === 'anomalous' ? this.typeOf(item.type) : null;
        const mask =
          item.loadMask && type
            ? await item.loadMask().catch(() => {
                throw new Error('cannot read the mask');
              })
            : null;
        const added = await this.add(dataset, {
          bytes,
          anomalous: item.label === 'anomalous',
          type,
          binaryMask: mask,
          maskKey: null,
          split,
        });
        if (added) out.imported++;
        else out.unchanged++;
      } catch (err) {
        out.errors.push({ path: item.id, message: (err as Error).message });
      }
      if ((n + 1) % 100 === 0) this.deps.log.info({ datasetId: dataset.id, done: n + 1, total: items.length }, 'importing');
    }
    return out;
  }

  private keyOf(uri: string): string | null {
    const probe = this.deps.objectUri('');
    return uri.startsWith(probe) ? uri.slice(probe.length) : null;
  }

  private async readManifest(manifestUri: string): Promise<string> {
    const key = this.keyOf(manifestUri);
    if (!key) throw badInput('manifestUri', `must name an object in vigil's store (${this.deps.objectUri('…')}), got ${manifestUri}`);
    try {
      return (await buffer(await this.deps.store.get(key))).toString('utf8');
    } catch {
      // The store's own message may name its folder on the server.
      throw badInput('manifestUri', `cannot read ${manifestUri}`);
    }
  }

  private async fromManifest(dataset: Dataset, text: string, split: DatasetSplit | null): Promise<Omit<ImportReport, 'dataset'>> {
    const out = { imported: 0, unchanged: 0, errors: [] as ImportProblem[] };
    const lines = text.split('\n');
    for (const [i, raw] of lines.entries()) {
      if (!raw.trim()) continue;
      const where = `line ${i + 1}`;
      try {
        const parsed = foreignLine.safeParse(parseJson(raw));
        if (!parsed.success) throw new Error(parsed.error.issues.map((p) => `${p.path.join('.') || 'line'}: ${p.message}`).join('; '));
        const line = parsed.data;
        const imageKey = this.keyOf(line['source-ref']);
        if (!imageKey) throw new Error(`source-ref ${line['source-ref']} is not in vigil's store`);
        const maskKey = line['anomaly-mask-ref'] ? this.keyOf(line['anomaly-mask-ref']) : null;
        if (line['anomaly-mask-ref'] && !maskKey) throw new Error(`anomaly-mask-ref ${line['anomaly-mask-ref']} is not in vigil's store`);
        const classes = Object.values(line['anomaly-mask-ref-metadata']?.['internal-color-map'] ?? {})
          .map((c) => c['class-name'])
          .filter((c) => c !== 'BACKGROUND');
        const anomalous = line['anomaly-label'] === 1;
        const added = await this.add(dataset, {
          bytes: await this.deps.store
            .get(imageKey)
            .then(buffer)
            .catch(() => {
              throw new Error(`cannot read ${line['source-ref']}`);
            }),
          anomalous,
          type: anomalous ? this.typeOf(classes[0] ?? null) : null,
          binaryMask: null,
          maskKey: anomalous ? maskKey : null,
          split,
        });
        if (added) out.imported++;
        else out.unchanged++;
      } catch (err) {
        out.errors.push({ path: where, message: (err as Error).message });
      }
    }
    return out;
  }

  /** Stores the picture (and its mask) under content-addressed keys, then the entry; false when it was there already. */
  private async add(
    dataset: Dataset,
    e: {
      bytes: Buffer;
      anomalous: boolean;
      type: string | null;
      binaryMask: Buffer | null;
      maskKey: string | null;
      split: DatasetSplit | null;
    },
  ): Promise<boolean> {
    const meta = await sharp(e.bytes)
      .metadata()
      .catch(() => null);
    if (!meta || (meta.format !== 'jpeg' && meta.format !== 'png') || !meta.width || !meta.height)
      throw new Error('not a readable JPEG or PNG image');
    const sha = crypto.createHash('sha256').update(e.bytes).digest('hex');
    const sourceKey = `datasets/${dataset.id}/imported/${sha}.${meta.format === 'png' ? 'png' : 'jpg'}`;
    if (
      await this.deps.prisma.datasetEntry.findUnique({
        where: { datasetId_sourceKey: { datasetId: dataset.id, sourceKey } },
        select: { id: true },
      })
    )
      return false;
    let regions: LabelledRegion[] = [];
    let maskKey = e.maskKey;
    if (e.anomalous && e.type) {
      regions = [{ box: { ...WHOLE_IMAGE }, type: e.type }];
      if (e.binaryMask) {
        const painted = await paintBinaryMask(e.binaryMask, e.type, this.deps.settings.anomalyTypes);
        if (painted.box) {
          maskKey = `datasets/${dataset.id}/imported/${sha}.mask.png`;
          await this.deps.store.put(maskKey, painted.png, { contentType: 'image/png' });
          regions = [{ box: painted.box, type: e.type }];
        }
      }
    }
    await this.deps.store.put(sourceKey, e.bytes, { contentType: meta.format === 'png' ? 'image/png' : 'image/jpeg' });
    const created = await this.deps.prisma.datasetEntry.createMany({
      data: [
        {
          datasetId: dataset.id,
          sourceKey,
          label: e.anomalous ? 'ANOMALOUS' : 'NORMAL',
          regions: regions as unknown as Prisma.InputJsonValue,
          maskKey,
          split: e.split ?? splitFor(sha, this.deps.settings.testShare),
        },
      ],
      skipDuplicates: true,
    });
    return created.count > 0;
  }
}
