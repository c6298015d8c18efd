// @ts-check
// The side panel's controls: which are enabled, the verdict buttons, the lease countdown, the model
// toggles and the type new boxes get. They read the state and change nothing but the page.

import { el } from './dom.js';
import { TYPE_STORAGE, state } from './state.js';

/** Enables the buttons that can act now. */
export function updateControls() {
  const has = !!state.task;
  const idle = !state.busy && !state.claiming;
  el.submit.disabled = !has || !idle;
  el.skip.disabled = !has || !idle;
  el.undo.disabled = !has || state.undo.length === 0;
  el.normal.disabled = el.anomalous.disabled = !has;
  el.comment.disabled = !has;
}

/** Shows the chosen verdict, and that boxes are ignored with Normal. */
export function updateVerdict() {
  el.normal.setAttribute('aria-pressed', String(state.verdict === 'NORMAL'));
  el.anomalous.setAttribute('aria-pressed', String(state.verdict === 'ANOMALOUS'));
  el.boxNote.hidden = !(state.verdict === 'NORMAL' && state.boxes.length);
}

/** The time left on the claim, every second. */
export function updateLease() {
  const task = state.task;
  if (!task?.claimedUntil) {
    el.lease.textContent = '–';
    return;
  }
  const left = Math.round((Date.parse(task.claimedUntil) - Date.now()) / 1000);
  if (left <= 0) {
    el.lease.textContent = 'expired; skip (S) for another';
    el.lease.className = 'lease-low';
  } else {
    el.lease.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`;
    el.lease.className = left < 60 ? 'lease-low' : '';
  }
}

/** The heatmap and model-box toggles work only when the model gave either. */
export function updateModelToggles() {
  const m = state.task?.modelOutput;
  const hasHeat = !!m?.heatmaps.length;
  const hasBoxes = !!m?.regions.length;
  el.toggleHeatmap.disabled = !hasHeat;
  el.toggleModelBoxes.disabled = !hasBoxes;
  const heatLabel = /** @type {HTMLElement} */ (el.toggleHeatmap.parentElement);
  const boxesLabel = /** @type {HTMLElement} */ (el.toggleModelBoxes.parentElement);
  heatLabel.classList.toggle('off', !hasHeat);
  boxesLabel.classList.toggle('off', !hasBoxes);
  heatLabel.title = hasHeat ? '' : 'No heatmap for this photo';
  boxesLabel.title = hasBoxes ? '' : 'The model drew no boxes';
}

/**
 * Fills the "type for new boxes" list with the installation's anomaly types; the one picked last in
 * this tab, if still offered, stays picked.
 * @param {string[]} types
 */
export function fillTypes(types) {
  const remembered = sessionStorage.getItem(TYPE_STORAGE);
  state.defaultType = remembered !== null && types.includes(remembered) ? remembered : types[0] || null;
  el.defaultType.replaceChildren(...types.map((t) => new Option(t, t)));
  if (state.defaultType) el.defaultType.value = state.defaultType;
  el.defaultType.disabled = types.length === 0;
}

/**
 * The type new boxes get from now on, remembered for this tab.
 * @param {string | null | undefined} type
 */
export function setDefaultType(type) {
  if (!type) return;
  state.defaultType = type;
  el.defaultType.value = type;
  sessionStorage.setItem(TYPE_STORAGE, type);
}
