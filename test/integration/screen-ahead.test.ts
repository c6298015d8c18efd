import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pino } from 'pino';
import { startTestApp, type TestApp } from '../support/app';
import { deviceWithInspection, installTestModels, surfacePhoto, uploadImages, waitForRun } from '../support/workflow';
import { BuiltinInspectDetector, BuiltinScreenDetector } from '../../src/adapters/detectors/builtin.driver';
import { type DetectorImage, type ScreenResult } from '../../src/adapters/detectors/detector.port';
import { ModelRegistry } from '../../src/adapters/detectors/model-registry';
import { backboneProvider } from '../../src/adapters/backbone/backbone.factory';
import { openMobilenetBackbone } from '../../src/adapters/backbone/mobilenet.driver';
import { ScreenAhead, type ScreenAheadOptions } from '../../src/detections/screen-ahead';
import { heldDetectorImage } from '../../src/detections/pictures';
import { RunModelVersions } from '../../src/detections/run-model-versions';
import { processImage } from '../../src/image-processing/image-processor';
import { fromGlobalId } from '../../src/common/global-id';
import { DetectionService } from '../../src/detections/detection.service';
import { surface, toPng } from '../support/textures';

// Stage 1 started as each image becomes READY (WORKFLOW_SCREEN_AHEAD, on by default with the built-in screen, the
// local engine and auto-start): the run takes the verdict instead of screening again, and records the same thing.

let t: TestApp;
let modelsDir: string;

beforeAll(async () => {
  modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-screen-ahead-'));
  await installTestModels(modelsDir, 'insulator');
  t = await startTestApp({ VIGIL_MODELS_DIR: modelsDir });
}, 180_000);

afterAll(async () => {
  await t?.stop();
  fs.rmSync(modelsDir, { recursive: true, force: true });
});

afterEach(() => jest.restoreAllMocks());

describe('screening ahead in the service', () => {
  it('screens each picture once, when its image becomes READY, and the auto-started run records that verdict', async () => {
    const screened = jest.spyOn(BuiltinScreenDetector.prototype, 'screen');
    const taken = jest.spyOn(ScreenAhead.prototype, 'take');
    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    const ids = await uploadImages(t, inspectionId, await Promise.all([0, 1, 2, 3].map((i) => surfacePhoto(7300 + i, i % 2 === 1))));
    const ended = await waitForRun(t, inspectionId);
    expect(ended.workflowRuns.map((r: { status: string }) => r.status)).toEqual(['SUCCEEDED']);

    // Once per picture: the run took the verdicts made ahead and screened nothing again.
    expect(screened).toHaveBeenCalledTimes(4);
    const calls = screened.mock.calls.map(([image]) => image as DetectorImage);
    const results = await Promise.all(screened.mock.results.map((r) => r.value as Promise<ScreenResult>));
    expect(taken).toHaveBeenCalledTimes(4);
    const verdicts = await Promise.all(taken.mock.results.map((r) => r.value as Promise<ScreenResult | null>));
    for (const [i, call] of calls.entries()) {
      // What the model saw is what the store keeps under that key: the run's own screen would have read the same bytes.
      expect((await call.read()).equals(await buffer(await t.app.objectStore.store.get(call.key)))).toBe(true);
      const took = taken.mock.calls.findIndex(([key]) => key === call.key);
      expect(took).toBeGreaterThanOrEqual(0);
      expect(verdicts[took]).toBe(results[i]);
    }

    const rawIds = ids.map((id) => fromGlobalId('Image', id, 'id'));
    const detections = await t.app.db.prisma.detection.findMany({ where: { imageId: { in: rawIds }, stage: 'SCREEN' } });
    expect(detections).toHaveLength(4);
    const run = await t.app.db.prisma.workflowRun.findFirstOrThrow({
      where: { inspectionId: fromGlobalId('Inspection', inspectionId, 'id') },
    });
    for (const d of detections) {
      const call = calls.find((c) => c.imageId === d.imageId)!;
      const result = results[calls.indexOf(call)];
      expect(d).toMatchObject({ workflowRunId: run.id, modelVersion: call.modelVersion, isAnomalous: result.flagged });
      expect(d.modelVersion).toBe(result.modelVersion);
    }
  }, 120_000);

  it('screens the tiles of a large photo ahead, each under its own key with its own bytes', async () => {
    const screened = jest.spyOn(BuiltinScreenDetector.prototype, 'screen');
    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    const [id] = await uploadImages(t, inspectionId, [await toPng(surface(7700, 1100), 1100)]);
    await waitForRun(t, inspectionId);
    const tiles = await t.app.db.prisma.imageTile.findMany({ where: { imageId: fromGlobalId('Image', id, 'id') } });
    expect(tiles.length).toBeGreaterThan(1);
    const calls = screened.mock.calls.map(([image]) => image as DetectorImage);
    expect(calls.map((c) => c.key).sort()).toEqual(tiles.map((tile) => tile.objectKey).sort());
    for (const call of calls) expect((await call.read()).equals(await buffer(await t.app.objectStore.store.get(call.key)))).toBe(true);
  }, 120_000);

  it('records one detection and one outcome when two attempts screen an image at once (the later finds the first)', async () => {
    const prisma = t.app.db.prisma;
    const recorded = jest.spyOn(DetectionService.prototype as never, 'recordOutcome');
    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    const [id] = await uploadImages(t, inspectionId, [await surfacePhoto(7600, false)], { complete: false });
    const imageId = fromGlobalId('Image', id, 'id');
    // Completed by the service, not the API: the image is READY and screened ahead, and no run starts by itself.
    await t.app.services.uploads.complete([imageId]);
    const run = await prisma.workflowRun.create({
      data: { inspectionId: fromGlobalId('Inspection', inspectionId, 'id'), workflow: 'detect-inspection', engine: 'LOCAL' },
    });
    const routes = await Promise.all([
      t.app.services.detections.screen(run.id, imageId),
      t.app.services.detections.screen(run.id, imageId),
    ]);
    expect(routes.map((r) => r.route)).toEqual(['CLEAR', 'CLEAR']);
    expect(await prisma.detection.count({ where: { imageId, stage: 'SCREEN' } })).toBe(1);
    expect(await prisma.workflowRunImage.findMany({ where: { runId: run.id } })).toEqual([
      expect.objectContaining({ imageId, outcome: 'CLEAR' }),
    ]);
    // One attempt wrote the detection with its outcome; the other met it, read it and recorded the outcome itself.
    expect(recorded).toHaveBeenCalledTimes(1);
  }, 120_000);

  it('screens nothing ahead when it is switched off (WORKFLOW_SCREEN_AHEAD=false): the run screens each picture', async () => {
    const off = await startTestApp({ VIGIL_MODELS_DIR: modelsDir, WORKFLOW_SCREEN_AHEAD: 'false' });
    try {
      const taken = jest.spyOn(ScreenAhead.prototype, 'take');
      const screened = jest.spyOn(BuiltinScreenDetector.prototype, 'screen');
      const { inspectionId } = await deviceWithInspection(off, 'insulator');
      await uploadImages(off, inspectionId, [await surfacePhoto(7400, false), await surfacePhoto(7401, true)]);
      expect((await waitForRun(off, inspectionId)).workflowRuns.map((r: { status: string }) => r.status)).toEqual(['SUCCEEDED']);
      expect(screened).toHaveBeenCalledTimes(2);
      expect(taken).not.toHaveBeenCalled();
    } finally {
      await off.stop();
    }
  }, 120_000);
});

describe('ScreenAhead', () => {
  const provider = backboneProvider(() => openMobilenetBackbone());
  let registry: ModelRegistry;
  let screen: BuiltinScreenDetector;
  let ahead: (options?: Partial<ScreenAheadOptions>) => ScreenAhead;
  let picture: { key: string; data: Buffer; width: number; height: number };
  let inspectionOf: (type: string) => Promise<string>;

  beforeAll(async () => {
    registry = new ModelRegistry(modelsDir);
    screen = new BuiltinScreenDetector(registry, provider);
    const inspect = new BuiltinInspectDetector(registry, t.app.objectStore.store, provider);
    const versions = new RunModelVersions({ prisma: t.app.db.prisma, screen, inspect });
    ahead = (options = {}) =>
      new ScreenAhead(
        { prisma: t.app.db.prisma, screen, versions, log: pino({ level: 'silent' }) },
        { maxPending: 8, maxKept: 16, keptMs: 60_000, ...options },
      );
    const { derivatives } = await processImage(await surfacePhoto(7500, true));
    picture = { key: 'derived/ahead-test/normalized.jpg', ...derivatives.normalized };
    inspectionOf = async (type) => fromGlobalId('Inspection', (await deviceWithInspection(t, type)).inspectionId, 'id');
  }, 60_000);

  afterAll(() => provider.close());

  it("gives the verdict the screen gives the same picture with the run's version, once", async () => {
    const version = (await screen.versionFor('insulator'))!;
    const queue = ahead();
    queue.start({ id: 'image-1', inspectionId: await inspectionOf('insulator') }, [picture]);
    expect(queue.inFlight).toBe(1);
    const early = await queue.take(picture.key, version);
    const direct = await screen.screen(heldDetectorImage({ id: 'image-1', deviceType: 'insulator' }, picture, version));
    expect(early).toEqual(direct);
    expect(queue.inFlight).toBe(0);
    // Taken once: the next take finds nothing to wait for.
    expect(queue.take(picture.key, version)).toBeUndefined();
  }, 60_000);

  it('answers null for a run that pinned another version, and for a picture the model cannot read', async () => {
    const inspectionId = await inspectionOf('insulator');
    const queue = ahead();
    queue.start({ id: 'image-2', inspectionId }, [picture]);
    await expect(queue.take(picture.key, 'a-version-deployed-meanwhile')).resolves.toBeNull();
    const broken = { ...picture, key: 'derived/ahead-test/broken.jpg', data: Buffer.from('not a picture') };
    queue.start({ id: 'image-3', inspectionId }, [broken]);
    await expect(queue.take(broken.key, (await screen.versionFor('insulator'))!)).resolves.toBeNull();
  }, 60_000);

  it('screens nothing for a device type without a model, an image in no inspection, or past its pending limit', async () => {
    const screened = jest.spyOn(BuiltinScreenDetector.prototype, 'screen');
    const queue = ahead({ maxPending: 2 });
    queue.start({ id: 'image-4', inspectionId: await inspectionOf('lamp-without-model') }, [picture]);
    await expect(queue.take(picture.key, (await screen.versionFor('insulator'))!)).resolves.toBeNull();
    expect(screened).not.toHaveBeenCalled();
    queue.start({ id: 'image-5', inspectionId: null }, [picture]);
    expect(queue.take(picture.key, 'any')).toBeUndefined();
    const tiles = [0, 1, 2].map((i) => ({ ...picture, key: `derived/ahead-test/tiles/${i}.jpg` }));
    queue.start({ id: 'image-6', inspectionId: await inspectionOf('insulator') }, tiles);
    for (const tile of tiles) expect(queue.take(tile.key, 'any')).toBeUndefined();
    expect(queue.inFlight).toBe(0);
    expect(screened).not.toHaveBeenCalled();
  }, 60_000);

  it('keeps the verdicts it has when full and leaves new images to their runs, until verdicts no run took expire', async () => {
    const inspectionId = await inspectionOf('insulator');
    const version = (await screen.versionFor('insulator'))!;
    const at = (i: number) => ({ ...picture, key: `derived/ahead-full/${i}.jpg` });
    const full = ahead({ maxKept: 2 });
    for (const i of [0, 1, 2]) full.start({ id: `image-${i}`, inspectionId }, [at(i)]);
    expect(full.take(at(2).key, version)).toBeUndefined();
    expect(await full.take(at(0).key, version)).toEqual(expect.objectContaining({ modelVersion: version }));
    const expiring = ahead({ maxKept: 2, keptMs: 0 });
    for (const i of [0, 1]) expiring.start({ id: `image-${i}`, inspectionId }, [at(i)]);
    await new Promise((r) => setTimeout(r, 5));
    expiring.start({ id: 'image-2', inspectionId }, [at(2)]);
    expect(expiring.take(at(0).key, version)).toBeUndefined();
    expect(await expiring.take(at(2).key, version)).toEqual(expect.objectContaining({ modelVersion: version }));
  }, 60_000);

  it('starts nothing once closed, and its close waits for the screening under way', async () => {
    const queue = ahead();
    queue.start({ id: 'image-7', inspectionId: await inspectionOf('insulator') }, [picture]);
    expect(queue.inFlight).toBe(1);
    await queue.close();
    expect(queue.inFlight).toBe(0);
    queue.start({ id: 'image-8', inspectionId: await inspectionOf('insulator') }, [{ ...picture, key: 'derived/ahead-closed.jpg' }]);
    expect(queue.take('derived/ahead-closed.jpg', 'any')).toBeUndefined();
    expect(queue.inFlight).toBe(0);
  }, 60_000);
});
