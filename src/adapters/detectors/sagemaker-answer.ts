import { z } from 'zod';
import { type AnomalyResult } from './anomaly-result';
import { DetectorError } from './detector.port';

// Shared by the real-time endpoint driver and the Batch Transform one; apart from both so that reading
// an answer needs no AWS SDK client.

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
