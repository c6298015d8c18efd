import { InvokeEndpointCommand, type InvokeEndpointCommandOutput, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { type DetectorImage, type InspectDetector, type InspectResult } from './detector.port';
import { toInspectResult, type AnomalyResult } from './anomaly-result';
import { parseSageMakerAnswer } from './sagemaker-answer';
import { callAws } from '../aws-errors';

export interface SageMakerOptions {
  endpointName: string;
  /** Confidence below which a person should decide. */
  reviewBelow: number;
}

/** Stage 2 on a SageMaker real-time endpoint (one endpoint for every device type). */
export class SageMakerAnomalyDetector implements InspectDetector {
  readonly name = 'sagemaker';

  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly options: SageMakerOptions,
  ) {}

  async versionFor(): Promise<string> {
    return `sagemaker:${this.options.endpointName}`;
  }

  async inspect(image: DetectorImage): Promise<InspectResult> {
    const body = await image.read();
    const response = await callAws('sagemaker:InvokeEndpoint', () =>
      this.client.send(
        new InvokeEndpointCommand({
          EndpointName: this.options.endpointName,
          ContentType: image.contentType,
          Accept: 'application/json',
          Body: body,
        }),
      ),
    );
    const variant = response.InvokedProductionVariant;
    const version = await this.versionFor();
    return toInspectResult(this.parse(response), {
      modelVersion: variant ? `${version}:${variant}` : version,
      reviewBelow: this.options.reviewBelow,
      raw: variant ? { InvokedProductionVariant: variant } : {},
    });
  }

  private parse(response: InvokeEndpointCommandOutput): AnomalyResult {
    const text = Buffer.from(response.Body ?? new Uint8Array()).toString('utf8');
    return parseSageMakerAnswer(text, `SageMaker endpoint ${this.options.endpointName}`, response.ContentType);
  }
}
