import {
  AccessDeniedException,
  DetectCustomLabelsCommand,
  DetectLabelsCommand,
  type DetectLabelsResponse,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RekognitionClient,
  ResourceNotReadyException,
  ThrottlingException,
} from '@aws-sdk/client-rekognition';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import sharp from 'sharp';
import { loadConfig } from '../../../../src/config/config';
import { createAwsScreenDetector } from '../../../../src/adapters/detectors/aws-detectors';
import { RekognitionCustomLabelsDetector, RekognitionLabelsDetector } from '../../../../src/adapters/detectors/rekognition.driver';
import {
  DetectorError,
  DetectorInputError,
  TransientDetectorError,
  type DetectorImage,
} from '../../../../src/adapters/detectors/detector.port';

const credentials = { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' };
const rekognition = mockClient(RekognitionClient);
const client = new RekognitionClient({ region: 'eu-west-1', credentials });
const projectVersionArn =
  'arn:aws:rekognition:eu-west-1:123456789012:project/vigil-transformers/version/vigil-transformers.2026-04-02T10.11.12/1775124672000';

const labelsDetector = new RekognitionLabelsDetector(client, { labels: ['rust', 'FIRE', 'Bird'], minConfidence: 60 });
const customDetector = new RekognitionCustomLabelsDetector(client, { projectVersionArn, minConfidence: 60 });

let png: Buffer;
beforeAll(async () => {
  png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#707a80' } })
    .png()
    .toBuffer();
});
beforeEach(() => rekognition.reset());

function picture(overrides: Partial<DetectorImage> = {}): DetectorImage {
  return {
    imageId: 'img-1',
    deviceType: 'transformer',
    key: 'normalized/im/img-1.png',
    bucket: null,
    contentType: 'image/png',
    width: 640,
    height: 480,
    bytes: png.length,
    read: jest.fn(async () => png),
    ...overrides,
  };
}

/** A DetectLabels answer as the API reference shows it (label model 3.0). */
const detectLabelsAnswer: DetectLabelsResponse = {
  LabelModelVersion: '3.0',
  Labels: [
    {
      Name: 'Utility Pole',
      Confidence: 99.1,
      Instances: [],
      Parents: [],
      Aliases: [],
      Categories: [{ Name: 'Buildings and Architecture' }],
    },
    {
      Name: 'Bird',
      Confidence: 96.2,
      Instances: [
        { BoundingBox: { Width: 0.25, Height: 0.2, Left: 0.5, Top: 0.1 }, Confidence: 96.2 },
        // Reaches past the right and top edges: clipped to the picture.
        { BoundingBox: { Width: 0.3, Height: 0.4, Left: 0.85, Top: -0.02 }, Confidence: 71.4 },
      ],
      Parents: [{ Name: 'Animal' }],
      Aliases: [],
      Categories: [{ Name: 'Animals and Pets' }],
    },
    {
      Name: 'Flame',
      Confidence: 64.1,
      Instances: [],
      Parents: [{ Name: 'Fire' }],
      Aliases: [],
      Categories: [{ Name: 'Public Safety' }],
    },
  ],
};

describe('the Rekognition labels screen', () => {
  it('sends the picture bytes and the configured MinConfidence when the picture is not in S3', async () => {
    rekognition.on(DetectLabelsCommand).resolves({ LabelModelVersion: '3.0', Labels: [] });
    await labelsDetector.screen(picture());
    expect(rekognition.commandCalls(DetectLabelsCommand)).toHaveLength(1);
    expect(rekognition.commandCalls(DetectLabelsCommand)[0].args[0].input).toEqual({ Image: { Bytes: png }, MinConfidence: 60 });
  });

  it('points Rekognition at the S3 object, without reading it, when the picture is in S3', async () => {
    rekognition.on(DetectLabelsCommand).resolves({ LabelModelVersion: '3.0', Labels: [] });
    const image = picture({ bucket: 'vigil-images' });
    await labelsDetector.screen(image);
    expect(image.read).not.toHaveBeenCalled();
    expect(rekognition).toHaveReceivedCommandTimes(DetectLabelsCommand, 1);
    expect(rekognition.commandCalls(DetectLabelsCommand)[0].args[0].input).toEqual({
      Image: { S3Object: { Bucket: 'vigil-images', Name: 'normalized/im/img-1.png' } },
      MinConfidence: 60,
    });
  });

  it('flags a picture showing a label of interest, by name or by parent, with its clipped instance boxes', async () => {
    rekognition.on(DetectLabelsCommand).resolves(detectLabelsAnswer);
    const result = await labelsDetector.screen(picture());
    expect(result).toEqual({
      flagged: true,
      confidence: expect.closeTo(0.962, 6),
      labels: [
        {
          name: 'Bird',
          confidence: expect.closeTo(0.962, 6),
          boxes: [
            { x: 0.5, y: 0.1, width: 0.25, height: expect.closeTo(0.2, 6) },
            { x: 0.85, y: 0, width: expect.closeTo(0.15, 6), height: expect.closeTo(0.38, 6) },
          ],
        },
        { name: 'Flame', confidence: expect.closeTo(0.641, 6), boxes: [] },
      ],
      modelVersion: 'rekognition-detect-labels',
      raw: { LabelModelVersion: '3.0', Labels: detectLabelsAnswer.Labels },
    });
  });

  it('matches a label of interest among a label’s aliases too', async () => {
    rekognition.on(DetectLabelsCommand).resolves({
      LabelModelVersion: '3.0',
      Labels: [
        { Name: 'Flame', Confidence: 77, Instances: [], Parents: [], Aliases: [{ Name: 'Fire' }], Categories: [{ Name: 'Public Safety' }] },
      ],
    });
    expect(await labelsDetector.screen(picture())).toMatchObject({
      flagged: true,
      labels: [{ name: 'Flame', confidence: 0.77, boxes: [] }],
    });
  });

  it('does not flag a picture without labels of interest, with confidence 1 − MinConfidence/200', async () => {
    rekognition.on(DetectLabelsCommand).resolves({
      LabelModelVersion: '3.0',
      Labels: [
        {
          Name: 'Utility Pole',
          Confidence: 99.1,
          Instances: [],
          Parents: [],
          Aliases: [],
          Categories: [{ Name: 'Buildings and Architecture' }],
        },
      ],
    });
    const result = await labelsDetector.screen(picture());
    expect(result.flagged).toBe(false);
    expect(result.confidence).toBeCloseTo(0.7, 6);
    expect(result.labels).toEqual([]);
    expect(await labelsDetector.versionFor()).toBe('rekognition-detect-labels');
  });

  it.each([
    new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }),
    new ProvisionedThroughputExceededException({ message: 'Provisioned rate exceeded', $metadata: {} }),
    new InternalServerError({ message: 'Internal server error', $metadata: { httpStatusCode: 500 } }),
  ])('turns $name into a transient error that keeps the SDK error as cause', async (sdkError) => {
    rekognition.on(DetectLabelsCommand).rejects(sdkError);
    const error = await labelsDetector.screen(picture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDetectorError);
    expect(error).toMatchObject({ name: 'Vigil.TransientError', cause: sdkError });
  });

  it('says which permission the IAM role lacks when access is denied', async () => {
    rekognition.on(DetectLabelsCommand).rejects(
      new AccessDeniedException({
        message: 'User: arn:aws:sts::123456789012:assumed-role/vigil/worker is not authorized to perform: rekognition:DetectLabels',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await labelsDetector.screen(picture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetectorError);
    expect((error as Error).name).toBe('Vigil.DetectorError');
    expect((error as Error).message).toMatch(
      /rekognition:DetectLabels was denied: the IAM role vigil runs as needs the "rekognition:DetectLabels" permission/,
    );
  });

  it('refuses, without calling AWS, a picture over 5 MB as bytes or under 80 px a side', async () => {
    const big = picture({ bytes: 5 * 1024 * 1024 + 1 });
    await expect(labelsDetector.screen(big)).rejects.toThrow(DetectorInputError);
    expect(big.read).not.toHaveBeenCalled();
    await expect(labelsDetector.screen(picture({ width: 79 }))).rejects.toThrow(/at least 80 px/);
    expect(rekognition.commandCalls(DetectLabelsCommand)).toHaveLength(0);
  });
});

describe('the Rekognition Custom Labels screen', () => {
  it('sends the project version, the picture and MinConfidence', async () => {
    rekognition.on(DetectCustomLabelsCommand).resolves({ CustomLabels: [] });
    await customDetector.screen(picture());
    expect(rekognition.commandCalls(DetectCustomLabelsCommand)).toHaveLength(1);
    expect(rekognition.commandCalls(DetectCustomLabelsCommand)[0].args[0].input).toEqual({
      ProjectVersionArn: projectVersionArn,
      Image: { Bytes: png },
      MinConfidence: 60,
    });
  });

  it('flags a picture with any custom label and maps each label’s bounding box', async () => {
    const customLabels = [
      {
        Name: 'corrosion',
        Confidence: 88.4,
        Geometry: {
          BoundingBox: { Width: 0.2, Height: 0.3, Left: 0.1, Top: 0.6 },
          Polygon: [
            { X: 0.1, Y: 0.6 },
            { X: 0.3, Y: 0.6 },
            { X: 0.3, Y: 0.9 },
            { X: 0.1, Y: 0.9 },
          ],
        },
      },
      { Name: 'loose-bolt', Confidence: 61.5, Geometry: { BoundingBox: { Width: 0.05, Height: 0.05, Left: 0.7, Top: 0.2 } } },
    ];
    rekognition.on(DetectCustomLabelsCommand).resolves({ CustomLabels: customLabels });
    const result = await customDetector.screen(picture());
    expect(result).toEqual({
      flagged: true,
      confidence: expect.closeTo(0.884, 6),
      labels: [
        {
          name: 'corrosion',
          confidence: expect.closeTo(0.884, 6),
          boxes: [{ x: 0.1, y: 0.6, width: expect.closeTo(0.2, 6), height: expect.closeTo(0.3, 6) }],
        },
        {
          name: 'loose-bolt',
          confidence: expect.closeTo(0.615, 6),
          boxes: [{ x: 0.7, y: 0.2, width: expect.closeTo(0.05, 6), height: expect.closeTo(0.05, 6) }],
        },
      ],
      modelVersion: 'vigil-transformers.2026-04-02T10.11.12',
      raw: { CustomLabels: customLabels },
    });
  });

  it('does not flag a picture without custom labels, and names the version from the ARN', async () => {
    rekognition.on(DetectCustomLabelsCommand).resolves({ CustomLabels: [] });
    const result = await customDetector.screen(picture());
    expect(result).toMatchObject({ flagged: false, labels: [], modelVersion: 'vigil-transformers.2026-04-02T10.11.12' });
    expect(result.confidence).toBeCloseTo(0.7, 6);
    expect(await customDetector.versionFor()).toBe('vigil-transformers.2026-04-02T10.11.12');
  });

  it('treats a model version that is not running as a failure no retry fixes', async () => {
    rekognition
      .on(DetectCustomLabelsCommand)
      .rejects(new ResourceNotReadyException({ message: 'ProjectVersion arn:… is not running', $metadata: { httpStatusCode: 400 } }));
    const error = await customDetector.screen(picture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetectorError);
    expect((error as Error).message).toBe(
      'rekognition:DetectCustomLabels failed (ResourceNotReadyException): ProjectVersion arn:… is not running',
    );
  });

  it('refuses, without calling AWS, bytes over 4 MB (DetectCustomLabels’ own limit)', async () => {
    await expect(customDetector.screen(picture({ bytes: 4 * 1024 * 1024 + 1 }))).rejects.toThrow(
      /at most 4 MB \(4194304 bytes\) sent as bytes/,
    );
    expect(rekognition.commandCalls(DetectCustomLabelsCommand)).toHaveLength(0);
  });
});

describe('createAwsScreenDetector', () => {
  it('builds the configured Rekognition screen on the injected client, and nothing for the built-in one', async () => {
    const config = loadConfig({
      SCREEN_DETECTOR: 'rekognition-custom-labels',
      REKOGNITION_PROJECT_VERSION_ARN: projectVersionArn,
      REKOGNITION_MIN_CONFIDENCE: '75',
    });
    const detector = createAwsScreenDetector(config.detectors, { rekognition: client });
    expect(detector).toBeInstanceOf(RekognitionCustomLabelsDetector);
    rekognition.on(DetectCustomLabelsCommand).resolves({ CustomLabels: [] });
    await detector!.screen(picture());
    expect(rekognition).toHaveReceivedCommandWith(DetectCustomLabelsCommand, { ProjectVersionArn: projectVersionArn, MinConfidence: 75 });
    expect(createAwsScreenDetector(loadConfig({}).detectors)).toBeNull();
  });

  it('creates a Rekognition client in AWS_REGION when none is injected', async () => {
    const config = loadConfig({ SCREEN_DETECTOR: 'rekognition-labels', AWS_REGION: 'ap-southeast-2' });
    const detector = createAwsScreenDetector(config.detectors);
    expect(detector?.name).toBe('rekognition-labels');
    rekognition.on(DetectLabelsCommand).resolves({ Labels: [] });
    await detector!.screen(picture());
    const used = rekognition.send.getCall(0).thisValue as RekognitionClient;
    expect(await used.config.region()).toBe('ap-southeast-2');
  });
});
