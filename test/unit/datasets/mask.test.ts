import sharp from 'sharp';
import { maskColour, maskDimensions, MAX_MASK_SIDE, renderMask } from '../../../src/datasets/mask';

const types = ['scratch', 'crack', 'dent'];

/** The mask's pixels as RGB, plus a reader for one pixel as #rrggbb. */
async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => {
    const i = (y * info.width + x) * info.channels;
    return `#${[data[i], data[i + 1], data[i + 2]].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
  };
  return { info, at };
}

describe('renderMask', () => {
  it('paints each region in its type’s colour on white, and maps only the types present', async () => {
    const { png, colorMap } = await renderMask({
      width: 200,
      height: 100,
      types,
      regions: [
        { type: 'crack', box: { x: 0.1, y: 0.2, width: 0.2, height: 0.3 } }, // x 20–59, y 20–49
        { type: 'dent', box: { x: 0.6, y: 0.5, width: 0.25, height: 0.4 } }, // x 120–169, y 50–89
      ],
    });
    const { info, at } = await pixels(png);
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 200, height: 100, channels: 3 });
    expect(info).toMatchObject({ width: 200, height: 100, channels: 3 });

    const crack = maskColour(1);
    const dent = maskColour(2);
    for (const [x, y] of [
      [20, 20],
      [59, 49],
      [40, 35],
    ])
      expect(at(x, y)).toBe(crack);
    for (const [x, y] of [
      [120, 50],
      [169, 89],
      [150, 70],
    ])
      expect(at(x, y)).toBe(dent);
    for (const [x, y] of [
      [0, 0],
      [19, 20],
      [60, 49],
      [20, 50],
      [119, 50],
      [170, 89],
      [150, 90],
      [199, 99],
      [100, 10],
    ])
      expect(at(x, y)).toBe('#ffffff');

    expect(colorMap).toEqual({
      '0': { 'class-name': 'BACKGROUND', 'hex-color': '#ffffff', confidence: 0 },
      '1': { 'class-name': 'crack', 'hex-color': crack, confidence: 0 },
      '2': { 'class-name': 'dent', 'hex-color': dent, confidence: 0 },
    });
  });

  it('uses exactly the colours of the colour map, and nothing else', async () => {
    const { png, colorMap } = await renderMask({
      width: 64,
      height: 64,
      types,
      regions: [{ type: 'scratch', box: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } }],
    });
    const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const seen = new Set<string>();
    for (let i = 0; i < data.length; i += 3)
      seen.add(`#${[data[i], data[i + 1], data[i + 2]].map((c) => c.toString(16).padStart(2, '0')).join('')}`);
    expect([...seen].sort()).toEqual(
      Object.values(colorMap)
        .map((c) => c['hex-color'])
        .sort(),
    );
  });

  it('keeps a small anomaly inside a larger one visible, and drops a type painted over entirely', async () => {
    const { png, colorMap } = await renderMask({
      width: 100,
      height: 100,
      types,
      regions: [
        { type: 'dent', box: { x: 0.45, y: 0.45, width: 0.1, height: 0.1 } },
        { type: 'scratch', box: { x: 0, y: 0, width: 1, height: 1 } },
        { type: 'crack', box: { x: 0, y: 0, width: 1, height: 1 } },
      ],
    });
    const { at } = await pixels(png);
    expect(at(50, 50)).toBe(maskColour(2));
    expect(at(0, 0)).toBe(maskColour(1));
    expect(Object.values(colorMap).map((c) => c['class-name'])).toEqual(['BACKGROUND', 'crack', 'dent']);
  });

  it('gives a tiny box one pixel, cuts boxes at the image edge, and skips boxes outside it', async () => {
    const { png, colorMap } = await renderMask({
      width: 100,
      height: 50,
      types,
      regions: [
        { type: 'scratch', box: { x: 0.5, y: 0.5, width: 0.001, height: 0.001 } },
        { type: 'crack', box: { x: 0.9, y: -0.2, width: 0.5, height: 0.4 } },
        { type: 'dent', box: { x: 1.2, y: 0.1, width: 0.1, height: 0.1 } },
      ],
    });
    const { at } = await pixels(png);
    expect(at(50, 25)).toBe(maskColour(0));
    expect(at(99, 0)).toBe(maskColour(1));
    expect(at(99, 9)).toBe(maskColour(1));
    expect(at(99, 10)).toBe('#ffffff');
    expect(Object.values(colorMap).map((c) => c['class-name'])).toEqual(['BACKGROUND', 'scratch', 'crack']);
  });

  it('lists only BACKGROUND for a picture without regions', async () => {
    const { png, colorMap } = await renderMask({ width: 10, height: 10, types, regions: [] });
    expect(colorMap).toEqual({ '0': { 'class-name': 'BACKGROUND', 'hex-color': '#ffffff', confidence: 0 } });
    expect((await pixels(png)).at(5, 5)).toBe('#ffffff');
  });

  it('refuses a region of an unknown type, a type named BACKGROUND and a bad image size', async () => {
    await expect(
      renderMask({ width: 10, height: 10, types, regions: [{ type: 'rust', box: { x: 0, y: 0, width: 1, height: 1 } }] }),
    ).rejects.toThrow(/"rust" is not one of the anomaly types/);
    await expect(renderMask({ width: 10, height: 10, types: ['background'], regions: [] })).rejects.toThrow(/reserved/);
    await expect(renderMask({ width: 0, height: 10, types, regions: [] })).rejects.toThrow(RangeError);
  });

  it('caps the longer side at 4096 px, keeping the aspect ratio', () => {
    expect(MAX_MASK_SIDE).toBe(4096);
    expect(maskDimensions(640, 480)).toEqual({ width: 640, height: 480 });
    expect(maskDimensions(8192, 6144)).toEqual({ width: 4096, height: 3072 });
    expect(maskDimensions(1000, 10000)).toEqual({ width: 410, height: 4096 });
  });
});

describe('maskColour', () => {
  it('is fixed per position, distinct, lower-case hex and never white', () => {
    const colours = Array.from({ length: 532 }, (_, i) => maskColour(i));
    expect(colours.slice(0, 3)).toEqual(['#1f77b4', '#ff7f0e', '#2ca02c']);
    expect(new Set(colours).size).toBe(colours.length);
    for (const c of colours) expect(c).toMatch(/^#[0-9a-f]{6}$/);
    expect(colours).not.toContain('#ffffff');
    expect(() => maskColour(532)).toThrow(RangeError);
  });
});
