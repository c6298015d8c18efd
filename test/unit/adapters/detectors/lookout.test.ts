import {
  AccessDeniedException,
  DetectAnomaliesCommand,
  InternalServerException,
  LookoutVisionClient,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-lookoutvision';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import sharp from 'sharp';
import { loadConfig } from '../../../../src/config/config';
import { createAwsInspectDetector, LOOKOUT_DEPRECATION_NOTICE } from '../../../../src/adapters/detectors/aws-detectors';
import { LookoutForVisionDetector } from '../../../../src/adapters/detectors/lookout.driver';
import {
  DetectorError,
  DetectorInputError,
  TransientDetectorError,
  type DetectorImage,
} from '../../../../src/adapters/detectors/detector.port';

const credentials = { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' };
const lookout = mockClient(LookoutVisionClient);
const client = new LookoutVisionClient({ region: 'eu-west-1', credentials });
const detector = new LookoutForVisionDetector(client, { projectName: 'vigil-transformers', modelVersion: '3', reviewBelow: 0.75 });

/** A 64×48 segmentation mask: black background, a "crack" (#23A436) at x 16–31, y 12–23 and a "dent" (#D81B60) at x 40–47, y 30–41. */
async function anomalyMask(): Promise<Buffer> {
  const block = (width: number, height: number, background: string) => ({ create: { width, height, channels: 3 as const, background } });
  return sharp({ create: { width: 64, height: 48, channels: 3, background: '#000000' } })
    .composite([
      { input: block(16, 12, '#23A436'), left: 16, top: 12 },
      { input: block(8, 12, '#D81B60'), left: 40, top: 30 },
    ])
    .png()
    .toBuffer();
}

let jpeg: Buffer;
let mask: Buffer;
beforeAll(async () => {
  jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#5a6470' } })
    .jpeg()
    .toBuffer();
  mask = await anomalyMask();
});
beforeEach(() => lookout.reset());

function picture(overrides: Partial<DetectorImage> = {}): DetectorImage {
  return {
    imageId: 'img-2',
    deviceType: 'transformer',
    key: 'normalized/im/img-2.jpg',
    bucket: 'vigil-images',
    contentType: 'image/jpeg',
    width: 640,
    height: 480,
    bytes: jpeg.length,
    read: jest.fn(async () => jpeg),
    ...overrides,
  };
}

/** A segmentation model's DetectAnomalyResult as the API reference shows it. */
const anomalousResult = () => ({
  Source: { Type: 'direct' },
  IsAnomalous: true,
  Confidence: 0.93,
  Anomalies: [
    { Name: 'background', PixelAnomaly: { TotalPercentageArea: 0.875, Color: '#FFFFFF' } },
    { Name: 'crack', PixelAnomaly: { TotalPercentageArea: 0.0625, Color: '#23A436' } },
    { Name: 'dent', PixelAnomaly: { TotalPercentageArea: 0.03125, Color: '#D81B60' } },
  ],
  AnomalyMask: mask,
});

describe('the Lookout for Vision inspector', () => {
  it('sends the project, model version, content type and picture bytes', async () => {
    lookout
      .on(DetectAnomaliesCommand)
      .resolves({ DetectAnomalyResult: { Source: { Type: 'direct' }, IsAnomalous: false, Confidence: 0.97 } });
    await detector.inspect(picture());
    expect(lookout.commandCalls(DetectAnomaliesCommand)).toHaveLength(1);
    expect(lookout.commandCalls(DetectAnomaliesCommand)[0].args[0].input).toEqual({
      ProjectName: 'vigil-transformers',
      ModelVersion: '3',
      ContentType: 'image/jpeg',
      Body: jpeg,
    });
  });

  it('turns each anomaly colour painted in the mask into a region box; background is not a region', async () => {
    lookout.on(DetectAnomaliesCommand).resolves({ DetectAnomalyResult: anomalousResult() });
    const result = await detector.inspect(picture());
    const { AnomalyMask: _mask, ...answer } = anomalousResult();
    expect(result).toEqual({
      isAnomalous: true,
      confidence: 0.93,
      uncertain: false,
      regions: [
        { type: 'crack', confidence: 0.93, box: { x: 0.25, y: 0.25, width: 0.25, height: 0.25 } },
        { type: 'dent', confidence: 0.93, box: { x: 0.625, y: 0.625, width: 0.125, height: 0.25 } },
      ],
      modelVersion: 'lookout-for-vision:vigil-transformers:3',
      heatmapKey: null,
      raw: { ...answer, anomalyMaskBytes: mask.length },
    });
  });

  it('leaves out an anomaly whose colour is not in the mask', async () => {
    const answer = anomalousResult();
    answer.Anomalies.push({ Name: 'scratch', PixelAnomaly: { TotalPercentageArea: 0, Color: '#0000FF' } });
    lookout.on(DetectAnomaliesCommand).resolves({ DetectAnomalyResult: answer });
    const result = await detector.inspect(picture());
    expect(result.regions.map((r) => r.type)).toEqual(['crack', 'dent']);
  });

  it('marks a result below the review floor as uncertain, and finds no region in a background-only mask', async () => {
    const blank = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#000000' } })
      .png()
      .toBuffer();
    lookout.on(DetectAnomaliesCommand).resolves({
      DetectAnomalyResult: {
        Source: { Type: 'direct' },
        IsAnomalous: false,
        Confidence: 0.61,
        Anomalies: [{ Name: 'background', PixelAnomaly: { TotalPercentageArea: 1, Color: '#FFFFFF' } }],
        AnomalyMask: blank,
      },
    });
    expect(await detector.inspect(picture())).toMatchObject({ isAnomalous: false, confidence: 0.61, uncertain: true, regions: [] });
  });

  it('maps a classification model’s answer (no anomalies list, no mask) without regions', async () => {
    lookout
      .on(DetectAnomaliesCommand)
      .resolves({ DetectAnomalyResult: { Source: { Type: 'direct' }, IsAnomalous: true, Confidence: 0.88 } });
    expect(await detector.inspect(picture())).toMatchObject({ isAnomalous: true, confidence: 0.88, uncertain: false, regions: [] });
  });

  it('fails clearly on an answer without a verdict, or with a mask that is not an image', async () => {
    lookout.on(DetectAnomaliesCommand).resolvesOnce({});
    await expect(detector.inspect(picture())).rejects.toThrow(
      new DetectorError('Lookout for Vision DetectAnomalies answered without IsAnomalous and Confidence'),
    );
    lookout.on(DetectAnomaliesCommand).resolves({ DetectAnomalyResult: { ...anomalousResult(), AnomalyMask: Buffer.from('not a png') } });
    await expect(detector.inspect(picture())).rejects.toThrow(/AnomalyMask is not a readable image/);
  });

  it.each([
    new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }),
    new InternalServerException({ message: 'Internal error', Message: 'Internal error', $metadata: { httpStatusCode: 500 } }),
  ])('turns $name into a transient error', async (sdkError) => {
    lookout.on(DetectAnomaliesCommand).rejects(sdkError);
    const error = await detector.inspect(picture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDetectorError);
    expect(error).toMatchObject({ name: 'Vigil.TransientError', cause: sdkError });
  });

  it('names the missing permission on access denied, and passes other service messages on', async () => {
    lookout
      .on(DetectAnomaliesCommand)
      .rejectsOnce(new AccessDeniedException({ message: 'not authorized', Message: 'not authorized', $metadata: { httpStatusCode: 403 } }));
    const denied = await detector.inspect(picture()).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(DetectorError);
    expect((denied as Error).message).toContain('the IAM role vigil runs as needs the "lookoutvision:DetectAnomalies" permission');

    lookout.on(DetectAnomaliesCommand).rejects(
      new ValidationException({
        message: 'Model version 3 is not hosted',
        Message: 'Model version 3 is not hosted',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(detector.inspect(picture())).rejects.toMatchObject({
      name: 'Vigil.DetectorError',
      message: 'lookoutvision:DetectAnomalies failed (ValidationException): Model version 3 is not hosted',
    });
  });

  it('refuses, without calling AWS, a picture over 8 MB or over 4096 px a side', async () => {
    await expect(detector.inspect(picture({ bytes: 8 * 1024 * 1024 + 1 }))).rejects.toThrow(DetectorInputError);
    await expect(detector.inspect(picture({ width: 4097 }))).rejects.toThrow(/at most 4096 px/);
    expect(lookout.commandCalls(DetectAnomaliesCommand)).toHaveLength(0);
  });

  it('carries a one-line deprecation notice for the composition root to log', () => {
    expect(LookoutForVisionDetector.deprecationNotice).toBe(LOOKOUT_DEPRECATION_NOTICE);
    expect(LOOKOUT_DEPRECATION_NOTICE).toContain('2025-10-31');
    expect(LOOKOUT_DEPRECATION_NOTICE).not.toContain('\n');
  });

  it('is what createAwsInspectDetector builds for INSPECT_DETECTOR=lookout-for-vision', async () => {
    const config = loadConfig({ INSPECT_DETECTOR: 'lookout-for-vision', LOOKOUT_PROJECT_NAME: 'vigil-poles', LOOKOUT_MODEL_VERSION: '7' });
    const built = createAwsInspectDetector(config.detectors, { lookout: client });
    expect(built).toBeInstanceOf(LookoutForVisionDetector);
    expect(await built!.versionFor('pole')).toBe('lookout-for-vision:vigil-poles:7');
    expect(createAwsInspectDetector(loadConfig({}).detectors)).toBeNull();
  });
});
