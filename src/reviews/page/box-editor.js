// @ts-check
// Drawing, moving and resizing boxes on the photo with the pointer (mouse, pen or touch).

import { afterBoxesChanged, deleteBox, pushUndo, renderBoxList, setVerdict } from './boxes.js';
import { el, setStatus } from './dom.js';
import { clamp01, normalise } from './geometry.js';
import { renderOverlay } from './overlay.js';
import { MIN_DRAG_PX, findBox, snapshot, state } from './state.js';

/** @typedef {import('./types.js').Box} Box */
/** @typedef {import('./types.js').EditDrag} EditDrag */
/** @typedef {import('./types.js').Point} Point */

/**
 * Where the pointer is, as shares of the photo, clamped to it.
 * @param {PointerEvent} ev
 * @returns {Point}
 */
function pointerShare(ev) {
  const rect = el.overlay.getBoundingClientRect();
  return {
    x: clamp01((ev.clientX - rect.left) / rect.width),
    y: clamp01((ev.clientY - rect.top) / rect.height),
  };
}

/** Takes the focus from whatever has it, so the keyboard shortcuts work after a drag. */
function blurActive() {
  const active = document.activeElement;
  if (active && active !== document.body && (active instanceof HTMLElement || active instanceof SVGElement)) active.blur();
}

/**
 * Starts a drag: on a handle a resize, on a box a move, on the delete button a delete, elsewhere a new box.
 * @param {PointerEvent} ev
 */
export function onPointerDown(ev) {
  if (!state.task || state.busy || ev.button !== 0) return;
  const target = ev.target instanceof Element ? /** @type {SVGElement | null} */ (ev.target.closest('[data-role]')) : null;
  const role = target ? target.dataset.role : 'canvas';
  const id = target?.dataset.box ? Number(target.dataset.box) : null;
  const p = pointerShare(ev);
  ev.preventDefault();
  blurActive();
  if (role === 'delete') {
    deleteBox(id);
    return;
  }
  if (role === 'handle' || role === 'box') {
    const box = findBox(id);
    if (!box || !target) return;
    state.selected = box.id;
    state.drag = {
      mode: role === 'handle' ? 'resize' : 'move',
      id: box.id,
      corner: target.dataset.corner,
      start: p,
      orig: { ...box },
      before: snapshot(),
      moved: false,
    };
    renderBoxList();
  } else {
    if (!state.settings?.anomalyTypes.length) {
      setStatus('No anomaly types are configured, so boxes cannot be drawn.', 'error');
      return;
    }
    state.selected = null;
    state.drag = { mode: 'draw', start: p, cur: null };
    renderBoxList();
  }
  el.overlay.setPointerCapture(ev.pointerId);
  renderOverlay();
}

/** @param {PointerEvent} ev */
export function onPointerMove(ev) {
  const d = state.drag;
  if (!d) return;
  const p = pointerShare(ev);
  if (d.mode === 'draw') {
    d.cur = p;
  } else {
    const box = findBox(d.id);
    if (!box) return;
    dragBox(d, box, p);
  }
  renderOverlay();
}

/**
 * Moves or resizes the box as the drag says, from where it was when the drag began.
 * @param {EditDrag} d
 * @param {Box} box
 * @param {Point} p
 */
function dragBox(d, box, p) {
  const o = d.orig;
  const dx = p.x - d.start.x;
  const dy = p.y - d.start.y;
  if (d.mode === 'move') {
    box.x = Math.min(1 - o.width, Math.max(0, o.x + dx));
    box.y = Math.min(1 - o.height, Math.max(0, o.y + dy));
  } else {
    const corner = d.corner || '';
    let l = o.x,
      t = o.y,
      r = o.x + o.width,
      b = o.y + o.height;
    if (corner.includes('w')) l = p.x;
    else r = p.x;
    if (corner.includes('n')) t = p.y;
    else b = p.y;
    Object.assign(box, normalise({ x: l, y: t }, { x: r, y: b }));
  }
  d.moved = d.moved || dx !== 0 || dy !== 0;
}

/**
 * Ends the drag: a drawn box big enough is added (and the verdict becomes Anomalous); a moved or
 * resized one can be undone, and one resized to nothing goes back to what it was.
 * @param {PointerEvent} ev  pointerup, or pointercancel (which adds nothing)
 */
export function onPointerUp(ev) {
  const d = state.drag;
  if (!d) return;
  state.drag = null;
  if (el.overlay.hasPointerCapture(ev.pointerId)) el.overlay.releasePointerCapture(ev.pointerId);
  if (d.mode === 'draw') {
    const end = pointerShare(ev);
    const r = normalise(d.start, end);
    if (r.width * state.disp.w >= MIN_DRAG_PX && r.height * state.disp.h >= MIN_DRAG_PX && ev.type === 'pointerup') {
      pushUndo(snapshot());
      const box = { id: state.nextBoxId++, ...r, type: state.defaultType };
      state.boxes.push(box);
      state.selected = box.id;
      if (state.verdict !== 'ANOMALOUS') setVerdict('ANOMALOUS');
    }
    afterBoxesChanged();
    return;
  }
  const box = findBox(d.id);
  if (d.moved && box) {
    if (box.width * state.disp.w < 2 || box.height * state.disp.h < 2) Object.assign(box, d.orig);
    pushUndo(d.before);
  }
  afterBoxesChanged();
}
