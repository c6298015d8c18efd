import { z } from 'zod';
import { MAX_MANIFEST_LINE_BYTES } from '../adapters/dataset-sink/limits';

export { MAX_MANIFEST_LINE_BYTES };
import { MASK_BACKGROUND_CLASS, MASK_BACKGROUND_HEX, type MaskColorMap } from './mask';

// Amazon Lookout for Vision's dataset manifest: JSON Lines, one SageMaker Ground Truth style object per
// image (its SageMaker successor trains from the same lines). Format, keys and values:
// https://docs.aws.amazon.com/lookout-for-vision/latest/developer-guide/manifest-files.html
// https://docs.aws.amazon.com/lookout-for-vision/latest/developer-guide/manifest-file-classification.html
// https://docs.aws.amazon.com/lookout-for-vision/latest/developer-guide/manifest-file-segmentation.html
// vigil writes only people's verdicts, so the schema is stricter than AWS: human-annotated is always
// "yes", confidence always 1, and job-name and creation-date are always present.

export const LABEL_TYPE = 'groundtruth/image-classification';
export const MASK_TYPE = 'groundtruth/semantic-segmentation';

export interface ManifestEntry {
  /** S3 URI of the image (every image of a dataset in the same bucket); file:// on the embedded local store. */
  sourceRef: string;
  anomalous: boolean;
  /** S3 URI of the PNG mask (segmentation projects); needs colorMap. */
  maskRef?: string | null;
  colorMap?: MaskColorMap | null;
  /** When the person gave the label. */
  createdAt: Date;
  jobName: string;
}

/** Lookout's creation-date: UTC, ISO 8601 without the zone letter, as in AWS's examples ("2021-10-12T14:16:45.668"). */
export function lookoutDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('a manifest creation-date needs a valid Date');
  return date.toISOString().slice(0, -1);
}

// Lookout reads s3:// only; a manifest of the embedded local store names its files, for vigil's own training.
const s3Uri = z
  .string()
  .regex(
    /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[^\r\n]+|file:\/\/\/[^\r\n]+)$/,
    'must be an S3 URI (s3://bucket/key) or, on the local store, a file:/// URI',
  );
const creationDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/, 'must be UTC like 2021-10-12T14:16:45.668 (no zone letter)');
const hexColour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a hex colour like #2ca02c');

const colorMapSchema = z
  .record(
    z.string().regex(/^(0|[1-9]\d*)$/, 'keys are "0", "1", …'),
    z.strictObject({ 'class-name': z.string().min(1), 'hex-color': hexColour, confidence: z.number().min(0).max(1) }),
  )
  .superRefine((map, ctx) => {
    const keys = Object.keys(map)
      .map(Number)
      .sort((a, b) => a - b);
    if (keys.some((k, i) => k !== i)) ctx.addIssue({ code: 'custom', message: 'keys must run "0", "1", … without gaps' });
    const background = map['0'];
    if (
      !background ||
      background['class-name'] !== MASK_BACKGROUND_CLASS ||
      background['hex-color'].toLowerCase() !== MASK_BACKGROUND_HEX
    ) {
      ctx.addIssue({ code: 'custom', path: ['0'], message: `"0" must be ${MASK_BACKGROUND_CLASS} in ${MASK_BACKGROUND_HEX}` });
    }
    const others = Object.entries(map).filter(([k]) => k !== '0');
    const colours = others.map(([, v]) => v['hex-color'].toLowerCase());
    const names = others.map(([, v]) => v['class-name']);
    if (colours.includes(MASK_BACKGROUND_HEX))
      ctx.addIssue({ code: 'custom', message: `only ${MASK_BACKGROUND_CLASS} may be ${MASK_BACKGROUND_HEX}` });
    if (names.includes(MASK_BACKGROUND_CLASS)) ctx.addIssue({ code: 'custom', message: `only "0" may be ${MASK_BACKGROUND_CLASS}` });
    if (new Set(colours).size !== colours.length) ctx.addIssue({ code: 'custom', message: 'each anomaly type needs its own colour' });
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', message: 'each anomaly type may appear once' });
  });

/** One parsed manifest line exactly as vigil writes it; unknown keys are refused. */
export const manifestLineSchema = z
  .strictObject({
    'source-ref': s3Uri,
    'anomaly-label': z.union([z.literal(0), z.literal(1)]),
    'anomaly-label-metadata': z.strictObject({
      'class-name': z.enum(['anomaly', 'normal']),
      confidence: z.literal(1),
      'creation-date': creationDate,
      'human-annotated': z.literal('yes'),
      'job-name': z.string().min(1),
      type: z.literal(LABEL_TYPE),
    }),
    'anomaly-mask-ref': s3Uri.optional(),
    'anomaly-mask-ref-metadata': z
      .strictObject({
        'internal-color-map': colorMapSchema,
        type: z.literal(MASK_TYPE),
        'human-annotated': z.literal('yes'),
        'creation-date': creationDate,
        'job-name': z.string().min(1),
      })
      .optional(),
  })
  .superRefine((line, ctx) => {
    const anomalous = line['anomaly-label-metadata']['class-name'] === 'anomaly';
    if (line['anomaly-label'] !== (anomalous ? 1 : 0)) {
      ctx.addIssue({ code: 'custom', path: ['anomaly-label'], message: 'must be 1 for class-name "anomaly" and 0 for "normal"' });
    }
    const hasRef = line['anomaly-mask-ref'] !== undefined;
    const metadata = line['anomaly-mask-ref-metadata'];
    if (hasRef !== (metadata !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['anomaly-mask-ref'], message: 'anomaly-mask-ref and anomaly-mask-ref-metadata go together' });
    }
    if (metadata) {
      const types = Object.keys(metadata['internal-color-map']).length - 1;
      if (anomalous && types === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['anomaly-mask-ref-metadata'],
          message: 'an anomalous image’s mask must show at least one anomaly type',
        });
      if (!anomalous && types > 0)
        ctx.addIssue({ code: 'custom', path: ['anomaly-mask-ref-metadata'], message: 'a normal image’s mask must show no anomaly type' });
    }
  });

export type ManifestLine = z.infer<typeof manifestLineSchema>;

/** The manifest object for one labelled image; throws when the entry cannot make a valid line. */
export function manifestLine(entry: ManifestEntry): Record<string, unknown> {
  const maskRef = entry.maskRef ?? null;
  const colorMap = entry.colorMap ?? null;
  if ((maskRef === null) !== (colorMap === null)) {
    throw new Error(`manifest entry for ${entry.sourceRef}: a mask needs both maskRef and colorMap`);
  }
  const created = lookoutDate(entry.createdAt);
  const line: Record<string, unknown> = {
    'source-ref': entry.sourceRef,
    'anomaly-label': entry.anomalous ? 1 : 0,
    'anomaly-label-metadata': {
      'class-name': entry.anomalous ? 'anomaly' : 'normal',
      confidence: 1,
      'creation-date': created,
      'human-annotated': 'yes',
      'job-name': entry.jobName,
      type: LABEL_TYPE,
    },
  };
  if (maskRef !== null && colorMap !== null) {
    line['anomaly-mask-ref'] = maskRef;
    line['anomaly-mask-ref-metadata'] = {
      'internal-color-map': colorMap,
      type: MASK_TYPE,
      'human-annotated': 'yes',
      'creation-date': created,
      'job-name': entry.jobName,
    };
  }
  const checked = manifestLineSchema.safeParse(line);
  if (!checked.success) {
    const why = checked.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ');
    throw new Error(`manifest entry for ${entry.sourceRef} does not make a valid Lookout for Vision line: ${why}`);
  }
  return line;
}

/** A manifest file: one compact JSON object per line, each line ending in a newline. */
export function toJsonLines(entries: ManifestEntry[]): string {
  return entries.map((entry) => `${JSON.stringify(manifestLine(entry))}\n`).join('');
}
