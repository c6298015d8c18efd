import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { type Backbone, type BackboneInput } from '../../../src/adapters/backbone/backbone.port';
import { openMobilenetBackbone } from '../../../src/adapters/backbone/mobilenet.driver';
import { loadArtifact, parseArtifact, saveArtifact, serializeArtifact, ModelArtifactError } from '../../../src/anomaly-model/artifact';
import { readDatasetFolder } from '../../../src/anomaly-model/dataset';
import { evaluate, predict, train } from '../../../src/anomaly-model/detector';
import { modelImageFor, rawFeatures } from '../../../src/anomaly-model/features';
import { flippedView } from '../../../src/anomaly-model/image-io';
import { PROFILES } from '../../../src/anomaly-model/profiles';
import { imageLogit } from '../../../src/anomaly-model/scoring';
import { type ModelArtifact } from '../../../src/anomaly-model/artifact';
import { type Defect, writeDataset } from '../../support/textures';

let trainDir: string;
let testDir: string;
let defects: Map<string, Defect>;
let model: ModelArtifact;
let backbone: Backbone;

/** The backbone, telling `see` of every picture it is given. */
const watching = (inner: Backbone, see: (input: BackboneInput) => unknown): Backbone => ({
  ...inner,
  extract: (input) => {
    see(input);
    return inner.extract(input);
  },
});

/** A short fingerprint of a picture's numbers: which of the views the backbone saw. */
const fingerprint = (x: BackboneInput) => `${x.width}x${x.height}:${x.data.subarray(0, 30).join(',')}`;

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
      expect(x).toBeGreaterThanOrEqual(defect.box.x - slack);
      expect(x).toBeLessThanOrEqual(defect.box.x + defect.box.width + slack);
      expect(y).toBeGreaterThanOrEqual(defect.box.y - slack);
      expect(y).toBeLessThanOrEqual(defect.box.y + defect.box.height + slack);
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
    [
      'a grey 1×1 image',
      () =>
        sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
          .png()
          .toBuffer(),
    ],
    [
      'a 10000×10 strip',
      () =>
        sharp({ create: { width: 10000, height: 10, channels: 3, background: '#406080' } })
          .jpeg()
          .toBuffer(),
    ],
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

describe('from normal pictures only (cold start)', () => {
  it('scores by the memory of normal patches and says its validation has no anomalies', () => {
    expect(model.manifest.scoreMode).toBe('memory');
    expect(model.manifest.validation).toMatchObject({ folds: 5, imageAuroc: null });
    expect(model.manifest.thresholds.reviewBand.low).toBeLessThan(model.manifest.thresholds.operating);
    expect(model.manifest.thresholds.reviewBand.high).toBeGreaterThan(model.manifest.thresholds.operating);
  });

  it('draws its map on the memory grid: 2×2-averaged patches, half the patch grid each way', async () => {
    const r = await predict(backbone, model, fs.readFileSync(path.join(testDir, 'normal/n0.png')));
    const input = backbone.inputSize(1, model.manifest.features.area);
    expect(r.map).toMatchObject({ cols: Math.ceil(input.width / 16), rows: Math.ceil(input.height / 16) });
    expect(r.map.values).toHaveLength(r.map.cols * r.map.rows);
  });
});

describe('with labelled anomalies', () => {
  let supervised: ModelArtifact;
  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-model-sup-'));
    await writeDataset(dir, { normal: 24, anomalous: 12, seed: 40 });
    supervised = await train(backbone, await readDatasetFolder(dir), { profile: 'screen', seed: 1 });
  }, 60_000);

  /** A test picture, its image-classifier logit from each of its four views, and from all of them. */
  const classifierLogits = async (name: string) => {
    const image = fs.readFileSync(path.join(testDir, name));
    const raw = await rawFeatures(backbone, image, supervised.manifest.features.area, 4);
    raw.aggregated.dispose();
    const logit = (pooled: Float32Array) => imageLogit(supervised.payload.imageModel!, supervised.payload.imageScaler!, pooled);
    return { image, views: raw.pooledViews.map(logit), all: logit(raw.pooled) };
  };

  /** The supervised model scored by its classifier on four views, its review band [low, low + 1), its features changed by `change`. */
  const judgingByFourViews = (low: number, change: (features: ModelArtifact['manifest']['features']) => void) =>
    parseArtifact(
      rewrite(serializeArtifact(supervised), (doc) => {
        const manifest = doc.manifest as ModelArtifact['manifest'];
        manifest.scoreMode = 'classifier';
        manifest.features.views = 4;
        change(manifest.features);
        manifest.thresholds.reviewBand = { low, high: low + 1 };
        manifest.thresholds.operating = low + 0.5;
      }),
    );

  it('learns a supervised refinement and still separates the test set', async () => {
    expect(supervised.manifest.trainingSet).toMatchObject({ normal: 24, anomalous: 12, types: ['blob', 'scratch'], supervised: true });
    // Chosen on out-of-fold scores of all 36 training pictures: the memory, the classifier or both.
    expect(supervised.manifest.validation.count).toBe(36);
    const { memoryAuroc, classifierAuroc, stackedAuroc, imageAuroc } = supervised.manifest.validation;
    expect(imageAuroc).toBe(Math.max(memoryAuroc!, classifierAuroc!, stackedAuroc!));
    expect(supervised.payload.patchModel?.weights).toHaveLength(supervised.manifest.features.channels);
    // A screen passes on everything at or above its recall-0.99 threshold: its band starts there.
    expect(supervised.manifest.thresholds.reviewBand.low).toBe(supervised.manifest.thresholds.operating);
    const { report } = await evaluate(backbone, supervised, await readDatasetFolder(testDir));
    expect(report.imageAuroc).toBeGreaterThan(0.9);
    expect(report.byType.map((t) => t.type)).toEqual(['blob', 'scratch']);
  });

  it('learns from four flipped views of each picture when asked, and records them only when its score reads the classifier', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-model-views-'));
    await writeDataset(dir, { normal: 24, anomalous: 12, seed: 40 });
    const dataset = await readDatasetFolder(dir);
    const calls = { count: 0 };
    const counting = watching(backbone, () => calls.count++);
    const one = await train(counting, dataset, { profile: 'screen', seed: 1 });
    const oneView = calls.count;
    calls.count = 0;
    const four = await train(counting, dataset, { profile: 'screen', seed: 1, views: 4 });
    // Three more looks at each of the 36 training pictures, nothing else.
    expect(calls.count - oneView).toBe(36 * 3);
    expect(one.manifest.features.views).toBe(PROFILES.screen.views);
    expect(PROFILES.screen.views).toBe(1);
    // These synthetic defects are told apart by the memory alone (ties go to the simpler score): no views to record.
    expect(four.manifest.scoreMode).toBe('memory');
    expect(four.manifest.features.views).toBe(1);
    expect(four.payload.imageModel).not.toBeNull();
    // A second backbone looks at the flipped views (1 to 3), the first at each picture as it is, and they learn the very same numbers.
    const seenBySecond = { count: 0, closed: 0 };
    calls.count = 0;
    const shared = await train(counting, dataset, {
      profile: 'screen',
      seed: 1,
      views: 4,
      openSecondBackbone: async () => ({
        ...watching(backbone, () => seenBySecond.count++),
        close: async () => void seenBySecond.closed++,
      }),
    });
    expect(seenBySecond.count).toBe(36 * 3);
    expect(calls.count).toBe(oneView);
    expect(seenBySecond.closed).toBe(1);
    expect(shared.manifest.payloadSha256).toBe(four.manifest.payloadSha256);
    // Another network as the second backbone is refused before any picture is looked at.
    const other = { ...backbone, identity: { ...backbone.identity, weightsSha256: 'cd'.repeat(32) }, close: async () => undefined };
    await expect(train(backbone, dataset, { profile: 'screen', views: 4, openSecondBackbone: async () => other })).rejects.toThrow(
      /the second backbone \(nsfwjs\/mobilenet_v2, weights cdcdcdcdcdcd\) is not the first/,
    );
  }, 150_000);

  it('judges a picture by its four flipped views when its score reads the image classifier', async () => {
    const m = supervised;
    const classifying = parseArtifact(
      rewrite(serializeArtifact(m), (doc) => {
        const manifest = doc.manifest as { scoreMode: string; features: { views?: number } };
        manifest.scoreMode = 'classifier';
        manifest.features.views = 4;
      }),
    );
    const image = fs.readFileSync(path.join(testDir, [...defects.keys()][0]));
    const seen: string[] = [];
    const counting = watching(backbone, (input) => seen.push(fingerprint(input)));
    const judged = await predict(counting, classifying, image);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    // Its score is the classifier's logit of the four views' mean statistics.
    const raw = await rawFeatures(backbone, image, classifying.manifest.features.area, 4);
    raw.aggregated.dispose();
    expect(judged.score).toBeCloseTo(imageLogit(m.payload.imageModel!, m.payload.imageScaler!, raw.pooled), 4);
    // The evaluation report says how it judges.
    const { report } = await evaluate(backbone, classifying, await readDatasetFolder(testDir));
    expect(report.model.method).toBe('backbone-patchcore+logistic (classifier, nsfwjs/mobilenet_v2, 4 flipped views)');
    // The memory-scored model of 20 normals looks once.
    seen.length = 0;
    await predict(counting, model, image);
    expect(seen).toHaveLength(1);
    expect((await evaluate(backbone, model, await readDatasetFolder(testDir))).report.model.method).toBe(
      'backbone-patchcore+logistic (memory, nsfwjs/mobilenet_v2)',
    );
    // A model from before views (no `views` in its manifest) looks once too.
    const older = parseArtifact(
      rewrite(serializeArtifact(classifying), (doc) => delete (doc.manifest as { features: { views?: number } }).features.views),
    );
    seen.length = 0;
    await predict(counting, older, image);
    expect(seen).toHaveLength(1);
  });

  it('judges a picture by its first view alone when that score is clearly outside the review band (a model with a one-view margin)', async () => {
    const { image, views, all } = await classifierLogits([...defects.keys()][0]);
    const first = views[0];
    // A band that starts 1 above the first view's score, with a margin of `margin`.
    const withMargin = (margin: number | undefined) =>
      judgingByFourViews(first + 1, (features) => {
        features.oneViewMargin = margin;
      });
    const seen: string[] = [];
    const counting = watching(backbone, (input) => seen.push(fingerprint(input)));
    // 1 below the band, margin 0.5: clearly outside, one look.
    const clear = await predict(counting, withMargin(0.5), image);
    expect(seen).toHaveLength(1);
    expect(clear).toMatchObject({ views: 1, isAnomalous: false, uncertain: false });
    expect(clear.score).toBeCloseTo(first, 4);
    // Margin 1.5: the other views could bring it into the band, so all four are taken.
    seen.length = 0;
    const near = await predict(counting, withMargin(1.5), image);
    expect(new Set(seen).size).toBe(4);
    expect(near.views).toBe(4);
    expect(near.score).toBeCloseTo(all, 4);
    expect(Math.abs(all - first)).toBeGreaterThan(1e-3);
    // A model without a margin always takes all its views.
    seen.length = 0;
    expect((await predict(counting, withMargin(undefined), image)).views).toBe(4);
    expect(seen).toHaveLength(4);
    // The evaluation says how many pictures one view was enough for, and how the model judges.
    const { report } = await evaluate(backbone, withMargin(1e-6), await readDatasetFolder(testDir));
    expect(report.model.method).toBe(
      'backbone-patchcore+logistic (classifier, nsfwjs/mobilenet_v2, 4 flipped views, 1 where that is clear)',
    );
    expect(report.oneViewShare).toBe(report.images.filter((i) => i.views === 1).length / report.images.length);
    expect(report.images.every((i) => i.views === 1 || i.views === 4)).toBe(true);
    const shares = report.viewShares!;
    expect(shares.map((s) => s.views)).toEqual([...new Set(report.images.map((i) => i.views))].sort());
    expect(shares.reduce((sum, s) => sum + s.share, 0)).toBeCloseTo(1, 9);
  });

  it('takes a second look at two views before all four, and stops there when that score is clear', async () => {
    const { image, views, all } = await classifierLogits([...defects.keys()][1]);
    const two = (views[0] + views[3]) / 2;
    // The band sits 3 above the higher of the two scores; the first look's margin is too wide to stop, the second's is `margin`.
    const withSecondMargin = (margin: number) =>
      judgingByFourViews(Math.max(views[0], two) + 3, (features) => {
        features.looks = [
          { views: [0], below: 1000, above: 1000 },
          { views: [0, 3], below: margin, above: 0 },
        ];
      });
    const seen: string[] = [];
    const counting = watching(backbone, (input) => seen.push(fingerprint(input)));
    const second = await predict(counting, withSecondMargin(1), image);
    expect(second.views).toBe(2);
    expect(second.score).toBeCloseTo(two, 4);
    // View 0 and the picture turned half a circle (view 3), each looked at once.
    const { input } = await modelImageFor(backbone, image, supervised.manifest.features.area);
    expect(seen).toEqual([fingerprint(flippedView(input, 0)), fingerprint(flippedView(input, 3))]);
    seen.length = 0;
    // A second look not clear enough: the two views it lacks, once each.
    const every = await predict(counting, withSecondMargin(5), image);
    expect(every.views).toBe(4);
    expect(new Set(seen).size).toBe(4);
    expect(seen).toHaveLength(4);
    expect(every.score).toBeCloseTo(all, 4);
    const { report } = await evaluate(backbone, withSecondMargin(1), await readDatasetFolder(testDir));
    expect(report.model.method).toBe(
      'backbone-patchcore+logistic (classifier, nsfwjs/mobilenet_v2, 4 flipped views, 1 then 2 where that is clear)',
    );
  });

  it.each([0, 5, 1.5])('refuses %p views', async (views) => {
    await expect(train(backbone, await readDatasetFolder(trainDir), { profile: 'inspect', views })).rejects.toThrow(
      `views must be a whole number from 1 to 4, not ${views}`,
    );
  });

  it('gives a mirrored picture the same pooled statistics: the four views are the same set', async () => {
    const image = fs.readFileSync(path.join(testDir, [...defects.keys()][0]));
    const mirrored = await sharp(image).flop().png().toBuffer();
    const [a, b] = await Promise.all([rawFeatures(backbone, image, 128 * 128, 4), rawFeatures(backbone, mirrored, 128 * 128, 4)]);
    a.aggregated.dispose();
    b.aggregated.dispose();
    expect(a.pooledViews).toHaveLength(4);
    const largest = Math.max(...a.pooled.map(Math.abs));
    const difference = Math.max(...a.pooled.map((v, i) => Math.abs(v - b.pooled[i])));
    expect(difference).toBeLessThan(1e-4 * largest);
    // One view alone is not mirror-blind: the test would pass for any pooling otherwise.
    const viewDifference = Math.max(...a.pooledViews[0].map((v, i) => Math.abs(v - b.pooledViews[0][i])));
    expect(viewDifference).toBeGreaterThan(100 * difference);
  });
});

describe('flipped views', () => {
  const input = { width: 3, height: 2, data: Float32Array.from({ length: 18 }, (_, i) => i) };
  const pixel = (x: BackboneInput, px: number, py: number) =>
    Array.from(x.data.subarray((py * x.width + px) * 3, (py * x.width + px) * 3 + 3));
  it.each([
    [0, 0, 0],
    [1, 2, 0],
    [2, 0, 1],
    [3, 2, 1],
  ])('view %i puts the top-left pixel at (%i, %i)', (view, x, y) => {
    const out = flippedView(input, view);
    expect([out.width, out.height]).toEqual([3, 2]);
    expect(pixel(out, x, y)).toEqual([0, 1, 2]);
    expect([...out.data].sort((p, q) => p - q)).toEqual([...input.data]);
  });

  it.each([4, -1, 0.5])('refuses view %p', (view) => {
    expect(() => flippedView(input, view)).toThrow(`a picture has views 0 to 3, not ${view}`);
  });
});

/** A model file whose manifest judges by four views with these looks. */
const withLooks = (b: Buffer, looks: unknown) =>
  rewrite(b, (doc) => {
    const m = doc.manifest as ModelArtifact['manifest'];
    m.features.views = 4;
    m.features.looks = looks as ModelArtifact['manifest']['features']['looks'];
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
    [
      'changed numbers',
      (b: Buffer) => rewrite(b, (doc) => ((doc.payload as { bank: string }).bank = Buffer.alloc(16).toString('base64'))),
      'corrupt',
    ],
    [
      'another format version',
      (b: Buffer) => rewrite(b, (doc) => ((doc.manifest as { formatVersion: number }).formatVersion = 99)),
      'format version 99',
    ],
    [
      'a manifest asking for a picture of 10¹² pixels',
      (b: Buffer) => rewrite(b, (doc) => ((doc.manifest as { features: { area: number } }).features.area = 1e12)),
      'is corrupt: its pictures would be 1000000000000 pixels (256 to 1048576)',
    ],
    [
      'a manifest asking for more views than a picture has',
      (b: Buffer) => rewrite(b, (doc) => ((doc.manifest as { features: { views: number } }).features.views = 1e9)),
      'is corrupt: it asks for 1000000000 views of a picture (1 to 4)',
    ],
    [
      'a negative one-view margin',
      (b: Buffer) => rewrite(b, (doc) => ((doc.manifest as { features: { oneViewMargin: number } }).features.oneViewMargin = -1)),
      'is corrupt: its one-view margin is -1 (a number ≥ 0)',
    ],
    [
      'a look that does not start with the picture as it is',
      (b: Buffer) => withLooks(b, [{ views: [1], below: 1, above: 1 }]),
      'is corrupt: a look is {"views":[1],"below":1,"above":1}',
    ],
    [
      'a look with a negative margin',
      (b: Buffer) => withLooks(b, [{ views: [0], below: -1, above: 1 }]),
      'is corrupt: a look is {"views":[0],"below":-1,"above":1}',
    ],
    [
      'as many looks as views',
      (b: Buffer) =>
        rewrite(b, (doc) => {
          const m = doc.manifest as ModelArtifact['manifest'];
          m.features.looks = Array.from({ length: m.features.views ?? 1 }, () => ({ views: [0], below: 1, above: 1 }));
        }),
      'is corrupt: its looks are',
    ],
    [
      'a threshold that is not a number',
      (b: Buffer) => rewrite(b, (doc) => ((doc.manifest as { thresholds: { operating: unknown } }).thresholds.operating = 'high')),
      'is corrupt: its thresholds or calibration are not all numbers',
    ],
    [
      'a calibration without its slope',
      (b: Buffer) => rewrite(b, (doc) => delete (doc.manifest as { calibration: { a?: number } }).calibration.a),
      'is corrupt: its thresholds or calibration are not all numbers',
    ],
    [
      'a review band that does not hold the operating threshold',
      (b: Buffer) =>
        rewrite(b, (doc) => {
          const t = (doc.manifest as ModelArtifact['manifest']).thresholds;
          t.reviewBand = { low: t.operating + 1, high: t.operating + 2 };
        }),
      'does not hold its operating threshold',
    ],
    [
      'a version 1 model (hand-crafted features)',
      (b: Buffer) => rewrite(b, (doc) => ((doc.manifest as { formatVersion: number }).formatVersion = 1)),
      'retrain it',
    ],
    [
      'a version 2 model (its memory compares single patches)',
      (b: Buffer) => rewrite(b, (doc) => ((doc.manifest as { formatVersion: number }).formatVersion = 2)),
      'version 2 model (its memory compares single patches); this vigil compares 2×2-averaged patches (format 3): retrain it',
    ],
  ])('refuse %s with a clear error', (_name, damage, message) => {
    const bytes = damage(serializeArtifact(model));
    expect(() => parseArtifact(bytes)).toThrow(ModelArtifactError);
    expect(() => parseArtifact(bytes)).toThrow(message);
  });

  it('record the backbone they were trained on and refuse to run on another one', async () => {
    expect(model.manifest.backbone).toEqual(backbone.identity);
    expect(model.manifest.backbone.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    const image = fs.readFileSync(path.join(testDir, 'normal/n0.png'));
    const other = { ...backbone, identity: { ...backbone.identity, name: 'onnx/resnet18.onnx', weightsSha256: 'ab'.repeat(32) } };
    await expect(predict(other, model, image)).rejects.toThrow(ModelArtifactError);
    await expect(predict(other, model, image)).rejects.toThrow(
      /trained on backbone nsfwjs\/mobilenet_v2 .* this vigil runs onnx\/resnet18.onnx .*retrain the model/,
    );
    const retapped = { ...backbone, identity: { ...backbone.identity, taps: ['block_5_add'] } };
    await expect(predict(retapped, model, image)).rejects.toThrow('taps block_5_add');
  });
});

describe('odd pictures', () => {
  const grey16 = () =>
    sharp(Buffer.from(Uint16Array.from({ length: 96 * 96 }, (_, i) => (i * 677) % 65535).buffer), {
      raw: { width: 96, height: 96, channels: 1 },
    })
      .toColourspace('grey16')
      .png()
      .toBuffer();
  it.each([
    [
      'a grayscale PNG',
      () =>
        sharp({ create: { width: 120, height: 90, channels: 3, background: '#777' } })
          .greyscale()
          .png()
          .toBuffer(),
    ],
    ['a 16-bit grayscale PNG', grey16],
    [
      'a CMYK JPEG',
      () =>
        sharp({ create: { width: 100, height: 140, channels: 3, background: '#3a6' } })
          .toColourspace('cmyk')
          .jpeg()
          .toBuffer(),
    ],
    [
      'a PNG with transparency',
      () =>
        sharp({ create: { width: 80, height: 80, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.3 } } })
          .png()
          .toBuffer(),
    ],
  ])('judges %s', async (_name, make) => {
    const bytes = await make();
    const r = await predict(backbone, model, bytes);
    expect(Number.isFinite(r.score)).toBe(true);
    expect(r.anomalyProbability).toBeGreaterThanOrEqual(0);
    expect(r.anomalyProbability).toBeLessThanOrEqual(1);
    const meta = await sharp(bytes).metadata();
    const heat = await sharp(r.heatmap).metadata();
    // The heatmap keeps the photo's aspect ratio.
    expect(Math.abs(heat.width! / heat.height! - meta.width! / meta.height!)).toBeLessThan(0.05);
  });

  it('keeps a long insulator crop long instead of squashing it into a square', async () => {
    const long = await sharp({ create: { width: 512, height: 67, channels: 3, background: '#556677' } })
      .png()
      .toBuffer();
    const r = await predict(backbone, model, long);
    expect(r.map.cols).toBeGreaterThan(4 * r.map.rows);
    expect(r.map.values).toHaveLength(r.map.cols * r.map.rows);
  });
});

function rewrite(bytes: Buffer, change: (doc: Record<string, unknown>) => void): Buffer {
  const zlib = require('node:zlib') as typeof import('node:zlib');
  const doc = JSON.parse(zlib.gunzipSync(bytes).toString());
  change(doc);
  return zlib.gzipSync(JSON.stringify(doc));
}
