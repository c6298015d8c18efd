// @ts-check
// The task under review: claiming the next one (and polling while none is waiting), showing it,
// skipping it and submitting the answer.

import { M_CLAIM, M_RELEASE, M_SUBMIT, describeError, errorCode, gql, sameOrigin } from './api.js';
import { resetEdits } from './boxes.js';
import { updateControls, updateLease, updateModelToggles } from './controls.js';
import { el, setStatus } from './dom.js';
import { regionsToSend } from './geometry.js';
import { layout } from './overlay.js';
import { refreshStats, showError } from './session.js';
import { POLL_MS, REASONS, state } from './state.js';

/** @typedef {import('./types.js').ReviewTask} ReviewTask */

/** Claims the next task, skipping those skipped in this session; with none, polls every POLL_MS. */
export async function claimNext() {
  if (!state.key || state.claiming) return;
  clearTimeout(state.pollTimer);
  const session = state.session;
  state.claiming = true;
  updateControls();
  /** @type {ReviewTask | null} */
  let task = null;
  let failed = false;
  try {
    /** @type {{ claimNextReview: ReviewTask | null }} */
    const data = await gql(M_CLAIM, { skip: state.skipped }, state.key);
    task = data.claimNextReview;
  } catch (err) {
    failed = true;
    if (session === state.session) showError(err, 'Could not take the next photo');
  }
  if (session !== state.session) return;
  state.claiming = false;
  showTask(task);
  if (!task) schedulePoll();
  if (!failed) await refreshStats();
}

function schedulePoll() {
  clearTimeout(state.pollTimer);
  const session = state.session;
  state.pollTimer = setTimeout(() => {
    if (session === state.session && !state.task) claimNext();
  }, POLL_MS);
}

/** Offers the skipped tasks again. */
export function unskip() {
  state.skipped = [];
  el.unskip.hidden = true;
  claimNext();
}

/** Gives the task back and takes another; it is not offered again in this session. */
export async function skip() {
  if (!state.task || state.busy) return;
  const id = state.task.id;
  state.busy = true;
  updateControls();
  const session = state.session;
  let note = 'Skipped.';
  try {
    await gql(M_RELEASE, { taskId: id }, state.key);
  } catch (err) {
    if (errorCode(err) === 'UNAUTHENTICATED') return showError(err);
    note = `Skipped (release failed: ${describeError(err)}).`;
  }
  if (session !== state.session) return;
  if (!state.skipped.includes(id)) state.skipped.push(id);
  state.busy = false;
  state.task = null;
  setStatus(note, note === 'Skipped.' ? 'info' : 'error');
  await claimNext();
}

/** Sends the verdict, boxes (with Anomalous only) and comment, then takes the next task; a refusal keeps them. */
export async function submit() {
  if (!state.task || state.busy) return;
  if (!state.verdict) {
    setStatus('Choose Normal (N) or Anomalous (A) first.', 'error');
    return;
  }
  const verdict = state.verdict;
  const regions = verdict === 'ANOMALOUS' ? regionsToSend(state.boxes) : [];
  if (regions.some((r) => !r.type)) {
    setStatus('Every box needs an anomaly type.', 'error');
    return;
  }
  const comment = el.comment.value.trim() || null;
  const session = state.session;
  state.busy = true;
  updateControls();
  setStatus('Saving…');
  try {
    await gql(M_SUBMIT, { taskId: state.task.id, verdict, regions, comment }, state.key);
  } catch (err) {
    if (session !== state.session) return;
    state.busy = false;
    updateControls();
    showError(err, 'Not saved, your answer is still here');
    return;
  }
  if (session !== state.session) return;
  state.busy = false;
  state.task = null;
  const boxes = regions.length ? `, ${regions.length} box${regions.length > 1 ? 'es' : ''}` : '';
  setStatus(`Saved: ${verdict.toLowerCase()}${boxes}.`, 'ok');
  await claimNext();
}

/**
 * Shows the task (its photo, facts and the model's output), or "Nothing waiting" for null.
 * @param {ReviewTask | null} task
 */
export function showTask(task) {
  state.task = task;
  resetEdits();
  el.empty.hidden = !!task || !state.key;
  el.frame.hidden = !task;
  if (!task) {
    showNoTask();
    return;
  }
  showFacts(task);
  updateLease();
  updateModelToggles();
  if (task.imageUrl) {
    el.image.src = sameOrigin(task.imageUrl);
  } else {
    el.image.removeAttribute('src');
    setStatus('This task has no image URL; skip it (S).', 'error');
  }
  layout();
  updateControls();
}

function showNoTask() {
  el.image.removeAttribute('src');
  el.overlay.replaceChildren();
  el.reason.textContent = el.deviceType.textContent = el.uncertainty.textContent = el.confidence.textContent = el.lease.textContent = '–';
  el.taskId.textContent = '';
  const n = state.skipped.length;
  el.emptyDetail.textContent = n
    ? `You skipped ${n} photo${n > 1 ? 's' : ''} in this session. Checking again every few seconds…`
    : 'Checking again every few seconds…';
  el.unskip.hidden = n === 0;
  updateModelToggles();
  updateControls();
}

/** @param {ReviewTask} task */
function showFacts(task) {
  el.reason.textContent = REASONS[task.reason] || task.reason;
  el.reason.dataset.reason = task.reason;
  el.reason.title = task.reason;
  el.deviceType.textContent = task.deviceType;
  el.uncertainty.textContent = task.uncertainty.toFixed(2);
  const m = task.modelOutput;
  el.confidence.textContent = m
    ? `${m.isAnomalous ? 'anomalous' : 'normal'}, ${(m.confidence * 100).toFixed(0)}% sure`
    : 'none (no model yet)';
  el.confidence.title = m ? `${m.detector} ${m.modelVersion}` : '';
  el.taskId.textContent = task.id;
  el.taskId.title = task.id;
}
