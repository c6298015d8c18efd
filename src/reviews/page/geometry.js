// @ts-check
// Rectangles as shares (0–1) of the photo: pure functions, no DOM and no state.

/** @typedef {import('./types.js').Box} Box */
/** @typedef {import('./types.js').Point} Point */
/** @typedef {import('./types.js').Rect} Rect */
/** @typedef {import('./types.js').RegionInput} RegionInput */

/** @param {number} v */
export function clamp01(v) {
  return Math.min(1, Math.max(0, v));
}

/**
 * The rectangle spanned by two opposite corners, whichever way round.
 * @param {Point} a
 * @param {Point} b
 * @returns {Rect}
 */
export function normalise(a, b) {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) };
}

/**
 * The boxes as submitReview takes them: inside the photo, rounded to 6 places, empty ones dropped.
 * @param {Box[]} boxes
 * @returns {RegionInput[]}
 */
export function regionsToSend(boxes) {
  /** @param {number} v */
  const q = (v) => Math.round(v * 1e6) / 1e6;
  /** @type {RegionInput[]} */
  const out = [];
  for (const b of boxes) {
    const x = q(clamp01(b.x));
    const y = q(clamp01(b.y));
    let width = q(clamp01(b.x + b.width)) - x;
    let height = q(clamp01(b.y + b.height)) - y;
    width = Math.min(q(width), 1 - x);
    height = Math.min(q(height), 1 - y);
    while (x + width > 1) width -= Number.EPSILON;
    while (y + height > 1) height -= Number.EPSILON;
    if (!(width > 1e-6) || !(height > 1e-6)) continue;
    out.push({ box: { x, y, width, height }, type: b.type });
  }
  return out;
}
