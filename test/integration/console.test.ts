import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/common/paths';
import { CONSOLE_PAGE_CSP, consoleFiles, registerConsolePage } from '../../src/console/console-page';
import { ok, startTestApp, type TestApp } from '../support/app';
import { BROWSER_MISSING, launchBrowser, type LaunchedBrowser } from '../support/browser';
import { axeViolations, crackedDevice, deployedModel, flownSurvey, importFleet, judgedInspection } from '../support/console';
import { newKey } from '../support/reviews';

// The operator console in a real Chromium against the real app (PGlite, real workflow runs and reviews): every view shows
// data made through the API, live events arrive without a reload, a work order goes from the queue to DONE, a REVIEWER sees
// no fleet, nothing leaves the origin, no CSP violation, no console error, and axe finds nothing serious.

jest.setTimeout(240_000);
const FLEET = 24;
const SHOTS = path.join(PROJECT_ROOT, 'test-results/console');
const sel = (testid: string) => `[data-testid="${testid}"]`;

let t: TestApp;
let importRoot: string;
let reviewer: string;
let cracked: { id: string; type: string; inspectionId: string };
let second: { id: string; type: string; inspectionId: string };
let models: { id: string; version: string }[];
/** The device whose pictures the deployed models judged (heatmaps), and a survey with images that found no device. */
let judged: { deviceId: string; inspectionId: string };
let survey: Awaited<ReturnType<typeof flownSurvey>>;
/** Every device, and those with an open defect (the riskiest, at the top of the fleet list). */
let total: number;
let withDefects: string[];

beforeAll(async () => {
  importRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-console-'));
  t = await startTestApp({ IMPORT_ROOT: importRoot });
  reviewer = await newKey(t, 'REVIEWER');
  await importFleet(t, FLEET);
  cracked = await crackedDevice(t, reviewer, 4);
  second = await crackedDevice(t, reviewer, 2, 'MEDIUM');
  models = await deployedModel(t, importRoot, 'pole');
  judged = await judgedInspection(t, 'pole');
  survey = await flownSurvey(t, 'flight over Utrecht');
  total = ok(await t.gql('{ devices { totalCount } }')).devices.totalCount;
  const open = ok(await t.gql('{ defects(first: 100, filter: { status: [OPEN] }) { nodes { device { id } } } }')).defects.nodes;
  withDefects = [...new Set<string>(open.map((d: { device: { id: string } }) => d.device.id))];
}, 200_000);

afterAll(async () => {
  await t?.stop();
  fs.rmSync(importRoot, { recursive: true, force: true });
});

describe('the console is served by vigil itself', () => {
  it('serves the page and every built file with no-cache, nosniff, an etag and a strict CSP', async () => {
    const files = consoleFiles();
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['/console', '/console/index.html']));
    expect(Object.keys(files).some((u) => /^\/console\/assets\/index-.*\.js$/.test(u))).toBe(true);
    for (const urlPath of Object.keys(files)) {
      const res = await fetch(`${t.app.url}${urlPath}`);
      expect([urlPath, res.status]).toEqual([urlPath, 200]);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_PAGE_CSP);
      expect(CONSOLE_PAGE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      const again = await fetch(`${t.app.url}${urlPath}`, { headers: { 'if-none-match': res.headers.get('etag')! } });
      expect(again.status).toBe(304);
    }
    const html = await (await fetch(`${t.app.url}/console`)).text();
    expect(html).not.toMatch(/<script>|<style|\sstyle=|https?:\/\//);
  });

  it('answers 503 with "run npm run build" and logs why when the build is missing, instead of failing to start', async () => {
    const Fastify = (await import('fastify')).default;
    const app = Fastify();
    const lines: string[] = [];
    const log = { error: (_o: unknown, msg: string) => lines.push(msg) } as never;
    registerConsolePage(app, log, { dir: path.join(importRoot, 'no-build-here') });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${url}/console`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build');
    expect(lines.join('\n')).toMatch(/not built.*npm run build/);
    await app.close();
  });
});

if (BROWSER_MISSING) console.warn(`console browser tests skipped: ${BROWSER_MISSING}`);
if (BROWSER_MISSING && process.env.CI) throw new Error(`CI must run the console in a browser: ${BROWSER_MISSING}`);
const browserIt = BROWSER_MISSING ? it.skip : it;

describe('the console in Chromium', () => {
  let browser: LaunchedBrowser;
  let page: Page;
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  const cspViolations: string[] = [];

  beforeAll(async () => {
    if (BROWSER_MISSING) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    browser = await launchBrowser();
    await browser.context.grantPermissions(['geolocation'], { origin: t.app.url });
    await browser.context.setGeolocation({ latitude: 52.0, longitude: 5.0 });
    browser.context.on('request', (r) => requests.push(r.url()));
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
      else if (m.type() === 'error') consoleErrors.push(m.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  const text = async (testid: string) => ((await page.textContent(sel(testid))) ?? '').trim();
  const rowOf = (id: string) => `${sel('device-row')}[data-id="${id}"]`;

  async function signIn(key: string) {
    await page.goto(`${t.app.url}/console`);
    await page.fill(sel('api-key'), key);
    await page.click(sel('signin-button'));
    await page.waitForSelector(sel('who'));
  }

  browserIt(
    'refuses a wrong key, then signs an ADMIN in to the fleet: every device on the list and the map, coloured by severity',
    async () => {
      await page.goto(`${t.app.url}/console`);
      await page.fill(sel('api-key'), 'vgl_not-a-key-0123456789abcdefghijkl');
      await page.click(sel('signin-button'));
      expect(await (await page.waitForSelector(sel('signin-error'))).textContent()).toMatch(/not accepted.*UNAUTHENTICATED/);

      await signIn(await t.keyFor('ADMIN'));
      await page.waitForSelector(`${sel('device-list')}[data-state="ready"]`);
      expect(total).toBeGreaterThanOrEqual(FLEET + 3);
      expect(withDefects).toEqual(expect.arrayContaining([cracked.id, second.id]));
      expect(await text('device-count')).toBe(`${total} devices`);
      // The riskiest first: the devices with open defects head the list, with their severity.
      const first = await page.$$eval(
        sel('device-row'),
        (rows, n) => rows.slice(0, n).map((r) => r.getAttribute('data-id')),
        withDefects.length,
      );
      expect(new Set(first)).toEqual(new Set(withDefects));
      expect(await page.textContent(`${rowOf(cracked.id)} .badge[class*="sev-"]`)).toMatch(/low|medium|high|critical/);
      expect(await page.$$eval(`${sel('fleet-map')} canvas`, (c) => c.length)).toBeGreaterThan(0);
    },
  );

  browserIt('filters by text, type, severity and "near here", and walks the list with the arrow keys', async () => {
    const untilCount = (n: number) =>
      page.waitForFunction(
        (want) => (globalThis as any).document.querySelector('[data-testid="device-count"]').textContent === `${want} devices`,
        n,
      );
    await page.fill(sel('filter-text'), 'Pole 01');
    await untilCount(10);
    await page.fill(sel('filter-text'), '');
    await page.selectOption(sel('filter-type'), cracked.type);
    await untilCount(1);
    await page.selectOption(sel('filter-type'), '');
    await page.selectOption(sel('filter-severity'), 'LOW');
    await untilCount(withDefects.length);
    await page.selectOption(sel('filter-severity'), '');
    await page.click(sel('near-here'));
    await page.fill(sel('near-km'), '5');
    // Within 5 km of (52.0, 5.0): Pole 000 (0 km), Pole 001 (4.4 km north) and Pole 008 (3.4 km east).
    await untilCount(3);
    await page.fill(sel('near-km'), '0');
    await untilCount(total);

    await page.focus(`${sel('device-row')} a`);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => (globalThis as any).document.activeElement.closest('tr').getAttribute('data-id'));
    const third = await page.$$eval(sel('device-row'), (rows) => rows[2].getAttribute('data-id'));
    expect(focused).toBe(third);
  });

  browserIt('shows a device status change live, without a reload', async () => {
    const pole = ok(await t.gql('{ devices(first: 1, filter: { search: "Pole 005" }) { nodes { id } } }')).devices.nodes[0];
    expect(await page.textContent(`${rowOf(pole.id)} .badge`)).toBe('unknown');
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    ok(await t.gql('mutation($id: ID!) { updateDevice(id: $id, input: { status: NEEDS_ATTENTION }) { id } }', { id: pole.id }));
    await page.waitForFunction(
      (id) =>
        (globalThis as any).document.querySelector(`[data-testid="device-row"][data-id="${id}"] .badge`)?.textContent === 'needs attention',
      pole.id,
      { timeout: 15_000 },
    );
    expect(navigations).toEqual([]);
  });

  browserIt('opens a device: its inspection with the photo and the reviewer’s box, its defect with history', async () => {
    await page.click(`${rowOf(cracked.id)} a`);
    await page.waitForSelector(sel('device-view'));
    await page.waitForFunction(() => {
      const img = (globalThis as any).document.querySelector('[data-testid="photo"] img');
      return img?.complete && img.naturalWidth > 0;
    });
    expect(await page.$$(sel('inspection'))).toHaveLength(1);
    expect(await page.$$(sel('anomaly-box'))).toHaveLength(1);
    expect(await page.textContent(sel('defects'))).toMatch(/crack[\s\S]*open/);
    expect(await page.textContent(sel('photo'))).toMatch(/anomalous/);
  });

  browserIt('plans a work order from the repair queue, schedules, assigns, starts and closes it with the field outcome', async () => {
    await page.click(sel('nav-repairs'));
    await page.waitForSelector(`${sel('queue-item')}[data-defect]`);
    const defects = ok(await t.gql('query($d: ID!) { defects(filter: { deviceId: $d }) { nodes { id } } }', { d: cracked.id })).defects
      .nodes;
    const item = `${sel('queue-item')}[data-defect="${defects[0].id}"]`;
    expect(await page.textContent(item)).toMatch(/crack/);
    expect((await page.$$(`${item} .reasons li`)).length).toBeGreaterThan(0);
    await page.check(`${item} input[type="checkbox"]`);
    await page.fill(sel('plan-assignee'), 'crew-7');
    await page.click(sel('plan-submit'));
    const order = `${sel('open-work-orders')} ${sel('work-order')}`;
    await page.waitForSelector(`${order}[data-status="OPEN"]`);
    const orderId = await page.getAttribute(order, 'data-id');
    await page.fill(`${order} ${sel('due')}`, '2030-01-15');
    await page.click(`${order} ${sel('save-assignment')}`);
    await page.click(`${order} ${sel('move-SCHEDULED')}`);
    await page.waitForSelector(`${order}[data-status="SCHEDULED"]`);
    await page.click(`${order} ${sel('move-IN_PROGRESS')}`);
    await page.waitForSelector(`${order}[data-status="IN_PROGRESS"]`);
    await page.screenshot({ path: path.join(SHOTS, 'work-order-in-progress-1366.png') });
    await page.click(`${order} ${sel('close-open')}`);
    await page.selectOption(`${order} ${sel('finding')}`, 'FIXED');
    await page.click(`${order} ${sel('close-submit')}`);
    await page.waitForFunction((id) => !(globalThis as any).document.querySelector(`[data-testid="work-order"][data-id="${id}"]`), orderId);
    const done = ok(
      await t.gql('query($id: ID!) { workOrder(id: $id) { status assignee dueAt defects { finding } } }', { id: orderId }),
    ).workOrder;
    expect(done).toEqual({ status: 'DONE', assignee: 'crew-7', dueAt: '2030-01-15T12:00:00.000Z', defects: [{ finding: 'FIXED' }] });
  });

  browserIt('downloads the GeoJSON export from the same origin', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(sel('export-DEVICES_GEOJSON'))]);
    const file = await download.path();
    const geojson = JSON.parse(fs.readFileSync(file!, 'utf8'));
    expect(geojson.features).toHaveLength(total);
  });

  browserIt('shows a live event in the inspections view as a work order is created through the API', async () => {
    await page.click(sel('nav-surveys'));
    await page.waitForSelector(sel('inspection-row'));
    // The two cracked devices', the judged one's and the survey's inspection of Pole 000.
    expect((await page.$$(sel('inspection-row'))).length).toBe(4);
    const defect = ok(await t.gql('query($d: ID!) { defects(filter: { deviceId: $d }) { nodes { id } } }', { d: second.id })).defects
      .nodes[0];
    // The subscription is open once the socket has said hello; a created work order is then an event on the page.
    await page.waitForTimeout(500);
    ok(await t.gql('mutation($i: CreateWorkOrderInput!) { createWorkOrder(input: $i) { id } }', { i: { defectIds: [defect.id] } }));
    await page.waitForFunction(
      () => /work order on .*: open/.test(String((globalThis as any).document.querySelector('[data-testid="live-events"]').textContent)),
      null,
      {
        timeout: 15_000,
      },
    );
  });

  browserIt('lists the survey with its progress, and assigns an image without a device to the nearest device in one click', async () => {
    const row = `${sel('survey-row')}[data-id="${survey.id}"]`;
    await page.waitForSelector(row);
    const cells = () => page.$$eval(`${row} td`, (tds) => tds.map((td) => (td.textContent ?? '').replace(/\s+/g, ' ').trim()));
    // Placed 1 of 3 (by GPS), none by hand, 2 waiting for a person, none pending; its inspection judged.
    expect(await cells()).toEqual([expect.stringContaining(survey.name), '1/3', '1', '0', '2', '0', '1 completed']);
    expect(await page.getAttribute(`${row} progress`, 'value')).toBe('1');

    const item = `${sel('unassigned-image')}[data-id="${survey.offsite}"]`;
    await page.waitForSelector(`${item} ${sel('assign')}`);
    // Pole 000 is 300 m away; the next poles are more than 2 km away, so it is the only candidate.
    const candidates = await page.$$eval(`${item} ${sel('assign')}`, (bs) => bs.map((b) => [b.getAttribute('data-device'), b.textContent]));
    expect(candidates).toEqual([[survey.poleId, 'Assign to Pole 000 · 300 m']]);
    expect(await page.textContent(`${sel('unassigned-image')}[data-id="${survey.noGps}"]`)).toMatch(/no gps[\s\S]*no candidates/);
    await page.screenshot({ path: path.join(SHOTS, 'surveys-unassigned-1366.png'), fullPage: true });

    await page.click(`${item} ${sel('assign')}`);
    await page.waitForFunction(() =>
      /off-the-line\.jpg now belongs to Pole 000/.test(
        String((globalThis as any).document.querySelector('[data-testid="assigned-note"]').textContent),
      ),
    );
    await page.waitForSelector(item, { state: 'detached' });
    await page.waitForFunction((r) => (globalThis as any).document.querySelector(`${r} td:nth-child(2)`)?.textContent.includes('2/3'), row);
    expect(await cells()).toEqual([expect.stringContaining(survey.name), '2/3', '1', '1', '1', '0', '1 completed']);
    const image = ok(
      await t.gql('query($id: ID!) { node(id: $id) { ... on Image { deviceMatch inspection { device { id } } } } }', {
        id: survey.offsite,
      }),
    ).node;
    expect(image).toEqual({ deviceMatch: 'ASSIGNED', inspection: { device: { id: survey.poleId } } });
  });

  browserIt('toggles the model’s heatmap over a judged picture, loaded from the same origin', async () => {
    const tasks = ok(
      await t.gql('query($id: ID!) { inspection(id: $id) { reviewTasks { image { id } modelOutput { heatmaps { url } } } } }', {
        id: judged.inspectionId,
      }),
    ).inspection.reviewTasks;
    const withHeatmap = tasks.filter((x: any) => x.modelOutput?.heatmaps.length);
    expect(withHeatmap.length).toBeGreaterThan(0);
    await page.goto(`${t.app.url}/console#/device/${judged.deviceId}`);
    await page.waitForSelector(sel('device-view'));
    const toggle = (await page.waitForSelector(sel('heatmap-toggle')))!;
    expect(await page.$$(sel('heatmap-toggle'))).toHaveLength(withHeatmap.length);
    expect(await page.$(sel('heatmap'))).toBeNull();
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    const before = requests.length;
    await toggle.click();
    await page.waitForFunction(() => {
      const img = (globalThis as any).document.querySelector('[data-testid="heatmap"]');
      return img?.complete && img.naturalWidth > 0;
    });
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    const src = (await page.getAttribute(sel('heatmap'), 'src'))!;
    const origin = new URL(t.app.url).origin;
    expect(new URL(src, t.app.url).origin).toBe(origin);
    expect(requests.slice(before).some((u) => u === new URL(src, t.app.url).href)).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'device-heatmap-1366.png') });
    expect(await axeViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    await page.screenshot({ path: path.join(SHOTS, 'device-heatmap-390.png'), fullPage: true });
    await page.setViewportSize({ width: 1366, height: 768 });
    await toggle.click();
    await page.waitForSelector(sel('heatmap'), { state: 'detached' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
  });

  browserIt('shows models with their test-split figures and confusion matrix, costs, and settings with a key shown once', async () => {
    await page.click(sel('nav-models'));
    await page.waitForSelector(sel('model-version'));
    expect(await page.textContent(sel('model-version'))).toContain(models[1].version);
    expect(await page.textContent(sel('confusion'))).toMatch(/predicted anomalous/);
    expect(await page.$$(`${sel('roc')} canvas`)).not.toHaveLength(0);
    // Trained here, so measured with its curves: the chart draws them, not only the operating point.
    expect(await page.getAttribute(sel('roc'), 'aria-label')).toMatch(/^ROC curve on the test split, AUROC \d\.\d{3}/);

    await page.click(sel('nav-costs'));
    await page.waitForSelector(sel('cost-figures'));
    expect(await page.textContent(sel('cost-figures'))).toMatch(/Spent\$\d/);
    // The judged inspection called the screening model on each picture: the table by detector lists it.
    expect(await page.textContent(sel('by-detector'))).toMatch(/screen/);

    await page.click(sel('nav-settings'));
    await page.waitForSelector(sel('api-keys'));
    await page.fill(sel('key-name'), 'made in the console');
    await page.click(sel('key-create'));
    const secret = (await (await page.waitForSelector(`${sel('key-secret')} code`)).textContent())!;
    const viewer = ok(await t.gql('{ viewer { name role } }', {}, secret)).viewer;
    expect(viewer).toEqual({ name: 'made in the console', role: 'OPERATOR' });
  });

  const VIEWS: [string, ...string[]][] = [
    ['fleet', `${sel('device-list')}[data-state="ready"]`],
    [`device/${'ID'}`, `${sel('photo')} img`],
    ['repairs', sel('queue')],
    ['surveys', `${sel('survey-row')}`, sel('unassigned-image')],
    ['models', sel('model-version')],
    ['costs', sel('cost-chart')],
    ['settings', sel('api-keys')],
  ];

  browserIt('passes axe (no serious or critical violation) on every view; screenshots at 1366×768 and 390×844', async () => {
    const problems: string[] = [];
    for (const [width, height] of [
      [1366, 768],
      [390, 844],
    ]) {
      await page.setViewportSize({ width, height });
      for (const [view, ...ready] of VIEWS) {
        const hash = view.replace('ID', cracked.id);
        await page.goto(`${t.app.url}/console#/${hash}`);
        for (const selector of ready) await page.waitForSelector(selector);
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(SHOTS, `${view.split('/')[0]}-${width}.png`), fullPage: width < 800 });
        if (width === 1366) problems.push(...(await axeViolations(page)).map((v) => `${view}: ${v}`));
      }
    }
    await page.setViewportSize({ width: 1366, height: 768 });
    expect(problems).toEqual([]);
  });

  browserIt('shows a REVIEWER no fleet: only its queue and the way to /review', async () => {
    await page.click(sel('signout'));
    await page.waitForSelector(sel('api-key'));
    await signIn(reviewer);
    await page.waitForSelector(sel('reviewer-view'));
    expect(await page.$(sel('nav-fleet'))).toBeNull();
    expect(await page.$(sel('nav-repairs'))).toBeNull();
    await page.goto(`${t.app.url}/console#/fleet`);
    await page.waitForSelector(sel('reviewer-view'));
    expect(await page.$(sel('device-list'))).toBeNull();
    await page.screenshot({ path: path.join(SHOTS, 'reviewer-1366.png') });
    expect(await axeViolations(page)).toEqual([]);
  });

  browserIt('sent no request outside the origin, broke no CSP rule and logged no error', async () => {
    const origin = new URL(t.app.url).origin;
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
