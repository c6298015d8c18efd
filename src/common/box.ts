/**
 * A rectangle as shares of the image (0..1), measured from its top-left corner: the one box shape of the
 * API (Box, BoxInput) and of everything vigil stores as JSON (review answers, dataset entries).
 */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The whole image. */
export const WHOLE_IMAGE: Readonly<Box> = Object.freeze({ x: 0, y: 0, width: 1, height: 1 });

/**
 * A box given as left/top shares (the detector port's NormalizedBox, which detection results are stored in)
 * as a Box.
 */
export function boxFromLeftTop(b: { left: number; top: number; width: number; height: number }): Box {
  return { x: b.left, y: b.top, width: b.width, height: b.height };
}
