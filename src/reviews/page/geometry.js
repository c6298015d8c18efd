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
  const left = Math.min(a.x, b.x);
  const top = Math.min(a.y, b.y);
  return { left, top, width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) };
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
    const left = q(clamp01(b.left));
    const top = q(clamp01(b.top));
    let width = q(clamp01(b.left + b.width)) - left;
    let height = q(clamp01(b.top + b.height)) - top;
    width = Math.min(q(width), 1 - left);
    height = Math.min(q(height), 1 - top);
    while (left + width > 1) width -= Number.EPSILON;
    while (top + height > 1) height -= Number.EPSILON;
    if (!(width > 1e-6) || !(height > 1e-6)) continue;
    out.push({ box: { left, top, width, height }, type: b.type });
  }
  return out;
}
