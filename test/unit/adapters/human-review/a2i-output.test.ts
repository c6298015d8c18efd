import { readFileSync } from 'node:fs';
import path from 'node:path';
import { anomalyReviewInput } from '../../../../src/adapters/human-review/a2i.driver';
import { ANSWER_FIELDS, parseA2IOutput } from '../../../../src/adapters/human-review/a2i-output';

const NAME = 'vigil-3f2b8c1e-9d4a-4e7b-8c6d-5a1b2c3d4e5f';
const FLOW = 'arn:aws:sagemaker:eu-west-1:123456789012:flow-definition/vigil-anomaly-review';

type Box = { left: number; top: number; width: number; height: number; label: string };

/** What the template submits for one worker. */
const answerContent = ({
  boxes = [] as Box[],
  verdict,
  comment = '',
}: {
  boxes?: Box[];
  verdict?: 'normal' | 'anomalous';
  comment?: string;
}) => ({
  annotatedResult: {
    boundingBoxes: boxes.map(({ left, top, width, height, label }) => ({ height, label, left, top, width })),
    inputImageProperties: { height: 480, width: 640 },
    initialValueModified: true,
  },
  ...(verdict ? { normal: { normal: verdict === 'normal' }, anomalous: { anomalous: verdict === 'anomalous' } } : {}),
  comment,
});

const humanAnswer = (workerId: string, content: unknown) => ({
  acceptanceTime: '2026-03-02T09:14:05.412Z',
  answerContent: content,
  submissionTime: '2026-03-02T09:15:41.087Z',
  timeSpentInSeconds: 95.675,
  workerId,
  workerMetadata: {
    identityData: {
      identityProviderType: 'Cognito',
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123',
      sub: '6c1f3a2e-8b4d-4f7a-9e0c-2d5b7a9c1e3f',
    },
  },
});

/** The output.json A2I writes for a completed loop. */
const outputJson = (humanAnswers: unknown[]) => ({
  flowDefinitionArn: FLOW,
  humanAnswers,
  humanLoopName: NAME,
  inputContent: {
    taskObject: 's3://vigil-images/normalized/3f/3f2b8c1e.jpg',
    initialValue: [{ left: 64, top: 120, width: 160, height: 240, label: 'crack' }],
    labels: ['chipped', 'crack', 'flashover'],
    confidence: 0.58,
    taskId: '3f2b8c1e-9d4a-4e7b-8c6d-5a1b2c3d4e5f',
    reason: 'LOW_CONFIDENCE',
    deviceType: 'insulator',
  },
});

describe('reading an A2I output.json', () => {
  it('turns an anomalous answer’s pixel boxes into shares of the image', () => {
    const json = outputJson([
      humanAnswer(
        'ef7294f850a3d9d1',
        answerContent({
          boxes: [
            { left: 64, top: 120, width: 160, height: 240, label: 'crack' },
            { left: 480, top: 24, width: 32, height: 48, label: 'flashover' },
          ],
          verdict: 'anomalous',
          comment: '  crack runs across two sheds \n',
        }),
      ),
    ]);
    expect(parseA2IOutput(json)).toEqual({
      humanLoopName: NAME,
      answers: [
        {
          reviewer: 'a2i:ef7294f850a3d9d1',
          verdict: 'ANOMALOUS',
          regions: [
            { box: { x: 0.1, y: 0.25, width: 0.25, height: 0.5 }, type: 'crack' },
            { box: { x: 0.75, y: 0.05, width: 0.05, height: 0.1 }, type: 'flashover' },
          ],
          comment: 'crack runs across two sheds',
        },
      ],
    });
  });

  it('reads a normal answer without boxes, an empty comment as null', () => {
    expect(parseA2IOutput(outputJson([humanAnswer('a1b2c3d4', answerContent({ verdict: 'normal', comment: '   ' }))])).answers).toEqual([
      { reviewer: 'a2i:a1b2c3d4', verdict: 'NORMAL', regions: [], comment: null },
    ]);
  });

  it('gives one answer per worker, in the file’s order', () => {
    const json = outputJson([
      humanAnswer('worker-one', answerContent({ verdict: 'normal' })),
      humanAnswer(
        'worker-two',
        answerContent({
          boxes: [{ left: 0, top: 0, width: 320, height: 240, label: 'chipped' }],
          verdict: 'anomalous',
          comment: 'chipped rim',
        }),
      ),
      humanAnswer('worker-three', answerContent({ verdict: 'anomalous', comment: 'dirty all over, no one spot' })),
    ]);
    expect(parseA2IOutput(json).answers).toEqual([
      { reviewer: 'a2i:worker-one', verdict: 'NORMAL', regions: [], comment: null },
      {
        reviewer: 'a2i:worker-two',
        verdict: 'ANOMALOUS',
        regions: [{ box: { x: 0, y: 0, width: 0.5, height: 0.5 }, type: 'chipped' }],
        comment: 'chipped rim',
      },
      { reviewer: 'a2i:worker-three', verdict: 'ANOMALOUS', regions: [], comment: 'dirty all over, no one spot' },
    ]);
  });

  it('lets boxes win over a normal choice, and reads no choice and no boxes as normal', () => {
    const json = outputJson([
      humanAnswer(
        'kept-the-model-box',
        answerContent({ boxes: [{ left: 64, top: 120, width: 160, height: 240, label: 'crack' }], verdict: 'normal' }),
      ),
      humanAnswer('chose-nothing', answerContent({})),
      humanAnswer('boxes-only', answerContent({ boxes: [{ left: 64, top: 120, width: 160, height: 240, label: 'crack' }] })),
    ]);
    expect(parseA2IOutput(json).answers.map((a) => a.verdict)).toEqual(['ANOMALOUS', 'NORMAL', 'ANOMALOUS']);
  });

  it('clips boxes to the image, drops boxes wholly outside it, and measures against the image the worker saw', () => {
    const content = answerContent({
      boxes: [
        { left: -20, top: 400, width: 100, height: 200, label: 'crack' },
        { left: 700, top: 10, width: 50, height: 50, label: 'crack' },
        { left: 100, top: 100, width: 0, height: 30, label: 'crack' },
      ],
      verdict: 'anomalous',
    });
    expect(parseA2IOutput(outputJson([humanAnswer('w', content)])).answers[0].regions).toEqual([
      { box: { x: 0, y: 0.833333, width: 0.125, height: 0.166667 }, type: 'crack' },
    ]);

    const larger = answerContent({ boxes: [{ left: 128, top: 240, width: 320, height: 480, label: 'crack' }] });
    larger.annotatedResult.inputImageProperties = { width: 1280, height: 960 };
    expect(parseA2IOutput(outputJson([humanAnswer('w', larger)])).answers[0].regions).toEqual([
      { box: { x: 0.1, y: 0.25, width: 0.25, height: 0.5 }, type: 'crack' },
    ]);
  });

  it('rejects a malformed file, naming the bad field', () => {
    const withContent = (content: unknown) => outputJson([humanAnswer('w', content)]);
    const good = answerContent({ boxes: [{ left: 64, top: 120, width: 160, height: 240, label: 'crack' }], verdict: 'anomalous' });

    expect(() => parseA2IOutput('{"humanLoopName":"x"}')).toThrow('malformed A2I output.json: (root):');
    expect(() => parseA2IOutput({ ...outputJson([]), humanLoopName: undefined, humanAnswers: [humanAnswer('w', good)] })).toThrow(
      'malformed A2I output.json: humanLoopName: expected the human loop name',
    );
    expect(() => parseA2IOutput({ ...outputJson([]), humanAnswers: undefined })).toThrow('humanAnswers: expected a list of answers');
    expect(() => parseA2IOutput(outputJson([]))).toThrow('humanAnswers: expected at least one answer in a completed loop');
    expect(() => parseA2IOutput(outputJson([{ ...humanAnswer('w', good), workerId: undefined }]))).toThrow(
      'humanAnswers.0.workerId: expected a worker id',
    );

    const stringLeft = structuredClone(good) as { annotatedResult: { boundingBoxes: Record<string, unknown>[] } };
    stringLeft.annotatedResult.boundingBoxes[0].left = '64';
    expect(() => parseA2IOutput(withContent(stringLeft))).toThrow(
      'humanAnswers.0.answerContent.annotatedResult.boundingBoxes.0.left: expected a number of pixels',
    );

    const { annotatedResult: _boxes, ...withoutBoxes } = good;
    expect(() => parseA2IOutput(withContent(withoutBoxes))).toThrow(
      'humanAnswers.0.answerContent.annotatedResult: expected the crowd-bounding-box answer',
    );
    expect(() => parseA2IOutput(withContent({ ...good, annotatedResult: { boundingBoxes: [] } }))).toThrow(
      'humanAnswers.0.answerContent.annotatedResult.inputImageProperties: expected the image size',
    );
    expect(() => parseA2IOutput(withContent({ ...good, anomalous: { anomalous: 'yes' } }))).toThrow(
      'humanAnswers.0.answerContent.anomalous.anomalous: expected true or false',
    );
    expect(() => parseA2IOutput(withContent({ ...good, comment: 42 }))).toThrow('humanAnswers.0.answerContent.comment: expected text');
    expect(() =>
      parseA2IOutput(
        outputJson([
          humanAnswer('a', good),
          humanAnswer('b', {
            ...good,
            annotatedResult: { ...good.annotatedResult, boundingBoxes: [{ left: 1, top: 1, width: -5, height: 4, label: '' }] },
          }),
        ]),
      ),
    ).toThrow(
      'humanAnswers.1.answerContent.annotatedResult.boundingBoxes.0.width: expected a width ≥ 0; humanAnswers.1.answerContent.annotatedResult.boundingBoxes.0.label: expected a label',
    );
  });
});

describe('the A2I worker task template', () => {
  const template = readFileSync(path.join(__dirname, '../../../../workflows/a2i/anomaly-review.liquid.html'), 'utf8');
  const tag = (name: string) => template.match(new RegExp(`<${name}\\b[^>]*>`, 'g')) ?? [];

  it('loads the crowd elements and wraps the task in one crowd-form', () => {
    expect(template).toContain('<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>');
    expect(tag('crowd-form')).toHaveLength(1);
    expect(template.indexOf('<crowd-form>')).toBeLessThan(template.indexOf('<crowd-bounding-box'));
    expect(template.indexOf('</crowd-form>')).toBeGreaterThan(template.indexOf('</crowd-radio-group>'));
  });

  it('draws boxes under the name parseA2IOutput reads, with the task’s image, labels and the model’s boxes', () => {
    const [box] = tag('crowd-bounding-box');
    expect(tag('crowd-bounding-box')).toHaveLength(1);
    expect(box).toContain(`name="${ANSWER_FIELDS.boxes}"`);
    expect(box).toContain('src="{{ task.input.taskObject | grant_read_access }}"');
    expect(box).toContain('labels="{{ task.input.labels | to_json | escape }}"');
    expect(box).toContain('initial-value="{{ task.input.initialValue | to_json | escape }}"');
    expect(box).toMatch(/header="[^"]+"/);
    const body = template.slice(template.indexOf('<crowd-bounding-box'), template.indexOf('</crowd-bounding-box>'));
    expect(body).toContain('<full-instructions');
    expect(body).toContain('<short-instructions>');
  });

  it('asks for normal or anomalous with radio buttons whose names and values parseA2IOutput reads', () => {
    const group = template.slice(template.indexOf('<crowd-radio-group>'), template.indexOf('</crowd-radio-group>'));
    expect(group).toContain(`<crowd-radio-button name="${ANSWER_FIELDS.normal}" value="${ANSWER_FIELDS.normal}">`);
    expect(group).toContain(`<crowd-radio-button name="${ANSWER_FIELDS.anomalous}" value="${ANSWER_FIELDS.anomalous}">`);
    expect(tag('crowd-text-area').join()).toContain(`name="${ANSWER_FIELDS.comment}"`);
  });

  it('names no form field parseA2IOutput does not know', () => {
    const names = [...template.matchAll(/<crowd-[a-z-]+\b[^>]*\bname="([^"]+)"/g)].map((m) => m[1]);
    expect(names.sort()).toEqual(Object.values(ANSWER_FIELDS).sort());
  });

  it('shows the model’s confidence and the device type, and reads only what the adapter sends', () => {
    expect(template).toContain('{{ task.input.confidence | times: 100 | round }}%');
    expect(template).toContain('{{ task.input.deviceType }}');
    const read = new Set([...template.matchAll(/task\.input\.([A-Za-z]+)/g)].map((m) => m[1]));
    const sent = anomalyReviewInput({
      taskId: '3f2b8c1e-9d4a-4e7b-8c6d-5a1b2c3d4e5f',
      attempt: 0,
      reason: 'COLD_START',
      deviceType: 'pole',
      imageS3Uri: 's3://vigil-images/a.jpg',
      imageWidth: 10,
      imageHeight: 10,
      modelRegions: [],
      confidence: null,
      anomalyTypes: ['crack'],
    });
    expect([...read].filter((field) => !(field in sent))).toEqual([]);
    expect([...read].sort()).toEqual(['confidence', 'deviceType', 'initialValue', 'labels', 'reason', 'taskObject']);
  });
});
