import {
  InvokeEndpointCommand,
  ModelError,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  SageMakerRuntimeServiceException,
  ServiceUnavailable,
} from '@aws-sdk/client-sagemaker-runtime';
import { Uint8ArrayBlobAdapter } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import sharp from 'sharp';
import { loadConfig } from '../../../../src/config/config';
import { createAwsInspectDetector } from '../../../../src/adapters/detectors/aws-detectors';
import { SageMakerAnomalyDetector } from '../../../../src/adapters/detectors/sagemaker.driver';
import { DetectorError, TransientDetectorError, type DetectorImage } from '../../../../src/adapters/detectors/detector.port';

const credentials = { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' };
const sagemaker = mockClient(SageMakerRuntimeClient);
const client = new SageMakerRuntimeClient({ region: 'eu-west-1', credentials });
const detector = new SageMakerAnomalyDetector(client, { endpointName: 'vigil-anomaly', reviewBelow: 0.75 });

let png: Buffer;
let mask: Buffer;
beforeAll(async () => {
  png = await sharp({ create: { width: 512, height: 512, channels: 3, background: '#6b6f73' } })
    .png()
    .toBuffer();
  // 64×48, black, a #23A436 "crack" at x 16–31, y 12–23.
  mask = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#000000' } })
    .composite([{ input: { create: { width: 16, height: 12, channels: 3, background: '#23A436' } }, left: 16, top: 12 }])
    .png()
    .toBuffer();
});
beforeEach(() => sagemaker.reset());

function picture(): DetectorImage {
  return {
    imageId: 'img-3',
    deviceType: 'meter',
    key: 'tiles/im/img-3/0-0.png',
    bucket: null,
    contentType: 'image/png',
    width: 512,
    height: 512,
    bytes: png.length,
    read: async () => png,
  };
}

/** InvokeEndpoint's answer as the SDK hands it over: the body as a blob adapter. */
const answer = (body: unknown, extra: { InvokedProductionVariant?: string } = {}) => ({
  ContentType: 'application/json',
  Body: Uint8ArrayBlobAdapter.fromString(typeof body === 'string' ? body : JSON.stringify(body)),
  ...extra,
});

describe('the SageMaker inspector', () => {
  it('posts the picture bytes with their content type and asks for JSON', async () => {
    sagemaker.on(InvokeEndpointCommand).resolves(answer({ IsAnomalous: false, Confidence: 0.98 }));
    await detector.inspect(picture());
    expect(sagemaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
    expect(sagemaker.commandCalls(InvokeEndpointCommand)[0].args[0].input).toEqual({
      EndpointName: 'vigil-anomaly',
      ContentType: 'image/png',
      Accept: 'application/json',
      Body: png,
    });
  });

  it('maps a DetectAnomalyResult-shaped answer with a base64 mask the same way as Lookout, naming the variant', async () => {
    const anomalies = [
      { Name: 'background', PixelAnomaly: { TotalPercentageArea: 0.9375, Color: '#FFFFFF' } },
      { Name: 'crack', PixelAnomaly: { TotalPercentageArea: 0.0625, Color: '#23A436' } },
    ];
    sagemaker
      .on(InvokeEndpointCommand)
      .resolves(
        answer(
          { IsAnomalous: true, Confidence: 0.7, Anomalies: anomalies, AnomalyMask: mask.toString('base64') },
          { InvokedProductionVariant: 'AllTraffic' },
        ),
      );
    expect(await detector.inspect(picture())).toEqual({
      isAnomalous: true,
      confidence: 0.7,
      uncertain: true,
      regions: [{ type: 'crack', confidence: 0.7, box: { x: 0.25, y: 0.25, width: 0.25, height: 0.25 } }],
      modelVersion: 'sagemaker:vigil-anomaly:AllTraffic',
      heatmapKey: null,
      raw: {
        IsAnomalous: true,
        Confidence: 0.7,
        Anomalies: anomalies,
        anomalyMaskBytes: mask.length,
        InvokedProductionVariant: 'AllTraffic',
      },
    });
    expect(await detector.versionFor()).toBe('sagemaker:vigil-anomaly');
  });

  it('refuses an answer that is not JSON', async () => {
    sagemaker.on(InvokeEndpointCommand).resolves(answer('<html>502 Bad Gateway</html>'));
    const error = await detector.inspect(picture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetectorError);
    expect((error as Error).message).toBe(
      'SageMaker endpoint vigil-anomaly answered application/json that is not JSON: "<html>502 Bad Gateway</html>"',
    );
  });

  it('refuses JSON of the wrong shape, naming the fields at fault', async () => {
    sagemaker.on(InvokeEndpointCommand).resolves(answer({ IsAnomalous: 'yes', Confidence: 93, AnomalyMask: '%%%' }));
    const error = await detector.inspect(picture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetectorError);
    expect((error as Error).message).toMatch(
      /^SageMaker endpoint vigil-anomaly answered JSON that is not \{IsAnomalous, Confidence, Anomalies\?, AnomalyMask\?\}: /,
    );
    expect((error as Error).message).toMatch(/IsAnomalous: .*; Confidence: .*; AnomalyMask: /);
  });

  it.each([
    new ModelNotReadyException({ message: 'Model is still loading', $metadata: { httpStatusCode: 429 } }),
    new ServiceUnavailable({ message: 'Service unavailable', $metadata: { httpStatusCode: 503 } }),
  ])('turns $name into a transient error', async (sdkError) => {
    sagemaker.on(InvokeEndpointCommand).rejects(sdkError);
    await expect(detector.inspect(picture())).rejects.toMatchObject({ name: 'Vigil.TransientError', cause: sdkError });
  });

  it('passes a model container failure on as a detector error with the service message', async () => {
    sagemaker.on(InvokeEndpointCommand).rejects(
      new ModelError({
        message: 'Received server error (500) from primary with message "boom"',
        OriginalStatusCode: 500,
        $metadata: { httpStatusCode: 424 },
      }),
    );
    const error = await detector.inspect(picture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetectorError);
    expect(error).not.toBeInstanceOf(TransientDetectorError);
    expect((error as Error).message).toBe(
      'sagemaker:InvokeEndpoint failed (ModelError): Received server error (500) from primary with message "boom"',
    );
  });

  it('names the missing permission when access is denied', async () => {
    // AccessDeniedException is not modelled for SageMaker Runtime: the SDK raises its service exception with that name.
    const denied = new SageMakerRuntimeServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      message: 'not authorized',
      $metadata: { httpStatusCode: 400 },
    });
    sagemaker.on(InvokeEndpointCommand).rejects(denied);
    await expect(detector.inspect(picture())).rejects.toMatchObject({
      name: 'Vigil.DetectorError',
      message:
        'sagemaker:InvokeEndpoint was denied: the IAM role vigil runs as needs the "sagemaker:InvokeEndpoint" permission (AWS said: not authorized)',
      cause: denied,
    });
  });

  it('is what createAwsInspectDetector builds for INSPECT_DETECTOR=sagemaker', async () => {
    const config = loadConfig({ INSPECT_DETECTOR: 'sagemaker', SAGEMAKER_ENDPOINT_NAME: 'vigil-anomaly-2', INSPECT_REVIEW_BELOW: '0.5' });
    const built = createAwsInspectDetector(config.detectors, { sagemaker: client });
    expect(built).toBeInstanceOf(SageMakerAnomalyDetector);
    sagemaker.on(InvokeEndpointCommand).resolves(answer({ IsAnomalous: true, Confidence: 0.6 }));
    expect(await built!.inspect(picture())).toMatchObject({ uncertain: false, modelVersion: 'sagemaker:vigil-anomaly-2' });
    expect(sagemaker).toHaveReceivedCommandWith(InvokeEndpointCommand, { EndpointName: 'vigil-anomaly-2' });
  });
});
