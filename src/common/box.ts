/**
 * A rectangle as shares of the image (0..1), measured from its top-left corner: the one box shape of the
 * API (Box, BoxInput), of the detectors and the built-in model, and of everything vigil stores as JSON
 * (review answers, dataset entries, detection results). Outside services' boxes (Rekognition's Left/Top,
 * A2I's pixel left/top, sharp's extract) are converted where vigil talks to them.
 */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The whole image. */
export const WHOLE_IMAGE: Readonly<Box> = Object.freeze({ x: 0, y: 0, width: 1, height: 1 });
