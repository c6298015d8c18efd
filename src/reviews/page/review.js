'use strict';

(() => {
  const KEY_STORAGE = 'vigil.review.apiKey';
  const TYPE_STORAGE = 'vigil.review.defaultType';
  const POLL_MS = 4000;
  const MIN_DRAG_PX = 5;
  const HANDLE_PX = 9;
  const PAD_PX = 12;
  const UNDO_LIMIT = 200;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const REASONS = {
    COLD_START: 'Cold start (no model yet)',
    LOW_CONFIDENCE: 'Model unsure',
    SAMPLED_QA: 'Quality sample',
    ACTIVE_LEARNING: 'Model nearly decided otherwise',
  };

  const TASK_FIELDS = `id reason status uncertainty deviceType imageUrl imageWidth imageHeight claimedUntil
    modelOutput { detector modelVersion isAnomalous confidence
      regions { type confidence box { left top width height } }
      heatmaps { url frame { left top width height } } }`;
  const Q_SIGN_IN = `query ReviewSignIn { viewer { name role } reviewSettings { anomalyTypes leaseSeconds requiredAnswers humanReview } reviewStats { pending mineToday } }`;
  const Q_STATS = `query ReviewStats { reviewStats { pending mineToday } }`;
  const M_CLAIM = `mutation ClaimNextReview($skip: [ID!]) { claimNextReview(skip: $skip) { ${TASK_FIELDS} } }`;
  const M_SUBMIT = `mutation SubmitReview($taskId: ID!, $verdict: ReviewVerdict!, $regions: [ReviewRegionInput!], $comment: String) {
    submitReview(taskId: $taskId, verdict: $verdict, regions: $regions, comment: $comment) { id status } }`;
  const M_RELEASE = `mutation ReleaseReview($taskId: ID!) { releaseReview(taskId: $taskId) { id status } }`;

  const $ = (id) => document.getElementById(id);
  const el = {
    signin: $('signin'), signinForm: $('signin-form'), apiKey: $('api-key'), signinError: $('signin-error'),
    workspace: $('workspace'), progress: $('progress'), doneToday: $('done-today'), queueSize: $('queue-size'),
    who: $('who'), viewerName: $('viewer-name'), signout: $('signout'),
    stage: $('stage'), frame: $('frame'), image: $('task-image'), overlay: $('overlay'),
    empty: $('empty'), emptyDetail: $('empty-detail'), unskip: $('unskip'),
    reason: $('task-reason'), deviceType: $('task-device-type'), uncertainty: $('task-uncertainty'),
    confidence: $('task-confidence'), lease: $('task-lease'), taskId: $('task-id'),
    normal: $('verdict-normal'), anomalous: $('verdict-anomalous'),
    toggleHeatmap: $('toggle-heatmap'), toggleModelBoxes: $('toggle-model-boxes'),
    defaultType: $('default-type'), boxList: $('box-list'), boxCount: $('box-count'), boxNote: $('box-note'), boxEmpty: $('box-empty'),
    comment: $('comment'), submit: $('submit'), skip: $('skip'), undo: $('undo'), status: $('status'),
  };

  const state = {
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
    pollTimer: null,
    drag: null,
    nextBoxId: 1,
    disp: { w: 0, h: 0 },
  };

  // ---------- API ----------

  class ApiError extends Error {
    constructor(message, code) {
      super(message);
      this.code = code || null;
    }
  }

  async function gql(query, variables, key = state.key) {
    let res;
    try {
      res = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      });
    } catch (err) {
      throw new ApiError(`the server could not be reached (${err.message})`, 'NETWORK_ERROR');
    }
    let body;
    try {
      body = await res.json();
    } catch {
      throw new ApiError(`HTTP ${res.status} ${res.statusText}`, `HTTP_${res.status}`);
    }
    if (body.errors && body.errors.length) {
      const first = body.errors[0];
      throw new ApiError(first.message, first.extensions && first.extensions.code);
    }
    if (!res.ok) throw new ApiError(`HTTP ${res.status} ${res.statusText}`, `HTTP_${res.status}`);
    return body.data;
  }

  const describeError = (err) => (err && err.code ? `${err.message} [${err.code}]` : String((err && err.message) || err));

  function setStatus(text, kind = 'info') {
    el.status.textContent = text;
    el.status.title = text;
    el.status.className = `status ${kind}`;
    el.status.dataset.kind = kind;
  }

  function showError(err, prefix) {
    if (err && err.code === 'UNAUTHENTICATED' && state.key) {
      signOutLocally(`Your key was refused: ${describeError(err)}`);
      return;
    }
    setStatus(`${prefix ? `${prefix}: ` : ''}${describeError(err)}`, 'error');
  }

  // ---------- sign in / out ----------

  async function signIn(key, { silent = false } = {}) {
    el.signinError.hidden = true;
    let data;
    try {
      data = await gql(Q_SIGN_IN, {}, key);
    } catch (err) {
      const msg = err.code === 'UNAUTHENTICATED' ? `That key was not accepted: ${describeError(err)}` : `Could not sign in: ${describeError(err)}`;
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
    fillTypes();
    showStats(data.reviewStats);
    el.signin.hidden = true;
    el.workspace.hidden = false;
    el.progress.hidden = false;
    el.who.hidden = false;
    setStatus(data.reviewSettings.humanReview && data.reviewSettings.humanReview !== 'builtin'
      ? `Signed in. Note: human review is set to "${data.reviewSettings.humanReview}".`
      : 'Signed in.', 'ok');
    el.empty.hidden = true;
    el.frame.hidden = true;
    await claimNext();
    return true;
  }

  function showSignInError(msg) {
    el.signinError.textContent = msg;
    el.signinError.hidden = false;
    el.signin.hidden = false;
    el.workspace.hidden = true;
  }

  function signOutLocally(message) {
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

  async function signOut() {
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

  // ---------- stats ----------

  function showStats(stats) {
    el.doneToday.textContent = String(stats.mineToday);
    el.queueSize.textContent = String(stats.pending);
  }

  async function refreshStats() {
    const session = state.session;
    try {
      const data = await gql(Q_STATS);
      if (session === state.session) showStats(data.reviewStats);
    } catch (err) {
      if (session === state.session) showError(err, 'Could not load progress');
    }
  }

  // ---------- queue ----------

  async function claimNext() {
    if (!state.key || state.claiming) return;
    clearTimeout(state.pollTimer);
    const session = state.session;
    state.claiming = true;
    updateControls();
    let task = null;
    let failed = false;
    try {
      task = (await gql(M_CLAIM, { skip: state.skipped })).claimNextReview;
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

  async function skip() {
    if (!state.task || state.busy) return;
    const id = state.task.id;
    state.busy = true;
    updateControls();
    const session = state.session;
    let note = 'Skipped.';
    try {
      await gql(M_RELEASE, { taskId: id });
    } catch (err) {
      if (err.code === 'UNAUTHENTICATED') return showError(err);
      note = `Skipped (release failed: ${describeError(err)}).`;
    }
    if (session !== state.session) return;
    if (!state.skipped.includes(id)) state.skipped.push(id);
    state.busy = false;
    state.task = null;
    setStatus(note, note === 'Skipped.' ? 'info' : 'error');
    await claimNext();
  }

  // vigil signs /objects/<token> links with its configured address; the page may be reached under another
  // name (localhost, a proxy), and the CSP allows this origin only.
  function sameOrigin(url) {
    try {
      const u = new URL(url, location.href);
      if (u.origin !== location.origin && /^\/objects\/[^/]+$/.test(u.pathname) && !u.search) return u.pathname;
      return u.href;
    } catch {
      return url;
    }
  }

  function clamp01(v) {
    return Math.min(1, Math.max(0, v));
  }

  function regionsToSend() {
    const q = (v) => Math.round(v * 1e6) / 1e6;
    const out = [];
    for (const b of state.boxes) {
      const left = q(clamp01(b.left));
      const top = q(clamp01(b.top));
      let width = q(clamp01(b.left + b.width)) - left;
      let height = q(clamp01(b.top + b.height)) - top;
      width = Math.min(q(width), 1 - left);
      height = Math.min(q(height), 1 - top);
      while (left + width > 1) width -= Number.EPSILON;
      while (top + height > 1) height -= Number.EPSILON;
      if (!(width > 1e-6) || !(height > 1e-6)) continue;
      out.push({ box: { left, top, width, height }, type: b.type });
    }
    return out;
  }

  async function submit() {
    if (!state.task || state.busy) return;
    if (!state.verdict) {
      setStatus('Choose Normal (N) or Anomalous (A) first.', 'error');
      return;
    }
    const verdict = state.verdict;
    const regions = verdict === 'ANOMALOUS' ? regionsToSend() : [];
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
      await gql(M_SUBMIT, { taskId: state.task.id, verdict, regions, comment });
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

  // ---------- task display ----------

  function resetEdits() {
    state.verdict = null;
    state.boxes = [];
    state.selected = null;
    state.undo = [];
    state.drag = null;
    el.comment.value = '';
    updateVerdict();
    renderBoxList();
  }

  function showTask(task) {
    state.task = task;
    resetEdits();
    el.empty.hidden = !!task || !state.key;
    el.frame.hidden = !task;
    if (!task) {
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
      return;
    }
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

  function updateLease() {
    const task = state.task;
    if (!task || !task.claimedUntil) {
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

  function updateModelToggles() {
    const m = state.task && state.task.modelOutput;
    const hasHeat = !!(m && m.heatmaps.length);
    const hasBoxes = !!(m && m.regions.length);
    el.toggleHeatmap.disabled = !hasHeat;
    el.toggleModelBoxes.disabled = !hasBoxes;
    el.toggleHeatmap.parentElement.classList.toggle('off', !hasHeat);
    el.toggleModelBoxes.parentElement.classList.toggle('off', !hasBoxes);
    el.toggleHeatmap.parentElement.title = hasHeat ? '' : 'No heatmap for this photo';
    el.toggleModelBoxes.parentElement.title = hasBoxes ? '' : 'The model drew no boxes';
  }

  function updateControls() {
    const has = !!state.task;
    const idle = !state.busy && !state.claiming;
    el.submit.disabled = !has || !idle;
    el.skip.disabled = !has || !idle;
    el.undo.disabled = !has || state.undo.length === 0;
    el.normal.disabled = el.anomalous.disabled = !has;
    el.comment.disabled = !has;
  }

  function updateVerdict() {
    el.normal.setAttribute('aria-pressed', String(state.verdict === 'NORMAL'));
    el.anomalous.setAttribute('aria-pressed', String(state.verdict === 'ANOMALOUS'));
    el.boxNote.hidden = !(state.verdict === 'NORMAL' && state.boxes.length);
  }

  function setVerdict(verdict) {
    if (!state.task) return;
    state.verdict = verdict;
    updateVerdict();
    renderOverlay();
  }

  // ---------- anomaly types ----------

  function fillTypes() {
    const types = state.settings.anomalyTypes;
    const remembered = sessionStorage.getItem(TYPE_STORAGE);
    state.defaultType = types.includes(remembered) ? remembered : types[0] || null;
    el.defaultType.replaceChildren(...types.map((t) => new Option(t, t)));
    if (state.defaultType) el.defaultType.value = state.defaultType;
    el.defaultType.disabled = types.length === 0;
  }

  function setDefaultType(type) {
    if (!type) return;
    state.defaultType = type;
    el.defaultType.value = type;
    sessionStorage.setItem(TYPE_STORAGE, type);
  }

  // ---------- boxes and undo ----------

  const snapshot = () => state.boxes.map((b) => ({ ...b }));

  function pushUndo(boxes) {
    state.undo.push(boxes);
    if (state.undo.length > UNDO_LIMIT) state.undo.shift();
    updateControls();
  }

  function undo() {
    if (!state.task || state.busy || !state.undo.length) return;
    state.boxes = state.undo.pop();
    if (!state.boxes.some((b) => b.id === state.selected)) state.selected = null;
    state.drag = null;
    afterBoxesChanged();
    setStatus('Undone.');
  }

  function afterBoxesChanged() {
    updateVerdict();
    renderBoxList();
    renderOverlay();
    updateControls();
  }

  function findBox(id) {
    return state.boxes.find((b) => b.id === id) || null;
  }

  function deleteBox(id) {
    if (!findBox(id) || state.busy) return;
    pushUndo(snapshot());
    state.boxes = state.boxes.filter((b) => b.id !== id);
    if (state.selected === id) state.selected = null;
    afterBoxesChanged();
  }

  function setBoxType(id, type) {
    const box = findBox(id);
    if (!box || box.type === type) return;
    pushUndo(snapshot());
    box.type = type;
    setDefaultType(type);
    afterBoxesChanged();
  }

  function selectBox(id) {
    state.selected = id;
    renderBoxList();
    renderOverlay();
  }

  function renderBoxList() {
    const types = state.settings ? state.settings.anomalyTypes : [];
    const rows = state.boxes.map((box, i) => {
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
    });
    el.boxList.replaceChildren(...rows);
    el.boxCount.textContent = String(state.boxes.length);
    el.boxEmpty.hidden = state.boxes.length > 0;
  }

  // ---------- layout and drawing ----------

  function layout() {
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

  function svg(tag, attrs, parent) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'text') node.textContent = v;
      else if (k.startsWith('data-')) node.dataset[k.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = v;
      else node.setAttribute(k, String(v));
    }
    if (parent) parent.append(node);
    return node;
  }

  function label(parent, x, y, text, cls) {
    const ty = y > 16 ? y - 5 : y + 14;
    const node = svg('text', { x: x + 2, y: ty, class: cls, text }, parent);
    const overflow = x + 2 + node.getComputedTextLength() - state.disp.w;
    if (overflow > 0) node.setAttribute('x', String(Math.max(0, x + 2 - overflow - 2)));
  }

  function renderOverlay() {
    const root = el.overlay;
    root.replaceChildren();
    const task = state.task;
    if (!task) return;
    const { w, h } = state.disp;
    if (!w || !h) return;
    const px = (b) => ({ x: b.left * w, y: b.top * h, w: b.width * w, h: b.height * h });
    svg('rect', { x: 0, y: 0, width: w, height: h, fill: 'transparent', 'data-role': 'canvas' }, root);

    const m = task.modelOutput;
    if (m && el.toggleHeatmap.checked) {
      for (const hm of m.heatmaps) {
        const r = px(hm.frame);
        svg('image', { href: sameOrigin(hm.url), x: r.x, y: r.y, width: r.w, height: r.h, preserveAspectRatio: 'none', class: 'heatmap', 'data-testid': 'heatmap' }, root);
      }
    }
    if (m && el.toggleModelBoxes.checked) {
      for (const region of m.regions) {
        const r = px(region.box);
        const g = svg('g', { 'data-testid': 'model-box' }, root);
        svg('rect', { x: r.x, y: r.y, width: r.w, height: r.h, class: 'model-box' }, g);
        const conf = region.confidence == null ? '' : ` ${(region.confidence * 100).toFixed(0)}%`;
        label(g, r.x, r.y, `${region.type}${conf}`, 'model-label');
      }
    }

    const ignored = state.verdict === 'NORMAL';
    state.boxes.forEach((box, i) => {
      const r = px(box);
      const selected = box.id === state.selected;
      const g = svg('g', { 'data-testid': 'user-box', 'data-box': box.id }, root);
      svg('rect', {
        x: r.x, y: r.y, width: Math.max(1, r.w), height: Math.max(1, r.h),
        class: `user-box${selected ? ' selected' : ''}${ignored ? ' ignored' : ''}`,
        'data-role': 'box', 'data-box': box.id,
      }, g);
      label(g, r.x, r.y, `${i + 1} ${box.type || '?'}`, 'user-label');
      if (!selected) return;
      const corners = { nw: [r.x, r.y], ne: [r.x + r.w, r.y], sw: [r.x, r.y + r.h], se: [r.x + r.w, r.y + r.h] };
      for (const [corner, [cx, cy]] of Object.entries(corners)) {
        svg('rect', {
          x: cx - HANDLE_PX / 2, y: cy - HANDLE_PX / 2, width: HANDLE_PX, height: HANDLE_PX,
          class: `handle ${corner}`, 'data-role': 'handle', 'data-corner': corner, 'data-box': box.id,
        }, g);
      }
      const bx = Math.min(w - 10, r.x + r.w + 10);
      const by = Math.max(10, r.y - 10);
      const x = svg('g', { class: 'box-x', 'data-testid': 'box-x' }, g);
      svg('title', { text: 'Delete this box (Delete)' }, x);
      svg('circle', { cx: bx, cy: by, r: 9, 'data-role': 'delete', 'data-box': box.id }, x);
      svg('text', { x: bx, y: by + 5, 'text-anchor': 'middle', text: '×' }, x);
    });

    const d = state.drag;
    if (d && d.mode === 'draw' && d.cur) {
      const r = px(normalise(d.start, d.cur));
      svg('rect', { x: r.x, y: r.y, width: r.w, height: r.h, class: 'draft' }, root);
    }
  }

  function normalise(a, b) {
    const left = Math.min(a.x, b.x);
    const top = Math.min(a.y, b.y);
    return { left, top, width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) };
  }

  function pointerShare(ev) {
    const rect = el.overlay.getBoundingClientRect();
    return {
      x: clamp01((ev.clientX - rect.left) / rect.width),
      y: clamp01((ev.clientY - rect.top) / rect.height),
    };
  }

  function onPointerDown(ev) {
    if (!state.task || state.busy || ev.button !== 0) return;
    const target = ev.target.closest('[data-role]');
    const role = target ? target.dataset.role : 'canvas';
    const id = target && target.dataset.box ? Number(target.dataset.box) : null;
    const p = pointerShare(ev);
    ev.preventDefault();
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    if (role === 'delete') {
      deleteBox(id);
      return;
    }
    if (role === 'handle' || role === 'box') {
      const box = findBox(id);
      if (!box) return;
      state.selected = id;
      state.drag = { mode: role === 'handle' ? 'resize' : 'move', id, corner: target.dataset.corner, start: p, orig: { ...box }, before: snapshot(), moved: false };
      renderBoxList();
    } else {
      if (!state.settings.anomalyTypes.length) {
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

  function onPointerMove(ev) {
    const d = state.drag;
    if (!d) return;
    const p = pointerShare(ev);
    if (d.mode === 'draw') {
      d.cur = p;
    } else {
      const box = findBox(d.id);
      if (!box) return;
      const o = d.orig;
      const dx = p.x - d.start.x;
      const dy = p.y - d.start.y;
      if (d.mode === 'move') {
        box.left = Math.min(1 - o.width, Math.max(0, o.left + dx));
        box.top = Math.min(1 - o.height, Math.max(0, o.top + dy));
      } else {
        let l = o.left, t = o.top, r = o.left + o.width, b = o.top + o.height;
        if (d.corner.includes('w')) l = p.x; else r = p.x;
        if (d.corner.includes('n')) t = p.y; else b = p.y;
        Object.assign(box, normalise({ x: l, y: t }, { x: r, y: b }));
      }
      d.moved = d.moved || dx !== 0 || dy !== 0;
    }
    renderOverlay();
  }

  function onPointerUp(ev) {
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

  // ---------- keyboard ----------

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    const tag = target.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable) return true;
    if (tag === 'INPUT') return !['checkbox', 'radio', 'button', 'submit'].includes(target.type);
    return false;
  }

  function onKeyDown(ev) {
    if (!state.key || el.workspace.hidden) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(ev.target)) return;
    const key = ev.key;
    switch (key) {
      case 'n': case 'N': setVerdict('NORMAL'); break;
      case 'a': case 'A': setVerdict('ANOMALOUS'); break;
      case 's': case 'S': skip(); break;
      case 'z': case 'Z': undo(); break;
      case 'Enter': submit(); break;
      case 'Delete': case 'Backspace':
        if (state.selected != null) deleteBox(state.selected);
        break;
      case 'Escape':
        state.drag = null;
        selectBox(null);
        break;
      case 'h': case 'H':
        if (!el.toggleHeatmap.disabled) { el.toggleHeatmap.checked = !el.toggleHeatmap.checked; renderOverlay(); }
        break;
      case 'm': case 'M':
        if (!el.toggleModelBoxes.disabled) { el.toggleModelBoxes.checked = !el.toggleModelBoxes.checked; renderOverlay(); }
        break;
      default: {
        const n = /^[1-9]$/.test(key) ? Number(key) : 0;
        const type = n && state.settings && state.settings.anomalyTypes[n - 1];
        if (!type) return;
        if (state.selected != null) setBoxType(state.selected, type);
        else setDefaultType(type);
      }
    }
    ev.preventDefault();
  }

  // ---------- wiring ----------

  el.signinForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = el.apiKey.value.trim();
    if (key) signIn(key);
  });
  el.signout.addEventListener('click', () => signOut());
  el.normal.addEventListener('click', () => setVerdict('NORMAL'));
  el.anomalous.addEventListener('click', () => setVerdict('ANOMALOUS'));
  el.submit.addEventListener('click', () => submit());
  el.skip.addEventListener('click', () => skip());
  el.undo.addEventListener('click', () => undo());
  el.unskip.addEventListener('click', () => {
    state.skipped = [];
    el.unskip.hidden = true;
    claimNext();
  });
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
    if (!state.task || !state.key) return;
    fetch('/graphql', {
      method: 'POST',
      keepalive: true,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${state.key}` },
      body: JSON.stringify({ query: M_RELEASE, variables: { taskId: state.task.id } }),
    }).catch(() => {});
  });

  renderBoxList();
  updateControls();
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) signIn(saved, { silent: true });
  else el.apiKey.focus();
})();
