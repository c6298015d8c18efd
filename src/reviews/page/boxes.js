// @ts-check
// The reviewer's answer being edited: the verdict, the boxes and their list in the panel, and undo.

import { setDefaultType, updateControls, updateVerdict } from './controls.js';
import { el, setStatus } from './dom.js';
import { renderOverlay } from './overlay.js';
import { UNDO_LIMIT, findBox, snapshot, state } from './state.js';

/** @typedef {import('./types.js').Box} Box */
/** @typedef {import('./types.js').Verdict} Verdict */

/** @param {Verdict} verdict */
export function setVerdict(verdict) {
  if (!state.task) return;
  state.verdict = verdict;
  updateVerdict();
  renderOverlay();
}

/** Forgets the verdict, boxes, undo history and comment (a new task, or signed out). */
export function resetEdits() {
  state.verdict = null;
  state.boxes = [];
  state.selected = null;
  state.undo = [];
  state.drag = null;
  el.comment.value = '';
  updateVerdict();
  renderBoxList();
}

/**
 * Remembers the boxes as they were before an edit.
 * @param {Box[]} boxes
 */
export function pushUndo(boxes) {
  state.undo.push(boxes);
  if (state.undo.length > UNDO_LIMIT) state.undo.shift();
  updateControls();
}

export function undo() {
  if (!state.task || state.busy || !state.undo.length) return;
  state.boxes = /** @type {Box[]} */ (state.undo.pop());
  if (!state.boxes.some((b) => b.id === state.selected)) state.selected = null;
  state.drag = null;
  afterBoxesChanged();
  setStatus('Undone.');
}

/** Redraws what depends on the boxes. */
export function afterBoxesChanged() {
  updateVerdict();
  renderBoxList();
  renderOverlay();
  updateControls();
}

/** @param {number | null} id */
export function deleteBox(id) {
  if (!findBox(id) || state.busy) return;
  pushUndo(snapshot());
  state.boxes = state.boxes.filter((b) => b.id !== id);
  if (state.selected === id) state.selected = null;
  afterBoxesChanged();
}

/**
 * Sets a box's type, which also becomes the type of new boxes.
 * @param {number} id
 * @param {string} type
 */
export function setBoxType(id, type) {
  const box = findBox(id);
  if (!box || box.type === type) return;
  pushUndo(snapshot());
  box.type = type;
  setDefaultType(type);
  afterBoxesChanged();
}

/** @param {number | null} id */
export function selectBox(id) {
  state.selected = id;
  renderBoxList();
  renderOverlay();
}

/** The "Your boxes" list: a row per box with its number, its type and a delete button. */
export function renderBoxList() {
  const types = state.settings ? state.settings.anomalyTypes : [];
  const rows = state.boxes.map((box, i) => boxRow(box, i, types));
  el.boxList.replaceChildren(...rows);
  el.boxCount.textContent = String(state.boxes.length);
  el.boxEmpty.hidden = state.boxes.length > 0;
}

/**
 * @param {Box} box
 * @param {number} i
 * @param {string[]} types
 * @returns {HTMLLIElement}
 */
function boxRow(box, i, types) {
  const li = document.createElement('li');
  li.dataset.testid = 'box-row';
  li.dataset.box = String(box.id);
  if (box.id === state.selected) li.classList.add('selected');
  const num = document.createElement('span');
  num.className = 'num';
  num.textContent = String(i + 1);
  const select = document.createElement('select');
  select.dataset.testid = 'box-type';
  select.setAttribute('aria-label', `Anomaly type of box ${i + 1}`);
  for (const t of types) select.append(new Option(t, t));
  if (box.type && !types.includes(box.type)) select.append(new Option(box.type, box.type));
  select.value = box.type || '';
  select.addEventListener('change', () => {
    setBoxType(box.id, select.value);
    select.blur();
  });
  const del = document.createElement('button');
  del.type = 'button';
  del.textContent = '×';
  del.dataset.testid = 'box-delete';
  del.setAttribute('aria-label', `Delete box ${i + 1}`);
  del.addEventListener('click', () => deleteBox(box.id));
  li.addEventListener('pointerdown', (ev) => {
    if (ev.target === li || ev.target === num) selectBox(box.id);
  });
  li.append(num, select, del);
  return li;
}
