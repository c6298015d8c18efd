import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalObjectStore } from '../../../src/adapters/object-store/local.driver';
import { openMobilenetBackbone } from '../../../src/adapters/backbone/mobilenet.driver';
import { train as trainHere } from '../../../src/anomaly-model/detector';
import { runOnTrainingThread } from '../../../src/models/training-thread';
import { snapshotItem } from '../../../src/models/training-snapshot';
import { type SnapshotEntry, type TrainingThreadSettings } from '../../../src/models/training.types';
import { drawDefect, surface, toPng } from '../../support/textures';

// The built-in model trains and is measured on a worker thread (the compiled entry under dist/, which
// npm test builds first): the thread opens its own store and backbone and hands back the same things
// an in-process training would.

const SIDE = 96;
let root: string;
let settings: TrainingThreadSettings;
const entries: SnapshotEntry[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-training-thread-'));
  settings = { objectStore: { kind: 'local', root }, backbone: { kind: 'mobilenet', threads: 1 } };
  const store = new LocalObjectStore(root);
  for (let i = 0; i < 10; i++) {
    const anomalous = i % 5 === 4;
    const px = surface(100 + i, SIDE);
    if (anomalous) drawDefect(px, SIDE, i, 'blob');
    const key = `datasets/t/${i}.png`;
    await store.put(key, await toPng(px, SIDE), { contentType: 'image/png' });
    entries.push({
      id: `e${i}`,
      key,
      label: anomalous ? 'anomalous' : 'normal',
      type: anomalous ? 'blob' : null,
      types: anomalous ? ['blob'] : [],
      maskKey: null,
      split: i < 7 ? 'TRAIN' : 'TEST',
    });
  }
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the training thread', () => {
  it('trains a model from the store it opens itself, reporting progress, and measures it on the test entries', async () => {
    const progress: string[] = [];
    const train = entries.filter((e) => e.split === 'TRAIN');
    const artifact = await runOnTrainingThread(settings, { job: 'train', entries: train, profile: 'screen', seed: 3 }, (phase) =>
      progress.push(phase),
    );
    expect(artifact.manifest.profile).toBe('screen');
    expect(artifact.manifest.trainingSet).toMatchObject({ count: 7, normal: 6, anomalous: 1 });
    expect(Object.prototype.toString.call(artifact.payload.bank)).toBe('[object Float32Array]');
    expect(progress.length).toBeGreaterThan(0);

    const test = entries.filter((e) => e.split === 'TEST');
    const metrics = await runOnTrainingThread(settings, { job: 'evaluate', artifact, entries: test, splitHash: 'h1' });
    expect(metrics.splitHash).toBe('h1');
    expect(metrics.testCount).toBe(3);
  }, 120_000);

  it('learns the same numbers as a training on the calling thread', async () => {
    const train = entries.filter((e) => e.split === 'TRAIN');
    const onThread = await runOnTrainingThread(settings, { job: 'train', entries: train, profile: 'screen', seed: 9 });
    const backbone = await openMobilenetBackbone({ threads: 1 });
    try {
      const store = new LocalObjectStore(root);
      const here = await trainHere(backbone, { items: train.map((e) => snapshotItem(store, e)) }, { profile: 'screen', seed: 9 });
      // The version is the payload's hash: equal versions are equal weights, thresholds and memory.
      expect(onThread.manifest.version).toBe(here.manifest.version);
      expect(onThread.manifest.thresholds).toEqual(here.manifest.thresholds);
    } finally {
      await backbone.close();
    }
  }, 120_000);

  it("rejects with the training's own message when the job cannot be done", async () => {
    const oneNormal = entries.filter((e) => e.split === 'TRAIN').slice(0, 1);
    await expect(runOnTrainingThread(settings, { job: 'train', entries: oneNormal, profile: 'screen' })).rejects.toThrow(
      'training needs at least 2 normal images',
    );
  });

  it('rejects, naming the key, when an image is missing from the store', async () => {
    const missing = entries.filter((e) => e.split === 'TRAIN').map((e, i) => (i === 0 ? { ...e, key: 'datasets/t/gone.png' } : e));
    await expect(runOnTrainingThread(settings, { job: 'train', entries: missing, profile: 'screen' })).rejects.toThrow(/gone\.png/);
  });
});
