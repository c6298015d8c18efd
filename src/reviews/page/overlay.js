// @ts-check
// The photo's layout in the stage and the SVG overlay on it: the model's heatmaps and boxes, the
// reviewer's boxes with their handles, and the box being drawn.

import { sameOrigin } from './api.js';
import { el } from './dom.js';
import { normalise } from './geometry.js';
import { HANDLE_PX, PAD_PX, state } from './state.js';

/** @typedef {import('./types.js').Box} Box */
/** @typedef {import('./types.js').ModelOutput} ModelOutput */
/** @typedef {import('./types.js').Rect} Rect */
/** @typedef {{ x: number, y: number, w: number, h: number }} PxRect */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Fits the photo into the stage, centred, and redraws the overlay at that size. */
export function layout() {
  const task = state.task;
  if (!task || el.frame.hidden) return;
  const nw = el.image.naturalWidth || task.imageWidth || 1;
  const nh = el.image.naturalHeight || task.imageHeight || 1;
  const sw = Math.max(1, el.stage.clientWidth - 2 * PAD_PX);
  const sh = Math.max(1, el.stage.clientHeight - 2 * PAD_PX);
  const scale = Math.min(sw / nw, sh / nh);
  const w = Math.max(1, Math.floor(nw * scale));
  const h = Math.max(1, Math.floor(nh * scale));
  el.frame.style.width = `${w}px`;
  el.frame.style.height = `${h}px`;
  el.frame.style.left = `${Math.floor((el.stage.clientWidth - w) / 2)}px`;
  el.frame.style.top = `${Math.floor((el.stage.clientHeight - h) / 2)}px`;
  state.disp = { w, h };
  el.overlay.setAttribute('viewBox', `0 0 ${w} ${h}`);
  renderOverlay();
}

/**
 * An SVG element with these attributes (`text` sets its text, `data-*` its dataset), appended to `parent`.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number>} attrs
 * @param {Element} [parent]
 * @returns {SVGElementTagNameMap[K]}
 */
function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = String(v);
    else if (k.startsWith('data-')) node.dataset[k.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = String(v);
    else node.setAttribute(k, String(v));
  }
  if (parent) parent.append(node);
  return node;
}

/**
 * A label above the top-left corner at (x, y), or below it near the top edge, kept inside the photo.
 * @param {Element} parent
 * @param {number} x
 * @param {number} y
 * @param {string} text
 * @param {string} cls
 */
function label(parent, x, y, text, cls) {
  const ty = y > 16 ? y - 5 : y + 14;
  const node = svg('text', { x: x + 2, y: ty, class: cls, text }, parent);
  const overflow = x + 2 + node.getComputedTextLength() - state.disp.w;
  if (overflow > 0) node.setAttribute('x', String(Math.max(0, x + 2 - overflow - 2)));
}

/**
 * @param {Rect} b
 * @returns {PxRect}
 */
function px(b) {
  const { w, h } = state.disp;
  return { x: b.x * w, y: b.y * h, w: b.width * w, h: b.height * h };
}

/** Redraws everything on the photo from the state. */
export function renderOverlay() {
  const root = el.overlay;
  root.replaceChildren();
  const task = state.task;
  if (!task) return;
  const { w, h } = state.disp;
  if (!w || !h) return;
  svg('rect', { x: 0, y: 0, width: w, height: h, fill: 'transparent', 'data-role': 'canvas' }, root);
  if (task.modelOutput) renderModel(root, task.modelOutput);
  const ignored = state.verdict === 'NORMAL';
  for (const [i, box] of state.boxes.entries()) renderUserBox(root, box, i, ignored);
  const d = state.drag;
  if (d && d.mode === 'draw' && d.cur) {
    const r = px(normalise(d.start, d.cur));
    svg('rect', { x: r.x, y: r.y, width: r.w, height: r.h, class: 'draft' }, root);
  }
}

/**
 * The model's heatmaps and dashed boxes, as far as their toggles are on.
 * @param {SVGSVGElement} root
 * @param {ModelOutput} m
 */
function renderModel(root, m) {
  if (el.toggleHeatmap.checked) {
    for (const hm of m.heatmaps) {
      const r = px(hm.frame);
      svg(
        'image',
        {
          href: sameOrigin(hm.url),
          x: r.x,
          y: r.y,
          width: r.w,
          height: r.h,
          preserveAspectRatio: 'none',
          class: 'heatmap',
          'data-testid': 'heatmap',
        },
        root,
      );
    }
  }
  if (el.toggleModelBoxes.checked) {
    for (const region of m.regions) {
      const r = px(region.box);
      const g = svg('g', { 'data-testid': 'model-box' }, root);
      svg('rect', { x: r.x, y: r.y, width: r.w, height: r.h, class: 'model-box' }, g);
      const conf = region.confidence == null ? '' : ` ${(region.confidence * 100).toFixed(0)}%`;
      label(g, r.x, r.y, `${region.type}${conf}`, 'model-label');
    }
  }
}

/**
 * One of the reviewer's boxes; the selected one with corner handles and a delete button.
 * @param {SVGSVGElement} root
 * @param {Box} box
 * @param {number} i  its place in the list
 * @param {boolean} ignored  the verdict is Normal, so the box will not be sent
 */
function renderUserBox(root, box, i, ignored) {
  const { w } = state.disp;
  const r = px(box);
  const selected = box.id === state.selected;
  const g = svg('g', { 'data-testid': 'user-box', 'data-box': box.id }, root);
  svg(
    'rect',
    {
      x: r.x,
      y: r.y,
      width: Math.max(1, r.w),
      height: Math.max(1, r.h),
      class: `user-box${selected ? ' selected' : ''}${ignored ? ' ignored' : ''}`,
      'data-role': 'box',
      'data-box': box.id,
    },
    g,
  );
  label(g, r.x, r.y, `${i + 1} ${box.type || '?'}`, 'user-label');
  if (!selected) return;
  /** @type {Record<string, [number, number]>} */
  const corners = { nw: [r.x, r.y], ne: [r.x + r.w, r.y], sw: [r.x, r.y + r.h], se: [r.x + r.w, r.y + r.h] };
  for (const [corner, [cx, cy]] of Object.entries(corners)) {
    svg(
      'rect',
      {
        x: cx - HANDLE_PX / 2,
        y: cy - HANDLE_PX / 2,
        width: HANDLE_PX,
        height: HANDLE_PX,
        class: `handle ${corner}`,
        'data-role': 'handle',
        'data-corner': corner,
        'data-box': box.id,
      },
      g,
    );
  }
  const bx = Math.min(w - 10, r.x + r.w + 10);
  const by = Math.max(10, r.y - 10);
  const x = svg('g', { class: 'box-x', 'data-testid': 'box-x' }, g);
  svg('title', { text: 'Delete this box (Delete)' }, x);
  svg('circle', { cx: bx, cy: by, r: 9, 'data-role': 'delete', 'data-box': box.id }, x);
  svg('text', { x: bx, y: by + 5, 'text-anchor': 'middle', text: '×' }, x);
}
