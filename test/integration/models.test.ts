import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromGlobalId, toGlobalId } from '../../src/common/global-id';
import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { CLAIM, coldStartTasks, newKey, SUBMIT } from '../support/reviews';
import { untilTrained } from '../support/models';
import { surface, toPng, writeDataset } from '../support/textures';
import { deviceWithInspection, surfacePhoto, uploadImages, waitForRun } from '../support/workflow';

jest.setTimeout(240_000);

const IMPORT = `mutation($i: ImportDatasetInput!) { importDataset(input: $i) { dataset { id name deviceType } imported unchanged errors { path message } } }`;
const TRAIN = `mutation($i: TrainModelInput!) { trainModel(input: $i) { id status trainer trigger deviceType profile } }`;
const VERSION = `query($id: ID!) { modelVersion(id: $id) {
  id status version error cause trigger requestedBy active
  metrics { source testCount normal anomalous auroc precision recall f1 reviewBandShare confusion { tp fp tn fn } splitHash roc { x y } pr { x y } }
  baselineMetrics { f1 recall splitHash }
  thresholds { operating reviewLow reviewHigh }
  trainedOn { entries train { count normal anomalous } test { count normal anomalous } splitHash trainManifestUrl testManifestUrl }
  artifact { key url bytes sha256 }
} }`;
const DEPLOY = `mutation($i: DeployModelInput!) { deployModel(input: $i) { id action overridden reason deployedBy model { id version } previous { id } gate { passed reasons active { modelVersionId f1 } candidate { f1 } } } }`;
const ROLLBACK = `mutation($i: RollbackModelInput!) { rollbackModel(input: $i) { id action model { id } previous { id } } }`;
const ACTIVE = `query($t: String) { activeModels(deviceType: $t) { deviceType profile drifting model { id version } deployment { id action } } }`;

// importDataset reads only under IMPORT_ROOT: every folder a test imports is made there.
const importRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-models-imports-'));
const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-models-outside-'));
const tmp = () => fs.mkdtempSync(path.join(importRoot, 'set-'));
afterAll(() => [importRoot, outside].forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

const trained = (t: TestApp, id: string) => untilTrained(t, VERSION, id);

/** A device type's dataset with imported TRAIN and TEST entries (generated textures; TEST from other seeds). */
async function importedDataset(t: TestApp, deviceType: string, sizes = { normal: 14, anomalous: 6, testNormal: 8, testAnomalous: 4 }) {
  const trainDir = tmp();
  const testDir = tmp();
  await writeDataset(trainDir, { normal: sizes.normal, anomalous: sizes.anomalous, seed: 100, side: 128 });
  await writeDataset(testDir, { normal: sizes.testNormal, anomalous: sizes.testAnomalous, seed: 900, side: 128 });
  const first = ok(await t.gql(IMPORT, { i: { deviceType, folder: trainDir, split: 'TRAIN' } })).importDataset;
  ok(await t.gql(IMPORT, { i: { deviceType, folder: testDir, split: 'TEST' } }));
  return { datasetId: first.dataset.id as string, first, trainDir, testDir };
}

describe('model lifecycle', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      MODEL_TRAINING_POLL_SECONDS: '1',
      MODEL_RETRAIN_AFTER_LABELS: '0',
      DATASET_TEST_SHARE: '0.25',
      IMPORT_ROOT: importRoot,
    });
  });
  afterAll(() => t?.stop());

  describe('importDataset', () => {
    it('imports a labelled folder once, keeps masks, and reports bad files without losing the good ones', async () => {
      const dir = tmp();
      await writeDataset(dir, { normal: 4, anomalous: 2, seed: 3, side: 96 });
      fs.writeFileSync(path.join(dir, 'normal', 'broken.png'), Buffer.from('not a png at all'));
      const type = `import-${crypto.randomUUID().slice(0, 6)}`;
      const first = ok(await t.gql(IMPORT, { i: { deviceType: type, folder: dir } })).importDataset;
      expect(first).toMatchObject({ imported: 6, unchanged: 0, dataset: { deviceType: type } });
      expect(first.errors).toEqual([{ path: 'normal/broken.png', message: 'not a readable JPEG or PNG image' }]);
      const again = ok(await t.gql(IMPORT, { i: { deviceType: type, folder: dir } })).importDataset;
      expect(again).toMatchObject({ imported: 0, unchanged: 6 });

      const data = ok(
        await t.gql(
          `query($id: ID!) { dataset(id: $id) {
          stats { train { count } test { count } imported reviewed labelsWaiting lastTrainedAt }
          anomalous: entries(filter: { label: ANOMALOUS }) { totalCount nodes { imported image { id } sourceUrl maskUrl regions { type box { x y width height } } } }
          all: entries(filter: { imported: true }) { totalCount }
        } }`,
          { id: first.dataset.id },
        ),
      ).dataset;
      expect(data.stats).toMatchObject({ imported: 6, reviewed: 0, lastTrainedAt: null, labelsWaiting: 6 });
      expect(data.stats.train.count + data.stats.test.count).toBe(6);
      expect(data.all.totalCount).toBe(6);
      expect(data.anomalous.totalCount).toBe(2);
      for (const e of data.anomalous.nodes) {
        expect(e).toMatchObject({ imported: true, image: null });
        // Folder types (blob, scratch) are not ANOMALY_TYPES: they become "other", boxed where the mask is.
        expect(e.regions).toHaveLength(1);
        expect(e.regions[0].type).toBe('other');
        expect(e.regions[0].box.width).toBeLessThan(0.5);
        expect((await fetch(e.sourceUrl)).status).toBe(200);
        expect((await fetch(e.maskUrl)).status).toBe(200);
      }
    });

    it('refuses both sources at once, a missing folder and one without pictures, changing nothing', async () => {
      const type = `bad-${crypto.randomUUID().slice(0, 6)}`;
      expect(failure(await t.gql(IMPORT, { i: { deviceType: type, folder: 'x', manifestUri: 'file:///x' } })).message).toMatch(
        /exactly one of folder and manifestUri/,
      );
      const missing = failure(await t.gql(IMPORT, { i: { deviceType: type, folder: 'nope/deeper' } }));
      expect(missing.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'folder' });
      expect(missing.message).toMatch(/"nope\/deeper" is not a folder under the import root/);
      const empty = path.relative(importRoot, tmp());
      const noImages = failure(await t.gql(IMPORT, { i: { deviceType: type, folder: empty } }));
      expect(noImages.message).toMatch(new RegExp(`"${empty}" has no normal images`));
      for (const m of [missing.message, noImages.message]) expect(m).not.toContain(importRoot);
      // A failed import leaves no dataset behind.
      expect(await t.app.db.prisma.dataset.count({ where: { deviceType: type } })).toBe(0);
    });

    it('reads only under IMPORT_ROOT: folders outside it, and links out of it, are refused', async () => {
      const type = `root-${crypto.randomUUID().slice(0, 6)}`;
      await writeDataset(outside, { normal: 2, anomalous: 0, seed: 8, side: 96 });
      for (const folder of [outside, path.join(importRoot, '..', path.basename(outside)), '../../../../../../etc', '/etc']) {
        const refused = failure(await t.gql(IMPORT, { i: { deviceType: type, folder } }));
        expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'folder' });
        expect(refused.message).toMatch(/is not a folder under the import root/);
        expect(refused.message).not.toContain(importRoot);
      }
      // A link inside the root to a folder outside it is refused as well.
      fs.symlinkSync(outside, path.join(importRoot, `link-${type}`));
      const linked = failure(await t.gql(IMPORT, { i: { deviceType: type, folder: `link-${type}` } }));
      expect(linked.message).toMatch(/is not a folder under the import root/);
      expect(linked.message).not.toContain(outside);
      expect(await t.app.db.prisma.dataset.count({ where: { deviceType: type } })).toBe(0);
    });

    it('skips files linked from outside the root, FIFOs and other non-files, and finishes', async () => {
      const type = `skip-${crypto.randomUUID().slice(0, 6)}`;
      const dir = tmp();
      await writeDataset(dir, { normal: 2, anomalous: 0, seed: 9, side: 96 });
      fs.writeFileSync(path.join(outside, 'secret.png'), await toPng(surface(77, 96), 96));
      fs.symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'normal', 'secret.png'));
      execFileSync('mkfifo', [path.join(dir, 'normal', 'pipe.png')]);
      fs.mkdirSync(path.join(dir, 'normal', 'folder.png'));
      // A link that stays inside the root is a file like any other.
      fs.symlinkSync(path.join(dir, 'normal', 'n0.png'), path.join(dir, 'normal', 'zz-alias.png'));
      const report = ok(await t.gql(IMPORT, { i: { deviceType: type, folder: path.relative(importRoot, dir) } })).importDataset;
      expect(report).toMatchObject({ imported: 2, unchanged: 1, errors: [] });
    });

    it('imports a Lookout-format manifest naming pictures in the store, and lists the lines it cannot take', async () => {
      const store = t.app.objectStore.store;
      const root = (t.app.config.objectStore as { root: string }).root;
      const uri = (key: string) => `file://${root}/${key}`;
      await store.put('incoming/n1.png', await toPng(surface(71, 96), 96), { contentType: 'image/png' });
      await store.put('incoming/a1.png', await toPng(surface(72, 96), 96), { contentType: 'image/png' });
      const lines = [
        { 'source-ref': uri('incoming/n1.png'), 'anomaly-label': 0 },
        { 'source-ref': uri('incoming/a1.png'), 'anomaly-label': 1 },
        { 'source-ref': 's3://someone-elses-bucket/x.png', 'anomaly-label': 0 },
        { 'source-ref': uri('incoming/n1.png'), 'anomaly-label': 'yes' },
      ];
      await store.put('incoming/manifest.jsonl', Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n')), {
        contentType: 'application/x-ndjson',
      });
      const type = `manifest-${crypto.randomUUID().slice(0, 6)}`;
      const report = ok(
        await t.gql(IMPORT, { i: { deviceType: type, manifestUri: uri('incoming/manifest.jsonl'), split: 'TEST' } }),
      ).importDataset;
      expect(report).toMatchObject({ imported: 2, unchanged: 0 });
      expect(report.errors).toEqual([
        { path: 'line 3', message: "source-ref s3://someone-elses-bucket/x.png is not in vigil's store" },
        { path: 'line 4', message: expect.stringContaining('anomaly-label') },
      ]);
      const stats = ok(
        await t.gql(`query($id: ID!) { dataset(id: $id) { stats { test { count normal anomalous } } } }`, { id: report.dataset.id }),
      ).dataset.stats;
      expect(stats.test).toEqual({ count: 2, normal: 1, anomalous: 1 });
      const outside = failure(await t.gql(IMPORT, { i: { deviceType: type, manifestUri: 's3://elsewhere/manifest.jsonl' } }));
      expect(outside.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'manifestUri' });
    });

    it('is for ADMINs only', async () => {
      const operator = await t.keyFor('OPERATOR');
      expect(failure(await t.gql(IMPORT, { i: { deviceType: 'x', folder: '/tmp' } }, operator)).extensions?.code).toBe('FORBIDDEN');
    });
  });

  describe('trainModel', () => {
    it('trains from the TRAIN split and measures on the TEST split only', async () => {
      const type = `train-${crypto.randomUUID().slice(0, 6)}`;
      const { datasetId } = await importedDataset(t, type);
      const started = ok(await t.gql(TRAIN, { i: { datasetId, profile: 'SCREEN', params: { seed: 3 } } })).trainModel;
      expect(started).toMatchObject({ status: 'TRAINING', trainer: 'builtin', trigger: 'MANUAL', deviceType: type, profile: 'SCREEN' });
      const v = await trained(t, started.id);
      expect(v).toMatchObject({ status: 'TRAINED', error: null, requestedBy: expect.stringMatching(/admin/i) });
      expect(v.version).toMatch(/^screen-[0-9a-f]{12}$/);
      expect(v.trainedOn).toMatchObject({
        entries: 32,
        train: { count: 20, normal: 14, anomalous: 6 },
        test: { count: 12, normal: 8, anomalous: 4 },
      });
      expect(v.metrics).toMatchObject({ source: 'builtin', testCount: 12, normal: 8, anomalous: 4, splitHash: v.trainedOn.splitHash });
      const c = v.metrics.confusion;
      expect(c.tp + c.fp + c.tn + c.fn).toBe(12);
      expect(c.tp + c.fn).toBe(4);
      expect(v.metrics.auroc).toBeGreaterThanOrEqual(0);
      expect(v.metrics.auroc).toBeLessThanOrEqual(1);
      expect(v.metrics.reviewBandShare).toBeGreaterThanOrEqual(0);
      // The curves: ROC from (0, 0) to (1, 1), its area the AUROC (trapezoids, ties are single steps).
      const roc: { x: number; y: number }[] = v.metrics.roc;
      expect(roc[0]).toEqual({ x: 0, y: 0 });
      expect(roc.at(-1)).toEqual({ x: 1, y: 1 });
      const area = roc.slice(1).reduce((sum, p, i) => sum + ((p.x - roc[i].x) * (p.y + roc[i].y)) / 2, 0);
      expect(area).toBeCloseTo(v.metrics.auroc, 2);
      // At the lowest threshold every image is called anomalous: precision is the anomalies' share, 4 of 12.
      expect(v.metrics.pr.at(-1)).toEqual({ x: 1, y: 0.3333 });
      expect(v.thresholds.reviewLow).toBeLessThanOrEqual(v.thresholds.reviewHigh);
      expect(v.artifact.bytes).toBeGreaterThan(1000);
      expect(v.artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect((await fetch(v.artifact.url)).status).toBe(200);
      expect(v.active).toBe(false);
      // The manifests the training froze: TRAIN and TEST share no picture.
      const lines = async (url: string) =>
        (await (await fetch(url)).text())
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)['source-ref'] as string);
      const train = await lines(v.trainedOn.trainManifestUrl);
      const test = await lines(v.trainedOn.testManifestUrl);
      expect(train).toHaveLength(20);
      expect(test).toHaveLength(12);
      expect(train.filter((r) => test.includes(r))).toEqual([]);

      const stats = ok(await t.gql(`query($id: ID!) { dataset(id: $id) { stats { labelsWaiting lastTrainedAt } } }`, { id: datasetId }))
        .dataset.stats;
      expect(stats.labelsWaiting).toBe(0);
      expect(stats.lastTrainedAt).not.toBeNull();
      const listed = ok(
        await t.gql(`query($f: ModelVersionFilter) { modelVersions(filter: $f) { totalCount nodes { id } } }`, { f: { deviceType: type } }),
      ).modelVersions;
      expect(listed).toEqual({ totalCount: 1, nodes: [{ id: started.id }] });
    });

    it('fails the version with the error and its cause when a picture is gone, and the next training is allowed', async () => {
      const type = `fail-${crypto.randomUUID().slice(0, 6)}`;
      const { datasetId } = await importedDataset(t, type, { normal: 6, anomalous: 0, testNormal: 2, testAnomalous: 1 });
      const entry = await t.app.db.prisma.datasetEntry.findFirstOrThrow({ where: { split: 'TRAIN', dataset: { deviceType: type } } });
      await t.app.objectStore.store.delete(entry.sourceKey!);
      const started = ok(await t.gql(TRAIN, { i: { datasetId, profile: 'SCREEN' } })).trainModel;
      const v = await trained(t, started.id);
      expect(v.status).toBe('FAILED');
      expect(v.error).toBeTruthy();
      expect(v.cause).toContain(entry.sourceKey);
      expect(v.metrics).toBeNull();
      expect(v.artifact).toBeNull();
      // Not stuck: the partial unique index only holds TRAINING rows.
      const next = ok(await t.gql(TRAIN, { i: { datasetId, profile: 'SCREEN' } })).trainModel;
      expect((await trained(t, next.id)).status).toBe('FAILED');
    });

    it('never trains one dataset and profile twice at once', async () => {
      const type = `once-${crypto.randomUUID().slice(0, 6)}`;
      const { datasetId } = await importedDataset(t, type, { normal: 6, anomalous: 2, testNormal: 3, testAnomalous: 1 });
      const results = await Promise.all([0, 1, 2].map(() => t.gql(TRAIN, { i: { datasetId, profile: 'SCREEN' } })));
      const okd = results.filter((r) => !r.errors);
      const refused = results.filter((r) => r.errors);
      expect(okd).toHaveLength(1);
      expect(refused.map((r) => r.errors![0].extensions?.code)).toEqual(['CONFLICT', 'CONFLICT']);
      expect(refused[0].errors![0].message).toMatch(/already training its SCREEN model/);
      await trained(t, okd[0].data!.trainModel.id);
      // Another profile of the same dataset is another model.
      const inspect = ok(await t.gql(TRAIN, { i: { datasetId, profile: 'INSPECT' } })).trainModel;
      expect((await trained(t, inspect.id)).status).toBe('TRAINED');
    });

    it('refuses bad requests with a clear error and starts nothing', async () => {
      const type = `refuse-${crypto.randomUUID().slice(0, 6)}`;
      const dir = tmp();
      await writeDataset(dir, { normal: 4, anomalous: 0, seed: 5, side: 96 });
      const { dataset } = ok(await t.gql(IMPORT, { i: { deviceType: type, folder: dir, split: 'TRAIN' } })).importDataset;
      const noTest = failure(await t.gql(TRAIN, { i: { datasetId: dataset.id, profile: 'INSPECT' } }));
      expect(noTest.extensions?.code).toBe('BAD_USER_INPUT');
      expect(noTest.message).toMatch(/no TEST entries/);
      const badParams = failure(await t.gql(TRAIN, { i: { datasetId: dataset.id, profile: 'INSPECT', params: { epochs: 5 } } }));
      expect(badParams.message).toMatch(/params: .*epochs/);
      expect(
        failure(await t.gql(TRAIN, { i: { datasetId: toGlobalId('Dataset', crypto.randomUUID()), profile: 'INSPECT' } })).extensions?.code,
      ).toBe('NOT_FOUND');
      expect(
        failure(await t.gql(TRAIN, { i: { datasetId: dataset.id, profile: 'INSPECT' } }, await t.keyFor('OPERATOR'))).extensions?.code,
      ).toBe('FORBIDDEN');
      expect(await t.app.db.prisma.modelVersion.count({ where: { deviceType: type } })).toBe(0);
    });
  });

  describe('deployModel and rollbackModel', () => {
    // The gate on figures set by hand: the comparison, the margins and the override are the subject here.
    async function versionWith(
      deviceType: string,
      datasetId: string,
      m: { recall: number; f1: number },
      baseline?: { id: string; recall: number; f1: number },
    ) {
      const metrics = (x: { recall: number; f1: number }) => ({
        source: 'builtin',
        testCount: 10,
        normal: 6,
        anomalous: 4,
        auroc: 0.9,
        precision: 0.8,
        threshold: 1,
        reviewBandShare: 0.1,
        accuracyOutsideBand: 1,
        confusion: null,
        splitHash: 'h',
        ...x,
      });
      return t.app.db.prisma.modelVersion.create({
        data: {
          datasetId,
          deviceType,
          profile: 'INSPECT',
          status: 'TRAINED',
          trainer: 'builtin',
          version: `inspect-${crypto.randomBytes(6).toString('hex')}`,
          metrics: {
            ...metrics(m),
            baseline: baseline ? { modelVersionId: baseline.id, version: null, metrics: metrics(baseline) } : null,
          },
        },
      });
    }

    it('accepts a better candidate, refuses a worse one, and lets an ADMIN override only with a reason', async () => {
      const type = `gate-${crypto.randomUUID().slice(0, 6)}`;
      const dataset = await t.app.services.datasets.forDeviceType(t.app.db.prisma, type);
      const a = await versionWith(type, dataset.id, { recall: 0.9, f1: 0.85 });
      const first = ok(await t.gql(DEPLOY, { i: { id: toGlobalId('ModelVersion', a.id) } })).deployModel;
      expect(first).toMatchObject({ action: 'DEPLOY', overridden: false, previous: null, gate: { passed: true, active: null } });

      const better = await versionWith(type, dataset.id, { recall: 0.95, f1: 0.9 }, { id: a.id, recall: 0.9, f1: 0.85 });
      const accepted = ok(await t.gql(DEPLOY, { i: { id: toGlobalId('ModelVersion', better.id) } })).deployModel;
      expect(accepted).toMatchObject({
        overridden: false,
        previous: { id: toGlobalId('ModelVersion', a.id) },
        gate: { passed: true, reasons: [], active: { f1: 0.85 }, candidate: { f1: 0.9 } },
      });

      // Within the margin (0.02) is not worse.
      const close = await versionWith(type, dataset.id, { recall: 0.94, f1: 0.89 }, { id: better.id, recall: 0.95, f1: 0.9 });
      expect(ok(await t.gql(DEPLOY, { i: { id: toGlobalId('ModelVersion', close.id) } })).deployModel.gate.passed).toBe(true);

      const worse = await versionWith(type, dataset.id, { recall: 0.7, f1: 0.88 }, { id: close.id, recall: 0.94, f1: 0.89 });
      const refused = failure(await t.gql(DEPLOY, { i: { id: toGlobalId('ModelVersion', worse.id) } }));
      expect(refused.extensions?.code).toBe('GATE_REFUSED');
      expect(refused.message).toMatch(/recall 0\.700 < 0\.940 − margin 0\.02/);
      expect((refused.extensions!.gate as { passed: boolean }).passed).toBe(false);
      const serving = () => t.gql(ACTIVE, { t: type }).then((r) => ok(r).activeModels[0].model.id);
      expect(await serving()).toBe(toGlobalId('ModelVersion', close.id));

      const noReason = failure(await t.gql(DEPLOY, { i: { id: toGlobalId('ModelVersion', worse.id), override: true } }));
      expect(noReason.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
      expect(await serving()).toBe(toGlobalId('ModelVersion', close.id));
      const forced = ok(
        await t.gql(DEPLOY, {
          i: { id: toGlobalId('ModelVersion', worse.id), override: true, reason: 'recall drop accepted: new defect class' },
        }),
      ).deployModel;
      expect(forced).toMatchObject({
        overridden: true,
        reason: 'recall drop accepted: new defect class',
        deployedBy: expect.stringMatching(/admin/i),
        gate: { passed: false },
      });
      expect(await serving()).toBe(toGlobalId('ModelVersion', worse.id));

      // Rollback walks back: worse → close → better → a → nothing.
      for (const expected of [close, better, a]) {
        const back = ok(await t.gql(ROLLBACK, { i: { deviceType: type, profile: 'INSPECT' } })).rollbackModel;
        expect(back).toMatchObject({ action: 'ROLLBACK', model: { id: toGlobalId('ModelVersion', expected.id) } });
        expect(await serving()).toBe(toGlobalId('ModelVersion', expected.id));
      }
      const none = failure(await t.gql(ROLLBACK, { i: { deviceType: type, profile: 'INSPECT' } }));
      expect(none.extensions?.code).toBe('CONFLICT');
      expect(none.message).toMatch(/no earlier version/);
    });

    it('deploys only TRAINED versions, and deploying the serving version again changes nothing', async () => {
      const type = `state-${crypto.randomUUID().slice(0, 6)}`;
      const dataset = await t.app.services.datasets.forDeviceType(t.app.db.prisma, type);
      const v = await versionWith(type, dataset.id, { recall: 0.9, f1: 0.9 });
      const d1 = ok(await t.gql(DEPLOY, { i: { id: toGlobalId('ModelVersion', v.id) } })).deployModel;
      const d2 = ok(await t.gql(DEPLOY, { i: { id: toGlobalId('ModelVersion', v.id) } })).deployModel;
      expect(d2.id).toBe(d1.id);
      const failed = await t.app.db.prisma.modelVersion.create({
        data: { datasetId: dataset.id, deviceType: type, profile: 'INSPECT', status: 'FAILED', trainer: 'builtin' },
      });
      const refused = failure(await t.gql(DEPLOY, { i: { id: toGlobalId('ModelVersion', failed.id) } }));
      expect(refused.extensions?.code).toBe('CONFLICT');
      expect(refused.message).toMatch(/is FAILED: only TRAINED versions deploy/);
    });

    it('swaps atomically: a run keeps the version it started with, the next run uses the new one', async () => {
      const type = `swap-${crypto.randomUUID().slice(0, 6)}`;
      const { datasetId } = await importedDataset(t, type, { normal: 10, anomalous: 4, testNormal: 4, testAnomalous: 2 });
      const v1 = await trained(t, ok(await t.gql(TRAIN, { i: { datasetId, profile: 'SCREEN', params: { seed: 1 } } })).trainModel.id);
      const v2 = await trained(t, ok(await t.gql(TRAIN, { i: { datasetId, profile: 'SCREEN', params: { seed: 2 } } })).trainModel.id);
      expect(v1.version).not.toBe(v2.version);
      ok(await t.gql(DEPLOY, { i: { id: v1.id } }));

      const { inspectionId } = await deviceWithInspection(t, type);
      const photos = await Promise.all(Array.from({ length: 40 }, (_, i) => surfacePhoto(3000 + i, i % 5 === 0)));
      await uploadImages(t, inspectionId, photos);
      const runRow = () =>
        t.app.db.prisma.workflowRun.findFirst({ where: { inspectionId: fromGlobalId('Inspection', inspectionId, 'id') } });
      // Deploy v2 once the run has judged a few images.
      let run = await runRow();
      for (let i = 0; i < 600 && (!run || (await t.app.db.prisma.detection.count({ where: { workflowRunId: run.id } })) < 3); i++) {
        await new Promise((r) => setTimeout(r, 25));
        run = await runRow();
      }
      const deployedAt = new Date();
      ok(await t.gql(DEPLOY, { i: { id: v2.id, override: true, reason: 'swap under load in a test' } }));
      await waitForRun(t, inspectionId);
      const during = await t.app.db.prisma.detection.findMany({ where: { workflowRunId: run!.id, stage: 'SCREEN' } });
      expect(during).toHaveLength(40);
      // The swap happened while the run was judging: some of its detections came after it.
      expect(during.filter((d) => d.createdAt > deployedAt).length).toBeGreaterThan(0);
      expect([...new Set(during.map((d) => d.modelVersion))]).toEqual([v1.version]);

      const next = await deviceWithInspection(t, type);
      await uploadImages(t, next.inspectionId, photos.slice(0, 4));
      await waitForRun(t, next.inspectionId);
      const after = await t.app.db.prisma.detection.findMany({
        where: { stage: 'SCREEN', image: { inspectionId: fromGlobalId('Inspection', next.inspectionId, 'id') } },
      });
      expect(after.map((d) => d.modelVersion)).toEqual([v2.version, v2.version, v2.version, v2.version]);
    });
  });
});

describe('automatic retraining', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      MODEL_TRAINING_POLL_SECONDS: '1',
      MODEL_RETRAIN_AFTER_LABELS: '3',
      IMPORT_ROOT: importRoot,
      MODEL_AUTO_DEPLOY: 'true',
      DATASET_TEST_SHARE: '0',
    });
  });
  afterAll(() => t?.stop());

  it('starts one training for N new labels, not one per label, and deploys it through the gate', async () => {
    const type = `auto-${crypto.randomUUID().slice(0, 6)}`;
    const { datasetId } = await importedDataset(t, type, { normal: 8, anomalous: 2, testNormal: 3, testAnomalous: 1 });
    // A manual INSPECT training makes the dataset one whose INSPECT model is kept up to date.
    const manual = await trained(t, ok(await t.gql(TRAIN, { i: { datasetId, profile: 'INSPECT' } })).trainModel.id);
    expect(manual.status).toBe('TRAINED');
    const { taskIds } = await coldStartTasks(t, 5, type);
    const reviewer = await newKey(t, 'REVIEWER');
    for (let i = 0; i < taskIds.length; i++) {
      const task = ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview;
      ok(await t.gql(SUBMIT, { id: task.id, v: 'NORMAL' }, reviewer));
    }
    // Settle: wait until nothing trains.
    const until = Date.now() + 120_000;
    while ((await t.app.db.prisma.modelVersion.count({ where: { deviceType: type, status: 'TRAINING' } })) > 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    const autos = await t.app.db.prisma.modelVersion.findMany({ where: { deviceType: type, trigger: 'AUTO_LABELS' } });
    expect(autos).toHaveLength(1);
    expect(autos[0]).toMatchObject({ status: 'TRAINED', profile: 'INSPECT', requestedBy: null });
    expect((autos[0].trainedOn as { train: { count: number } }).train.count).toBeGreaterThanOrEqual(10 + 3);
    // The deployment follows TRAINED (FinishTraining's after-step): wait for it.
    let active = ok(await t.gql(ACTIVE, { t: type })).activeModels;
    for (let i = 0; i < 200 && !active.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      active = ok(await t.gql(ACTIVE, { t: type })).activeModels;
    }
    expect(active).toEqual([
      expect.objectContaining({ profile: 'INSPECT', model: expect.objectContaining({ id: toGlobalId('ModelVersion', autos[0].id) }) }),
    ]);
    const deployment = await t.app.db.prisma.modelDeployment.findFirstOrThrow({ where: { modelVersionId: autos[0].id } });
    expect(deployment.deployedBy).toBe('auto:AUTO_LABELS');
  });
});
