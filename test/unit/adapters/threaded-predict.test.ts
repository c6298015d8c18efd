import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { openBackbone } from '../../../src/adapters/backbone/backbone.factory';
import { type Backbone, BackboneError } from '../../../src/adapters/backbone/backbone.port';
import { BackboneThread, openThreadedBackbone, type ThreadedBackbone } from '../../../src/adapters/backbone/threaded.driver';
import { type ModelArtifact } from '../../../src/anomaly-model/artifact';
import { readDatasetFolder } from '../../../src/anomaly-model/dataset';
import { predict, train } from '../../../src/anomaly-model/detector';
import { type PredictResult } from '../../../src/anomaly-model/types';
import { writeDataset } from '../../support/textures';

// A built-in model judging on the backbone's worker thread (dist/src/adapters/backbone/backbone-thread.js, built by
// npm test) against predict() with the same backbone opened here: the same result, number for number and byte for
// byte, the same errors; the model crosses to the thread once, and again only to a thread started anew.

const MOBILENET = { kind: 'mobilenet' as const, threads: 1 };

let here: Backbone;
let threaded: ThreadedBackbone;
let memory: ModelArtifact;
let classifier: ModelArtifact;
let pictures: Buffer[];

beforeAll(async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-threaded-predict-'));
  await writeDataset(path.join(root, 'normals'), { normal: 12, anomalous: 0, seed: 70 });
  await writeDataset(path.join(root, 'labelled'), { normal: 16, anomalous: 8, seed: 80 });
  await writeDataset(path.join(root, 'test'), { normal: 3, anomalous: 3, seed: 600 });
  [here, threaded] = await Promise.all([openBackbone(MOBILENET), openThreadedBackbone(MOBILENET)]);
  memory = await train(here, await readDatasetFolder(path.join(root, 'normals')), { profile: 'inspect', seed: 2 });
  const labelled = await train(here, await readDatasetFolder(path.join(root, 'labelled')), { profile: 'screen', seed: 2 });
  // The image classifier judging by four views, its review band wide enough that every view is taken.
  const { manifest } = labelled;
  classifier = {
    payload: labelled.payload,
    manifest: {
      ...manifest,
      scoreMode: 'classifier',
      features: { ...manifest.features, views: 4 },
      thresholds: { ...manifest.thresholds, reviewBand: { low: -1e6, high: 1e6 }, operating: 0 },
    },
  };
  const test = await readDatasetFolder(path.join(root, 'test'));
  pictures = test.items.map((item) => fs.readFileSync(path.join(test.root, item.id)));
}, 180_000);

afterAll(async () => {
  await Promise.all([here?.close(), threaded?.close()]);
});

/** Everything a result says, with the heatmap as bytes and the map as plain numbers. */
const comparable = (r: PredictResult) => ({ ...r, heatmap: [...r.heatmap], map: { ...r.map, values: [...r.map.values] } });

describe('a built-in model judging on the backbone thread', () => {
  it('gives what predict() gives here, number for number and heatmap byte for heatmap byte, for pictures sent at once', async () => {
    for (const model of [memory, classifier]) {
      const [there, local] = await Promise.all([
        Promise.all(pictures.map((p) => threaded.predict(model, p))),
        Promise.all(pictures.map((p) => predict(here, model, p))),
      ]);
      expect(there.map(comparable)).toEqual(local.map(comparable));
      for (const r of there) expect(Buffer.isBuffer(r.heatmap)).toBe(true);
      expect((await sharp(there[0].heatmap).metadata()).format).toBe('png');
    }
    expect(new Set((await Promise.all(pictures.map((p) => threaded.predict(memory, p)))).map((r) => r.isAnomalous))).toEqual(
      new Set([true, false]),
    );
    expect((await threaded.predict(classifier, pictures[0])).views).toBe(4);
  });

  it('leaves the heatmap out when asked, as predict() does', async () => {
    const r = await threaded.predict(memory, pictures[0], { heatmap: false });
    expect(r.heatmap).toEqual(Buffer.alloc(0));
    expect(r.score).toBe((await predict(here, memory, pictures[0], { heatmap: false })).score);
  });

  it('refuses a picture it cannot read, and a model of another backbone, with the errors predict() gives, and goes on', async () => {
    const broken = Buffer.from('not an image at all');
    const foreign: ModelArtifact = {
      ...memory,
      manifest: { ...memory.manifest, backbone: { ...memory.manifest.backbone, weightsSha256: 'f'.repeat(64) } },
    };
    for (const [model, bytes, name] of [
      [memory, broken, 'ModelInputError'],
      [foreign, pictures[0], 'ModelArtifactError'],
    ] as const) {
      const expected = (await predict(here, model, bytes).catch((e: Error) => e)) as Error;
      const got = (await threaded.predict(model, bytes).catch((e: Error) => e)) as Error;
      expect([got.name, got.message]).toEqual([name, expected.message]);
      expect(expected.name).toBe(name);
    }
    expect((await threaded.predict(memory, pictures[1])).score).toBe((await predict(here, memory, pictures[1])).score);
  });

  it('sends a model to the thread once, and again to a thread started anew after the first one died', async () => {
    const thread = new BackboneThread(MOBILENET);
    const sent = jest.spyOn(Worker.prototype, 'postMessage');
    const modelsSent = () => sent.mock.calls.filter(([m]) => (m as { artifact?: unknown }).artifact !== undefined).length;
    try {
      const first = await Promise.all([thread.predict(memory, pictures[0]), thread.predict(memory, pictures[1])]);
      await thread.predict(memory, pictures[0]);
      expect(modelsSent()).toBe(1);
      await thread.stopThread();
      const again = await thread.predict(memory, pictures[0]);
      expect(modelsSent()).toBe(2);
      expect(comparable(again)).toEqual(comparable(first[0]));
      await thread.predict(classifier, pictures[0]);
      expect(modelsSent()).toBe(3);
    } finally {
      sent.mockRestore();
      await thread.close();
    }
  }, 60_000);

  it('starts no thread again once closed: a picture or a model sent afterwards is refused', async () => {
    const thread = new BackboneThread(MOBILENET);
    await thread.predict(memory, pictures[0]);
    await thread.close();
    await expect(thread.start()).rejects.toThrow(new BackboneError('the backbone is closed'));
    await expect(thread.predict(memory, pictures[0])).rejects.toThrow(new BackboneError('the backbone is closed'));
  }, 60_000);
});
