// @ts-check
// The reviewer page (/review): wires the modules to the page's controls and starts, signed in again
// with the key kept in this tab if there is one. Loaded by index.html as a module script.

import { releaseOnExit } from './api.js';
import { onPointerDown, onPointerMove, onPointerUp } from './box-editor.js';
import { renderBoxList, setVerdict, undo } from './boxes.js';
import { setDefaultType, updateControls, updateLease } from './controls.js';
import { el, setStatus } from './dom.js';
import { onKeyDown } from './keys.js';
import { layout, renderOverlay } from './overlay.js';
import { signIn, signOut } from './session.js';
import { KEY_STORAGE, state } from './state.js';
import { claimNext, skip, submit, unskip } from './task.js';

/**
 * Signs in and, if the key will do, claims the first task.
 * @param {string} key
 * @param {{ silent?: boolean }} [options]
 */
async function start(key, options) {
  if (await signIn(key, options)) await claimNext();
}

el.signinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const key = el.apiKey.value.trim();
  if (key) start(key);
});
el.signout.addEventListener('click', () => signOut());
el.normal.addEventListener('click', () => setVerdict('NORMAL'));
el.anomalous.addEventListener('click', () => setVerdict('ANOMALOUS'));
el.submit.addEventListener('click', () => submit());
el.skip.addEventListener('click', () => skip());
el.undo.addEventListener('click', () => undo());
el.unskip.addEventListener('click', () => unskip());
el.toggleHeatmap.addEventListener('change', () => renderOverlay());
el.toggleModelBoxes.addEventListener('change', () => renderOverlay());
el.defaultType.addEventListener('change', () => {
  setDefaultType(el.defaultType.value);
  el.defaultType.blur();
});
el.overlay.addEventListener('pointerdown', onPointerDown);
el.overlay.addEventListener('pointermove', onPointerMove);
el.overlay.addEventListener('pointerup', onPointerUp);
el.overlay.addEventListener('pointercancel', onPointerUp);
el.image.addEventListener('load', () => layout());
el.image.addEventListener('error', () => {
  if (state.task && el.image.getAttribute('src')) setStatus('The photo could not be loaded; skip it (S) or try again later.', 'error');
});
document.addEventListener('keydown', onKeyDown);
new ResizeObserver(() => layout()).observe(el.stage);
setInterval(updateLease, 1000);

window.addEventListener('pagehide', () => {
  if (state.task && state.key) releaseOnExit(state.task.id, state.key);
});

renderBoxList();
updateControls();
const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) start(saved, { silent: true });
else el.apiKey.focus();
