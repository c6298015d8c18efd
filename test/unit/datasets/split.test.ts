import { randomUUID } from 'node:crypto';
import { splitFor } from '../../../src/datasets/split';

describe('splitFor', () => {
  it('puts an image on the same side every time', () => {
    const id = '0b6f3c1e-6d1a-4f7e-9a52-1c2d3e4f5a6b';
    const first = splitFor(id, 0.2);
    for (let i = 0; i < 5; i++) expect(splitFor(id, 0.2)).toBe(first);
  });

  it.each([0.1, 0.2, 0.5])('sends about %p of 10,000 images to TEST (±2%%)', (share) => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `image-${i}`);
    const tested = ids.filter((id) => splitFor(id, share) === 'TEST').length / ids.length;
    expect(Math.abs(tested - share)).toBeLessThanOrEqual(0.02);
  });

  it('keeps an image in TEST when the share grows', () => {
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    for (const id of ids.filter((i) => splitFor(i, 0.1) === 'TEST')) expect(splitFor(id, 0.3)).toBe('TEST');
  });

  it('puts everything in TRAIN at share 0 and in TEST at share 1, and refuses shares outside 0..1', () => {
    expect(splitFor('a', 0)).toBe('TRAIN');
    expect(splitFor('a', 1)).toBe('TEST');
    expect(() => splitFor('a', 1.5)).toThrow(RangeError);
    expect(() => splitFor('a', -0.1)).toThrow(RangeError);
    expect(() => splitFor('a', Number.NaN)).toThrow(RangeError);
  });
});
