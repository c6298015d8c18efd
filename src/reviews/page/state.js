// @ts-check
// The page's constants and its one state object, shared by every module.

/** @typedef {import('./types.js').Box} Box */
/** @typedef {import('./types.js').PageState} PageState */

export const KEY_STORAGE = 'vigil.review.apiKey';
export const TYPE_STORAGE = 'vigil.review.defaultType';
export const POLL_MS = 4000;
export const MIN_DRAG_PX = 5;
export const HANDLE_PX = 9;
export const PAD_PX = 12;
export const UNDO_LIMIT = 200;

/** @type {Readonly<Record<string, string>>} */
export const REASONS = {
  COLD_START: 'Cold start (no model yet)',
  LOW_CONFIDENCE: 'Model unsure',
  SAMPLED_QA: 'Quality sample',
  ACTIVE_LEARNING: 'Model nearly decided otherwise',
};

/** @type {PageState} */
export const state = {
  key: null,
  session: 0,
  settings: null,
  task: null,
  verdict: null,
  boxes: [],
  selected: null,
  undo: [],
  defaultType: null,
  skipped: [],
  busy: false,
  claiming: false,
  pollTimer: undefined,
  drag: null,
  nextBoxId: 1,
  disp: { w: 0, h: 0 },
};

/** A copy of the boxes, for undo. */
export const snapshot = () => state.boxes.map((b) => ({ ...b }));

/**
 * @param {number | null} id
 * @returns {Box | null}
 */
export function findBox(id) {
  return state.boxes.find((b) => b.id === id) || null;
}
