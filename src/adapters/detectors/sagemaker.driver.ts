import { InvokeEndpointCommand, type InvokeEndpointCommandOutput, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { z } from 'zod';
import { DetectorError, type DetectorImage, type InspectDetector, type InspectResult } from './detector.port';
import { toInspectResult, type AnomalyResult } from './anomaly-result';
import { callAws } from '../aws-errors';

/** What the endpoint must answer: Lookout's DetectAnomalyResult, with the mask PNG in base64. */
const endpointAnswer = z.object({
  IsAnomalous: z.boolean(),
  Confidence: z.number().min(0).max(1),
  Anomalies: z
    .array(
      z.object({
        Name: z.string(),
        PixelAnomaly: z.object({ TotalPercentageArea: z.number().optional(), Color: z.string().regex(/^#[0-9a-fA-F]{6}$/) }).optional(),
      }),
    )
    .optional(),
  AnomalyMask: z.base64().optional(),
});

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

/** The model's answer (an endpoint's body, or a Batch Transform `.out` file) as an AnomalyResult; `source` names it in errors. */
export function parseSageMakerAnswer(text: string, source: string, contentType?: string): AnomalyResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DetectorError(`${source} answered ${contentType ?? 'a body'} that is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const parsed = endpointAnswer.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`).join('; ');
    throw new DetectorError(`${source} answered JSON that is not {IsAnomalous, Confidence, Anomalies?, AnomalyMask?}: ${problems}`);
  }
  const { AnomalyMask, ...answer } = parsed.data;
  return { ...answer, AnomalyMask: AnomalyMask === undefined ? undefined : Buffer.from(AnomalyMask, 'base64') };
}
