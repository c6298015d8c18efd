import { Readable } from 'node:stream';
import { type ObjectStore } from '../../../../src/adapters/object-store/object-store.port';
import { type DetectorImage, DetectorError } from '../../../../src/adapters/detectors/detector.port';
import { batchLocation, batchOutputKey, SageMakerBatchDetector } from '../../../../src/adapters/detectors/sagemaker-batch.driver';

// Reading a Batch Transform job's answers back: where they are, and what a missing or malformed one says.

const RUN = '0b6a3f4e-5d7c-4e21-9a8b-1c2d3e4f5a6b';
const options = { modelName: 'vigil-anomaly', instanceType: 'ml.m5.xlarge', instanceCount: 1, instanceHourUsd: 0.23, reviewBelow: 0.75 };

function memoryStore(objects: Record<string, string>): ObjectStore {
  return {
    kind: 's3',
    put: async () => undefined,
    get: async (key) => Readable.from([Buffer.from(objects[key])]),
    head: async (key) => (key in objects ? { bytes: objects[key].length, contentType: 'application/json' } : null),
    delete: async () => undefined,
  };
}

const picture = (key: string): DetectorImage => ({
  imageId: '6f1d2c3b-4a59-4e68-8d7c-6b5a4f3e2d1c',
  deviceType: 'pole',
  key,
  bucket: 'vigil-images',
  contentType: 'image/jpeg',
  width: 640,
  height: 480,
  bytes: 1000,
  read: async () => Buffer.alloc(0),
});

test("a run's job is named after the run, within SageMaker's 63 characters, with its manifest and output under batch/", () => {
  const location = batchLocation(RUN);
  expect(location).toEqual({
    jobName: `vigil-${RUN}-inspect`,
    manifestKey: `batch/vigil-${RUN}-inspect/manifest.json`,
    outputPrefix: `batch/vigil-${RUN}-inspect/out`,
  });
  expect(location.jobName.length).toBeLessThanOrEqual(63);
  expect(batchOutputKey(location, 'derived/x/normalized.jpg')).toBe(`batch/vigil-${RUN}-inspect/out/derived/x/normalized.jpg.out`);
  expect(() => batchLocation('a run id that is far too long to name a SageMaker transform job at all')).toThrow(/cannot name/);
});

test('answers are read from <output>/<key>.out in the endpoint format; the version names the model', async () => {
  const key = 'derived/x/normalized.jpg';
  const out = batchOutputKey(batchLocation(RUN), key);
  const store = memoryStore({ [out]: JSON.stringify({ IsAnomalous: true, Confidence: 0.6 }) });
  const detector = new SageMakerBatchDetector(options).forRun(store, RUN);
  expect(await detector.inspect(picture(key))).toMatchObject({
    isAnomalous: true,
    confidence: 0.6,
    uncertain: true,
    modelVersion: 'sagemaker-batch:vigil-anomaly',
  });
});

test('without its run, a missing answer or a malformed one, it refuses with a DetectorError naming the problem', async () => {
  const key = 'derived/y/normalized.jpg';
  await expect(new SageMakerBatchDetector(options).inspect(picture(key))).rejects.toThrow(/runs as a Batch Transform job/);
  const empty = new SageMakerBatchDetector(options).forRun(memoryStore({}), RUN);
  await expect(empty.inspect(picture(key))).rejects.toThrow(new RegExp(`wrote no answer for ${key}`));
  const garbled = new SageMakerBatchDetector(options).forRun(
    memoryStore({ [batchOutputKey(batchLocation(RUN), key)]: '{"IsAnomalous":"maybe"}' }),
    RUN,
  );
  await expect(garbled.inspect(picture(key))).rejects.toThrow(DetectorError);
  await expect(garbled.inspect(picture(key))).rejects.toThrow(/IsAnomalous/);
});
