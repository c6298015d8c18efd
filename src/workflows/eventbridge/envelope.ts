import { z } from 'zod';

const envelopeSchema = z.object({
  id: z.string().optional(),
  'detail-type': z.string({ message: 'expected a string' }),
  source: z.string({ message: 'expected a string' }),
  detail: z.unknown(),
});

const describeIssues = (error: z.ZodError, prefix: string[]) =>
  error.issues.map((i) => `${[...prefix, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');

/** The detail of an EventBridge event of one type and source; throws naming what is wrong with it. */
export function eventDetail<S extends z.ZodType>(
  event: unknown,
  expected: { detailType: string; source: string },
  detailSchema: S,
): z.infer<S> {
  const envelope = envelopeSchema.safeParse(event);
  if (!envelope.success) throw new Error(`not an EventBridge event: ${describeIssues(envelope.error, [])}`);
  const { 'detail-type': detailType, source, detail, id } = envelope.data;
  if (detailType !== expected.detailType || source !== expected.source) {
    throw new Error(`expected a "${expected.detailType}" event from ${expected.source}, got "${detailType}" from ${source}`);
  }
  const parsed = detailSchema.safeParse(detail);
  if (!parsed.success)
    throw new Error(`malformed "${expected.detailType}" event${id ? ` ${id}` : ''}: ${describeIssues(parsed.error, ['detail'])}`);
  return parsed.data;
}
