import { z } from 'zod';
import { type Box } from '../../common/box';
import { type ReviewAnswerInput } from './human-review.port';

// output.json of a completed loop; answerContent is what workflows/a2i/anomaly-review.liquid.html submits.
// crowd-radio-button submits { <name>: { <value>: checked } }, and a button never touched may be absent.

/** The form names the template uses; the template test checks the file against these. */
export const ANSWER_FIELDS = { boxes: 'annotatedResult', normal: 'normal', anomalous: 'anomalous', comment: 'comment' } as const;

const pixels = z.number({ message: 'expected a number of pixels' }).finite({ message: 'expected a number of pixels' });
const button = z.record(z.string(), z.boolean({ message: 'expected true or false' }), { message: 'expected a radio button answer' });

const answerContentSchema = z.object({
  [ANSWER_FIELDS.boxes]: z.object(
    {
      boundingBoxes: z.array(
        z.object({
          left: pixels,
          top: pixels,
          width: pixels.nonnegative({ message: 'expected a width ≥ 0' }),
          height: pixels.nonnegative({ message: 'expected a height ≥ 0' }),
          label: z.string({ message: 'expected a label' }).min(1, { message: 'expected a label' }),
        }),
        { message: 'expected a list of boxes' },
      ),
      inputImageProperties: z.object(
        { width: pixels.positive({ message: 'expected a width > 0' }), height: pixels.positive({ message: 'expected a height > 0' }) },
        { message: 'expected the image size' },
      ),
    },
    { message: 'expected the crowd-bounding-box answer' },
  ),
  [ANSWER_FIELDS.normal]: button.optional(),
  [ANSWER_FIELDS.anomalous]: button.optional(),
  [ANSWER_FIELDS.comment]: z.string({ message: 'expected text' }).optional(),
});

const outputSchema = z.object({
  flowDefinitionArn: z.string({ message: 'expected a flow definition ARN' }).optional(),
  humanLoopName: z.string({ message: 'expected the human loop name' }).min(1, { message: 'expected the human loop name' }),
  humanAnswers: z
    .array(
      z.object({
        workerId: z.string({ message: 'expected a worker id' }).min(1, { message: 'expected a worker id' }),
        answerContent: answerContentSchema,
      }),
      { message: 'expected a list of answers' },
    )
    .min(1, { message: 'expected at least one answer in a completed loop' }),
});

type AnswerContent = z.infer<typeof answerContentSchema>;

const describeIssues = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');

const share = (value: number) => Math.round(Math.min(Math.max(value, 0), 1) * 1e6) / 1e6;

/** A crowd-bounding-box pixel box (left/top) → a Box in shares of the image, clipped to it; null when nothing of it is inside. */
function toShareBox(
  box: { left: number; top: number; width: number; height: number },
  size: { width: number; height: number },
): Box | null {
  const x = share(box.left / size.width);
  const y = share(box.top / size.height);
  const width = share((box.left + box.width) / size.width) - x;
  const height = share((box.top + box.height) / size.height) - y;
  if (width <= 0 || height <= 0) return null;
  return { x, y, width: share(width), height: share(height) };
}

const chosen = (answer: Record<string, boolean> | undefined) => Object.values(answer ?? {}).some(Boolean);

function toAnswer(workerId: string, content: AnswerContent): ReviewAnswerInput {
  const { boundingBoxes, inputImageProperties } = content[ANSWER_FIELDS.boxes];
  const regions = boundingBoxes.flatMap((b) => {
    const box = toShareBox(b, inputImageProperties);
    return box ? [{ box, type: b.label }] : [];
  });
  // Boxes win over a "normal" choice: overlooking a located anomaly costs more than a second look (the template blocks that mix).
  const anomalous = regions.length > 0 || chosen(content[ANSWER_FIELDS.anomalous]);
  const comment = content[ANSWER_FIELDS.comment]?.trim() ?? '';
  return { reviewer: `a2i:${workerId}`, verdict: anomalous ? 'ANOMALOUS' : 'NORMAL', regions, comment: comment === '' ? null : comment };
}

/** The loop's name and one answer per worker; throws naming every bad field of a malformed file. */
export function parseA2IOutput(json: unknown): { humanLoopName: string; answers: ReviewAnswerInput[] } {
  const parsed = outputSchema.safeParse(json);
  if (!parsed.success) throw new Error(`malformed A2I output.json: ${describeIssues(parsed.error)}`);
  const { humanLoopName, humanAnswers } = parsed.data;
  return { humanLoopName, answers: humanAnswers.map((a) => toAnswer(a.workerId, a.answerContent)) };
}
