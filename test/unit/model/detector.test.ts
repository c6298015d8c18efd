import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { type Backbone } from '../../../src/adapters/backbone/backbone.port';
import { openMobilenetBackbone } from '../../../src/adapters/backbone/mobilenet.backbone';
import { loadArtifact, parseArtifact, saveArtifact, serializeArtifact, ModelArtifactError } from '../../../src/model/artifact';
import { readDatasetFolder } from '../../../src/model/dataset';
import { evaluate, predict, train } from '../../../src/model/detector';
import { type ModelArtifact } from '../../../src/model/artifact';
import { type Defect, writeDataset } from '../../support/textures';

let trainDir: string;
let testDir: string;
let defects: Map<string, Defect>;
let model: ModelArtifact;
let backbone: Backbone;

beforeAll(async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-model-'));
  trainDir = path.join(root, 'train');
  testDir = path.join(root, 'test');
  await writeDataset(trainDir, { normal: 20, anomalous: 0, seed: 1 });
  defects = await writeDataset(testDir, { normal: 6, anomalous: 6, seed: 500 });
  backbone = await openMobilenetBackbone();
  model = await train(backbone, await readDatasetFolder(trainDir), { profile: 'inspect', seed: 3 });
}, 120_000);

afterAll(() => backbone.close());

describe('a model trained on 20 normal images', () => {
  it('ranks every defective test image above every normal one', async () => {
    const { report } = await evaluate(backbone, model, await readDatasetFolder(testDir));
    const worstDefect = Math.min(...report.images.filter((i) => i.label === 'anomalous').map((i) => i.score));
    const mostUnusualNormal = Math.max(...report.images.filter((i) => i.label === 'normal').map((i) => i.score));
    expect(worstDefect).toBeGreaterThan(mostUnusualNormal);
    expect(report.imageAuroc).toBe(1);
    expect(report.count).toBe(12);
    expect(report.pixelAuroc).toBeGreaterThan(0.8);
  });

  it('puts the heatmap peak inside the drawn defect and returns a region around it', async () => {
    for (const [id, defect] of defects) {
      const r = await predict(backbone, model, fs.readFileSync(path.join(testDir, id)));
      const { cols, values } = r.map;
      const peak = values.indexOf(Math.max(...values));
      const side = 160;
      const [x, y] = [((peak % cols) + 0.5) * (side / cols), (Math.floor(peak / cols) + 0.5) * (side / cols)];
      const slack = side / cols; // one map cell
      expect(x).toBeGreaterThanOrEqual(defect.box.left - slack);
      expect(x).toBeLessThanOrEqual(defect.box.left + defect.box.width + slack);
      expect(y).toBeGreaterThanOrEqual(defect.box.top - slack);
      expect(y).toBeLessThanOrEqual(defect.box.top + defect.box.height + slack);
      expect(r.isAnomalous).toBe(true);
      expect(r.regions.length).toBeGreaterThan(0);
      const heat = await sharp(r.heatmap).metadata();
      expect([heat.format, heat.width, heat.height]).toEqual(['png', 256, 256]);
    }
  });

  it('says how sure it is: confidence is the probability that the verdict is right', async () => {
    const r = await predict(backbone, model, fs.readFileSync(path.join(testDir, 'normal/n0.png')));
    expect(r.isAnomalous).toBe(false);
    expect(r.confidence).toBeCloseTo(1 - r.anomalyProbability, 10);
    expect(r.confidence).toBeGreaterThan(0.5);
    expect(r.model).toEqual({ version: model.manifest.version, profile: 'inspect' });
  });

  it('is deterministic: the same seed gives the same model and the same scores', async () => {
    const again = await train(backbone, await readDatasetFolder(trainDir), { profile: 'inspect', seed: 3 });
    expect(again.manifest.version).toBe(model.manifest.version);
    expect(again.manifest.trainingSet.hash).toBe(model.manifest.trainingSet.hash);
    const image = fs.readFileSync(path.join(testDir, [...defects.keys()][0]));
    expect((await predict(backbone, again, image)).score).toBe((await predict(backbone, model, image)).score);
  }, 60_000);

  it.each([
    ['a grey 1×1 image', () => sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toBuffer()],
    ['a 10000×10 strip', () => sharp({ create: { width: 10000, height: 10, channels: 3, background: '#406080' } }).jpeg().toBuffer()],
  ])('handles %s without crashing', async (_name, make) => {
    const r = await predict(backbone, model, await make());
    expect(typeof r.isAnomalous).toBe('boolean');
    expect(Number.isFinite(r.score)).toBe(true);
    expect((await sharp(r.heatmap).metadata()).format).toBe('png');
  });

  it('refuses a file that is not an image with a clear error', async () => {
    await expect(predict(backbone, model, Buffer.from('not an image'))).rejects.toThrow('the image cannot be read');
  });
});

describe('with labelled anomalies', () => {
  it('learns a supervised refinement and still separates the test set', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-model-sup-'));
    await writeDataset(dir, { normal: 24, anomalous: 12, seed: 40 });
    const supervised = await train(backbone, await readDatasetFolder(dir), { profile: 'screen', seed: 1 });
    expect(supervised.manifest.trainingSet).toMatchObject({ normal: 24, anomalous: 12, types: ['blob', 'scratch'], supervised: true });
    const { report } = await evaluate(backbone, supervised, await readDatasetFolder(testDir));
    expect(report.imageAuroc).toBeGreaterThan(0.9);
    expect(report.byType.map((t) => t.type)).toEqual(['blob', 'scratch']);
  }, 60_000);
});

describe('model artifacts', () => {
  it('round-trip through a file', async () => {
    const file = path.join(os.tmpdir(), `vigil-model-${process.pid}.vgm`);
    await saveArtifact(file, model);
    const loaded = await loadArtifact(file);
    expect(loaded.manifest).toEqual(model.manifest);
    expect(Array.from(loaded.payload.bank)).toEqual(Array.from(model.payload.bank));
  });

  it.each([
    ['a truncated file', (b: Buffer) => b.subarray(0, b.length / 2), 'not a vigil model'],
    ['random bytes', () => Buffer.from('hello world'), 'not a vigil model'],
    ['changed numbers', (b: Buffer) => rewrite(b, (doc) => ((doc.payload as { bank: string }).bank = Buffer.alloc(16).toString('base64'))), 'corrupt'],
    ['another format version', (b: Buffer) => rewrite(b, (doc) => ((doc.manifest as { formatVersion: number }).formatVersion = 99)), 'format version 99'],
  ])('refuse %s with a clear error', (_name, damage, message) => {
    const bytes = damage(serializeArtifact(model));
    expect(() => parseArtifact(bytes)).toThrow(ModelArtifactError);
    expect(() => parseArtifact(bytes)).toThrow(message);
  });
});

function rewrite(bytes: Buffer, change: (doc: Record<string, unknown>) => void): Buffer {
  const zlib = require('node:zlib') as typeof import('node:zlib');
  const doc = JSON.parse(zlib.gunzipSync(bytes).toString());
  change(doc);
  return zlib.gzipSync(JSON.stringify(doc));
}
