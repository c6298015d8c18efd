import sharp from 'sharp';
import { binaryMaskOf, maskColour, paintBinaryMask, renderMask } from '../../../src/datasets/mask';
import { type SnapshotEntry, splitHash } from '../../../src/models/training.service';

const entry = (key: string, label: 'normal' | 'anomalous', split: 'TRAIN' | 'TEST'): SnapshotEntry => ({
  id: key,
  key,
  label,
  type: null,
  types: [],
  maskKey: null,
  split,
});

describe('splitHash', () => {
  const a = [entry('a', 'normal', 'TEST'), entry('b', 'anomalous', 'TEST'), entry('c', 'normal', 'TRAIN')];

  it('names the TEST entries and their labels, in any order', () => {
    expect(splitHash([...a].reverse())).toBe(splitHash(a));
  });

  it('changes when a test label, a test entry or nothing but the training part changes', () => {
    expect(splitHash([entry('a', 'anomalous', 'TEST'), a[1], a[2]])).not.toBe(splitHash(a));
    expect(splitHash([...a, entry('d', 'normal', 'TEST')])).not.toBe(splitHash(a));
    // TRAIN entries are not part of the test split.
    expect(splitHash([...a, entry('e', 'normal', 'TRAIN')])).toBe(splitHash(a));
  });
});

async function grey(width: number, height: number, on: (x: number, y: number) => boolean): Promise<Buffer> {
  const px = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px[y * width + x] = on(x, y) ? 255 : 0;
  return sharp(px, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}

describe('masks between formats', () => {
  const types = ['crack', 'other'];

  it('paints an imported binary mask in the type colour on white and boxes it', async () => {
    const binary = await grey(40, 20, (x, y) => x >= 10 && x < 20 && y >= 5 && y < 10);
    const { png, box } = await paintBinaryMask(binary, 'other', types);
    expect(box).toEqual({ x: 0.25, y: 0.25, width: 0.25, height: 0.25 });
    const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => `#${[0, 1, 2].map((c) => data[(y * 40 + x) * 3 + c].toString(16).padStart(2, '0')).join('')}`;
    expect(at(12, 7)).toBe(maskColour(1));
    expect(at(0, 0)).toBe('#ffffff');
  });

  it('an empty binary mask has no box, and an unknown type is refused', async () => {
    expect((await paintBinaryMask(await grey(8, 8, () => false), 'crack', types)).box).toBeNull();
    await expect(paintBinaryMask(await grey(8, 8, () => true), 'rust', types)).rejects.toThrow(
      /"rust" is not one of the anomaly types \[crack, other\]/,
    );
  });

  it('turns a stored (colour on white) mask back into white-on-black for the model', async () => {
    const { png } = await renderMask({
      width: 40,
      height: 40,
      regions: [{ box: { x: 0.5, y: 0, width: 0.5, height: 0.5 }, type: 'crack' }],
      types,
    });
    const { data, info } = await sharp(await binaryMaskOf(png))
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([40, 40]);
    expect(data[5 * 40 + 30]).toBe(255);
    expect(data[30 * 40 + 5]).toBe(0);
  });
});
