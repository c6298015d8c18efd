import {
  lookoutDate,
  manifestLine,
  manifestLineSchema,
  MAX_MANIFEST_LINE_BYTES,
  toJsonLines,
  type ManifestEntry,
} from '../../../src/datasets/lookout-manifest';
import type { MaskColorMap } from '../../../src/datasets/mask';

const createdAt = new Date('2024-05-06T07:08:09.123Z');

const normal: ManifestEntry = {
  sourceRef: 's3://vigil-images/normalized/im/img-1.jpg',
  anomalous: false,
  createdAt,
  jobName: 'vigil/review-2024-05',
};

const colorMap: MaskColorMap = {
  '0': { 'class-name': 'BACKGROUND', 'hex-color': '#ffffff', confidence: 0 },
  '1': { 'class-name': 'crack', 'hex-color': '#1f77b4', confidence: 0 },
  '2': { 'class-name': 'dent', 'hex-color': '#ff7f0e', confidence: 0 },
};

const anomalous: ManifestEntry = {
  sourceRef: 's3://vigil-images/normalized/im/img-2.jpg',
  anomalous: true,
  maskRef: 's3://vigil-images/masks/img-2.png',
  colorMap,
  createdAt,
  jobName: 'vigil/review-2024-05',
};

/** A valid parsed line to break one field at a time. */
const valid = () => JSON.parse(JSON.stringify(manifestLine(anomalous)));

describe('the Lookout for Vision manifest line', () => {
  it('labels a normal image as AWS’s classification example does', () => {
    expect(manifestLine(normal)).toEqual({
      'source-ref': 's3://vigil-images/normalized/im/img-1.jpg',
      'anomaly-label': 0,
      'anomaly-label-metadata': {
        'class-name': 'normal',
        confidence: 1,
        'creation-date': '2024-05-06T07:08:09.123',
        'human-annotated': 'yes',
        'job-name': 'vigil/review-2024-05',
        type: 'groundtruth/image-classification',
      },
    });
  });

  it('adds the mask and its colour map to an anomalous image', () => {
    expect(manifestLine(anomalous)).toEqual({
      'source-ref': 's3://vigil-images/normalized/im/img-2.jpg',
      'anomaly-label': 1,
      'anomaly-label-metadata': {
        'class-name': 'anomaly',
        confidence: 1,
        'creation-date': '2024-05-06T07:08:09.123',
        'human-annotated': 'yes',
        'job-name': 'vigil/review-2024-05',
        type: 'groundtruth/image-classification',
      },
      'anomaly-mask-ref': 's3://vigil-images/masks/img-2.png',
      'anomaly-mask-ref-metadata': {
        'internal-color-map': colorMap,
        type: 'groundtruth/semantic-segmentation',
        'human-annotated': 'yes',
        'creation-date': '2024-05-06T07:08:09.123',
        'job-name': 'vigil/review-2024-05',
      },
    });
  });

  it('writes creation-date in UTC without a zone letter', () => {
    expect(lookoutDate(new Date('2021-10-12T14:16:45.668Z'))).toBe('2021-10-12T14:16:45.668');
    expect(() => lookoutDate(new Date('not a date'))).toThrow(RangeError);
  });

  it('refuses half a mask, and entries that cannot make a valid line', () => {
    expect(() => manifestLine({ ...anomalous, colorMap: null })).toThrow(/needs both maskRef and colorMap/);
    expect(() => manifestLine({ ...normal, colorMap })).toThrow(/needs both maskRef and colorMap/);
    expect(() => manifestLine({ ...normal, sourceRef: '/tmp/img-1.jpg' })).toThrow(/source-ref: must be an S3 URI/);
    expect(() => manifestLine({ ...normal, jobName: '' })).toThrow(/job-name/);
    const onlyBackground = { '0': colorMap['0'] };
    expect(() => manifestLine({ ...anomalous, colorMap: onlyBackground })).toThrow(/at least one anomaly type/);
  });

  it('writes one compact JSON object per line, each within Lookout’s 8 KB entry limit', () => {
    const text = toJsonLines([normal, anomalous]);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toBe(JSON.stringify(JSON.parse(line)));
      expect(line).not.toMatch(/": |, /);
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_MANIFEST_LINE_BYTES);
      expect(manifestLineSchema.safeParse(JSON.parse(line)).success).toBe(true);
    }
    expect(JSON.parse(lines[1])).toEqual(manifestLine(anomalous));
    expect(toJsonLines([])).toBe('');
    expect(MAX_MANIFEST_LINE_BYTES).toBe(8192);
  });
});

describe('manifestLineSchema', () => {
  it('accepts what manifestLine writes', () => {
    expect(manifestLineSchema.parse(valid())).toEqual(manifestLine(anomalous));
    expect(manifestLineSchema.parse(manifestLine(normal))).toEqual(manifestLine(normal));
  });

  const broken: [string, (line: Record<string, any>) => void][] = [
    ['a missing source-ref', (l) => delete l['source-ref']],
    ['a source-ref that is not an S3 URI', (l) => (l['source-ref'] = 'https://example.com/a.jpg')],
    ['anomaly-label 2', (l) => (l['anomaly-label'] = 2)],
    ['anomaly-label disagreeing with class-name', (l) => (l['anomaly-label'] = 0)],
    ['human-annotated "no"', (l) => (l['anomaly-label-metadata']['human-annotated'] = 'no')],
    ['a class-name other than anomaly/normal', (l) => (l['anomaly-label-metadata']['class-name'] = 'crack')],
    ['a confidence other than 1', (l) => (l['anomaly-label-metadata'].confidence = 0.95)],
    ['a wrong label type', (l) => (l['anomaly-label-metadata'].type = 'groundtruth/semantic-segmentation')],
    ['a creation-date with a zone letter', (l) => (l['anomaly-label-metadata']['creation-date'] = '2024-05-06T07:08:09.123Z')],
    ['a missing job-name', (l) => delete l['anomaly-label-metadata']['job-name']],
    ['an unknown key', (l) => (l['anomaly-label-extra'] = 1)],
    ['a mask ref without its metadata', (l) => delete l['anomaly-mask-ref-metadata']],
    ['mask metadata without its ref', (l) => delete l['anomaly-mask-ref']],
    ['a wrong mask type', (l) => (l['anomaly-mask-ref-metadata'].type = 'groundtruth/image-classification')],
    [
      'a colour map whose "0" is not BACKGROUND',
      (l) => (l['anomaly-mask-ref-metadata']['internal-color-map']['0']['class-name'] = 'crack'),
    ],
    ['a background that is not white', (l) => (l['anomaly-mask-ref-metadata']['internal-color-map']['0']['hex-color'] = '#000000')],
    ['an anomaly type painted white', (l) => (l['anomaly-mask-ref-metadata']['internal-color-map']['1']['hex-color'] = '#FFFFFF')],
    ['two types in one colour', (l) => (l['anomaly-mask-ref-metadata']['internal-color-map']['2']['hex-color'] = '#1f77b4')],
    [
      'a colour map with a gap',
      (l) => {
        const map = l['anomaly-mask-ref-metadata']['internal-color-map'];
        map['3'] = map['2'];
        delete map['2'];
      },
    ],
    ['a colour that is not hex', (l) => (l['anomaly-mask-ref-metadata']['internal-color-map']['1']['hex-color'] = 'blue')],
    ['a colour-map entry without confidence', (l) => delete l['anomaly-mask-ref-metadata']['internal-color-map']['1'].confidence],
  ];

  it.each(broken)('rejects %s', (_why, breakIt) => {
    const line = valid();
    breakIt(line);
    expect(manifestLineSchema.safeParse(line).success).toBe(false);
  });
});
