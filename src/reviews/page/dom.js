// @ts-check
// The page's elements (index.html), looked up once, and the status line.

/** @typedef {import('./types.js').StatusKind} StatusKind */

/**
 * The element with this id, which must be of this type.
 * @template {Element} T
 * @param {string} id
 * @param {{ new (): T, prototype: T }} type
 * @returns {T}
 */
function byId(id, type) {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`the page has no #${id} of the expected kind`);
  return node;
}

const div = HTMLElement;
const input = HTMLInputElement;
const button = HTMLButtonElement;

export const el = {
  signin: byId('signin', div),
  signinForm: byId('signin-form', HTMLFormElement),
  apiKey: byId('api-key', input),
  signinError: byId('signin-error', div),
  workspace: byId('workspace', div),
  progress: byId('progress', div),
  doneToday: byId('done-today', div),
  queueSize: byId('queue-size', div),
  who: byId('who', div),
  viewerName: byId('viewer-name', div),
  signout: byId('signout', button),
  stage: byId('stage', div),
  frame: byId('frame', div),
  image: byId('task-image', HTMLImageElement),
  overlay: byId('overlay', SVGSVGElement),
  empty: byId('empty', div),
  emptyDetail: byId('empty-detail', div),
  unskip: byId('unskip', button),
  reason: byId('task-reason', div),
  deviceType: byId('task-device-type', div),
  uncertainty: byId('task-uncertainty', div),
  confidence: byId('task-confidence', div),
  lease: byId('task-lease', div),
  taskId: byId('task-id', div),
  normal: byId('verdict-normal', button),
  anomalous: byId('verdict-anomalous', button),
  toggleHeatmap: byId('toggle-heatmap', input),
  toggleModelBoxes: byId('toggle-model-boxes', input),
  defaultType: byId('default-type', HTMLSelectElement),
  boxList: byId('box-list', HTMLOListElement),
  boxCount: byId('box-count', div),
  boxNote: byId('box-note', div),
  boxEmpty: byId('box-empty', div),
  comment: byId('comment', HTMLTextAreaElement),
  submit: byId('submit', button),
  skip: byId('skip', button),
  undo: byId('undo', button),
  status: byId('status', div),
};

/**
 * Shows a line in the status bar at the foot of the page.
 * @param {string} text
 * @param {StatusKind} [kind]
 */
export function setStatus(text, kind = 'info') {
  el.status.textContent = text;
  el.status.title = text;
  el.status.className = `status ${kind}`;
  el.status.dataset.kind = kind;
}
