// @ts-check
// Signing in with a reviewer's API key (kept in sessionStorage for this tab only), signing out, the
// header's progress figures, and errors, which sign the page out when the key stops working.

import { M_RELEASE, Q_SIGN_IN, Q_STATS, describeError, errorCode, gql } from './api.js';
import { resetEdits } from './boxes.js';
import { fillTypes } from './controls.js';
import { el, setStatus } from './dom.js';
import { KEY_STORAGE, TYPE_STORAGE, state } from './state.js';

/** @typedef {import('./types.js').ReviewStats} ReviewStats */
/** @typedef {import('./types.js').SignInData} SignInData */

/**
 * Checks the key and opens the workspace; false, with the reason shown, when the key will not do.
 * The caller claims the first task.
 * @param {string} key
 * @param {{ silent?: boolean }} [options]  silent: the key came from sessionStorage, forget it if refused
 * @returns {Promise<boolean>}
 */
export async function signIn(key, { silent = false } = {}) {
  el.signinError.hidden = true;
  /** @type {SignInData} */
  let data;
  try {
    data = await gql(Q_SIGN_IN, {}, key);
  } catch (err) {
    const msg =
      errorCode(err) === 'UNAUTHENTICATED'
        ? `That key was not accepted: ${describeError(err)}`
        : `Could not sign in: ${describeError(err)}`;
    if (silent) sessionStorage.removeItem(KEY_STORAGE);
    showSignInError(msg);
    return false;
  }
  if (data.viewer.role !== 'REVIEWER' && data.viewer.role !== 'ADMIN') {
    showSignInError(`This is a ${data.viewer.role} key; reviewing needs a REVIEWER (or ADMIN) key.`);
    sessionStorage.removeItem(KEY_STORAGE);
    return false;
  }
  state.key = key;
  state.session += 1;
  state.settings = data.reviewSettings;
  state.skipped = [];
  sessionStorage.setItem(KEY_STORAGE, key);
  el.apiKey.value = '';
  el.viewerName.textContent = `${data.viewer.name} (${data.viewer.role})`;
  fillTypes(data.reviewSettings.anomalyTypes);
  showStats(data.reviewStats);
  el.signin.hidden = true;
  el.workspace.hidden = false;
  el.progress.hidden = false;
  el.who.hidden = false;
  setStatus(
    data.reviewSettings.humanReview && data.reviewSettings.humanReview !== 'builtin'
      ? `Signed in. Note: human review is set to "${data.reviewSettings.humanReview}".`
      : 'Signed in.',
    'ok',
  );
  el.empty.hidden = true;
  el.frame.hidden = true;
  return true;
}

/** @param {string} msg */
function showSignInError(msg) {
  el.signinError.textContent = msg;
  el.signinError.hidden = false;
  el.signin.hidden = false;
  el.workspace.hidden = true;
}

/**
 * Forgets the key and the task and shows the sign-in form, with `message` as the reason if given.
 * @param {string} [message]
 */
export function signOutLocally(message) {
  state.session += 1;
  clearTimeout(state.pollTimer);
  state.key = null;
  state.task = null;
  state.busy = false;
  state.claiming = false;
  sessionStorage.removeItem(KEY_STORAGE);
  sessionStorage.removeItem(TYPE_STORAGE);
  resetEdits();
  el.image.removeAttribute('src');
  el.workspace.hidden = true;
  el.progress.hidden = true;
  el.who.hidden = true;
  el.signin.hidden = false;
  if (message) showSignInError(message);
  else el.signinError.hidden = true;
  setStatus('Signed out.', message ? 'error' : 'info');
  el.apiKey.focus();
}

/** Signs out and gives the task back, if one was held (else its lease runs out by itself). */
export async function signOut() {
  const task = state.task;
  const key = state.key;
  signOutLocally();
  if (task && key) {
    try {
      await gql(M_RELEASE, { taskId: task.id }, key);
    } catch {
      // The lease runs out by itself.
    }
  }
}

/**
 * Shows an error in the status line; a refused key signs the page out instead.
 * @param {unknown} err
 * @param {string} [prefix]
 */
export function showError(err, prefix) {
  if (errorCode(err) === 'UNAUTHENTICATED' && state.key) {
    signOutLocally(`Your key was refused: ${describeError(err)}`);
    return;
  }
  setStatus(`${prefix ? `${prefix}: ` : ''}${describeError(err)}`, 'error');
}

/** @param {ReviewStats} stats */
function showStats(stats) {
  el.doneToday.textContent = String(stats.mineToday);
  el.queueSize.textContent = String(stats.pending);
}

/** Reloads "Done today" and "Waiting". */
export async function refreshStats() {
  const session = state.session;
  try {
    /** @type {{ reviewStats: ReviewStats }} */
    const data = await gql(Q_STATS, {}, state.key);
    if (session === state.session) showStats(data.reviewStats);
  } catch (err) {
    if (session === state.session) showError(err, 'Could not load progress');
  }
}
