import { type Backbone, BackboneError } from '../../../src/adapters/backbone/backbone.port';
import { openBackbone } from '../../../src/adapters/backbone/backbone.factory';
import { BackboneThread, openThreadedBackbone } from '../../../src/adapters/backbone/threaded.driver';

// The backbone on its own worker thread (dist/src/adapters/backbone/backbone-thread.js, built by npm test) against
// the same backbone opened in this thread: the same identity, sizes and numbers, and the same errors.

const MOBILENET = { kind: 'mobilenet' as const, threads: 1 };
const picture = (width: number, height: number, seed = 0) => ({
  width,
  height,
  data: Float32Array.from({ length: width * height * 3 }, (_, i) => ((i + seed) % 251) / 250),
});

let here: Backbone;
let threaded: Backbone;
beforeAll(async () => {
  [here, threaded] = await Promise.all([openBackbone(MOBILENET), openThreadedBackbone(MOBILENET)]);
}, 60_000);
afterAll(async () => {
  await Promise.all([here?.close(), threaded?.close()]);
});

describe('the backbone on a worker thread', () => {
  it('is the same backbone: identity, memory taps and input sizes', () => {
    expect(threaded.identity).toEqual(here.identity);
    expect(threaded.memoryTaps).toEqual(here.memoryTaps);
    expect(threaded.sizing).toEqual({ multiple: 32 });
    for (const aspect of [1, 0.13, 2.5, 8, 20]) expect(threaded.inputSize(aspect, 224 * 224)).toEqual(here.inputSize(aspect, 224 * 224));
  });

  it('gives the same feature maps, number for number, for pictures sent at once', async () => {
    const pictures = [picture(96, 64, 1), picture(64, 96, 2), picture(128, 128, 3)];
    const [there, local] = await Promise.all([
      Promise.all(pictures.map((p) => threaded.extract(p))),
      Promise.all(pictures.map((p) => here.extract(p))),
    ]);
    expect(there.map((maps) => maps.map((m) => [m.tap, m.width, m.height, m.channels, m.stride]))).toEqual(
      local.map((maps) => maps.map((m) => [m.tap, m.width, m.height, m.channels, m.stride])),
    );
    for (let i = 0; i < pictures.length; i++) {
      for (let t = 0; t < local[i].length; t++) expect(there[i][t].data).toEqual(local[i][t].data);
    }
  });

  it('refuses a bad picture with the same BackboneError, and goes on', async () => {
    const bad = { width: 10, height: 10, data: new Float32Array(7) };
    const expected = await here.extract(bad).catch((e: Error) => e);
    const got = await threaded.extract(bad).catch((e: Error) => e);
    expect(got).toBeInstanceOf(BackboneError);
    expect(expected).toBeInstanceOf(BackboneError);
    expect((got as Error).message).toBe((expected as Error).message);
    expect(await threaded.extract(picture(64, 64))).toHaveLength(4);
  });

  it('fails the pictures on a thread that dies, and starts a new thread for the next one', async () => {
    const thread = new BackboneThread(MOBILENET);
    try {
      await thread.start();
      // A large picture keeps the thread busy long enough for it to be ended under it.
      const onIt = thread.extract(picture(1024, 1024));
      await thread.stopThread();
      await expect(onIt).rejects.toThrow(new BackboneError('the backbone thread stopped (exit code 1)'));
      const maps = await thread.extract(picture(64, 64));
      expect(maps.map((m) => m.tap)).toEqual(here.identity.taps);
    } finally {
      await thread.close();
    }
  }, 60_000);

  it('says why the backbone cannot be opened, as the backbone itself does', async () => {
    const config = {
      kind: 'onnx' as const,
      threads: 1,
      file: '/nonexistent/net.onnx',
      taps: ['a'],
      strides: [8],
      inputSize: null,
      mean: [0, 0, 0] as [number, number, number],
      std: [1, 1, 1] as [number, number, number],
    };
    const expected = await openBackbone(config).catch((e: Error) => e);
    const got = await openThreadedBackbone(config).catch((e: Error) => e);
    expect(expected).toBeInstanceOf(BackboneError);
    expect(got).toBeInstanceOf(BackboneError);
    expect((got as Error).message).toBe((expected as Error).message);
  });

  it('refuses pictures once closed', async () => {
    const backbone = await openThreadedBackbone(MOBILENET);
    await backbone.close();
    await expect(backbone.extract(picture(64, 64))).rejects.toThrow(new BackboneError('the backbone is closed'));
  }, 60_000);
});
