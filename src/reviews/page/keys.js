// @ts-check
// Keyboard shortcuts (the legend in index.html), off while the reviewer types in a field.

import { deleteBox, selectBox, setBoxType, setVerdict, undo } from './boxes.js';
import { setDefaultType } from './controls.js';
import { el } from './dom.js';
import { renderOverlay } from './overlay.js';
import { state } from './state.js';
import { skip, submit } from './task.js';

/**
 * Whether keys pressed there are text for a field rather than shortcuts.
 * @param {EventTarget | null} target
 */
function isTyping(target) {
  if (!(target instanceof Element)) return false;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT' || (target instanceof HTMLElement && target.isContentEditable)) return true;
  if (target instanceof HTMLInputElement) return !['checkbox', 'radio', 'button', 'submit'].includes(target.type);
  return false;
}

/**
 * Flips a model toggle (heatmap or model boxes) unless there is nothing to show.
 * @param {HTMLInputElement} toggle
 */
function flip(toggle) {
  if (toggle.disabled) return;
  toggle.checked = !toggle.checked;
  renderOverlay();
}

/**
 * A digit 1–9 sets the type of the selected box, or with none selected the type for new boxes.
 * @param {string} key
 * @returns {boolean} whether the key was such a digit
 */
function typeKey(key) {
  const n = /^[1-9]$/.test(key) ? Number(key) : 0;
  const type = n && state.settings?.anomalyTypes[n - 1];
  if (!type) return false;
  if (state.selected != null) setBoxType(state.selected, type);
  else setDefaultType(type);
  return true;
}

/** @param {KeyboardEvent} ev */
export function onKeyDown(ev) {
  if (!state.key || el.workspace.hidden) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(ev.target)) return;
  const key = ev.key;
  switch (key) {
    case 'n':
    case 'N':
      setVerdict('NORMAL');
      break;
    case 'a':
    case 'A':
      setVerdict('ANOMALOUS');
      break;
    case 's':
    case 'S':
      skip();
      break;
    case 'z':
    case 'Z':
      undo();
      break;
    case 'Enter':
      submit();
      break;
    case 'Delete':
    case 'Backspace':
      if (state.selected != null) deleteBox(state.selected);
      break;
    case 'Escape':
      state.drag = null;
      selectBox(null);
      break;
    case 'h':
    case 'H':
      flip(el.toggleHeatmap);
      break;
    case 'm':
    case 'M':
      flip(el.toggleModelBoxes);
      break;
    default:
      if (!typeKey(key)) return;
  }
  ev.preventDefault();
}
