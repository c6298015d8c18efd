import fs from 'node:fs';
import path from 'node:path';
import { type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/common/paths';
import { REVIEW_PAGE_CSP, reviewPageFiles } from '../../src/http/review-page';
import { ok, startTestApp, type TestApp } from '../support/app';
import { BROWSER_MISSING, launchBrowser, type LaunchedBrowser } from '../support/browser';
import { deviceWithInspection, installTestModels, surfacePhoto, uploadImages, waitForRun } from '../support/workflow';

// The built-in reviewer page in a real Chromium against the real app: PGlite, real uploads, a real
// workflow run that sends every image of a device type without a model to people (COLD_START); at
// the end a device type with a model, whose confident verdicts are all sampled for QA (model output).

const TASKS = 25;
const LOOP = 20;
const RESULTS_DIR = path.join(PROJECT_ROOT, 'test-results');

let t: TestApp;
let reviewerKey: string;
let anomalyTypes: string[];

beforeAll(async () => {
  t = await startTestApp({ REVIEW_QA_SHARE: '1' });
  reviewerKey = ok(await t.gql('mutation { createApiKey(name: "page reviewer", role: REVIEWER) { secret } }')).createApiKey.secret;
  anomalyTypes = ok(await t.gql('{ reviewSettings { anomalyTypes } }')).reviewSettings.anomalyTypes;
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

async function get(urlPath: string) {
  const res = await fetch(`${t.app.url}${urlPath}`);
  return { res, body: await res.text() };
}

describe('the reviewer page is served by vigil itself', () => {
  it('serves the page, its script modules and its stylesheet with their types, no-cache and a strict CSP, and nothing from elsewhere', async () => {
    const modules = Object.keys(reviewPageFiles()).filter((u) => u.endsWith('.js'));
    expect(modules).toContain('/review/main.js');
    for (const [urlPath, type] of [
      ['/review', 'text/html'],
      ['/review/review.css', 'text/css'],
      ...modules.map((u) => [u, 'text/javascript']),
    ]) {
      const { res, body } = await get(urlPath);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(new RegExp(`^${type}`));
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toBe(REVIEW_PAGE_CSP);
      for (const directive of ["default-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'", "style-src 'self'"])
        expect(csp).toContain(directive);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      expect(body.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\/|@import|url\(/);
      const again = await fetch(`${t.app.url}${urlPath}`, { headers: { 'if-none-match': res.headers.get('etag')! } });
      expect(again.status).toBe(304);
    }
    const { body } = await get('/review');
    expect(body).not.toMatch(/<script>|<style|\sstyle=/);
    expect(body).toContain('<script type="module" src="/review/main.js"></script>');
    // Every module the page imports is served (the browser resolves './x.js' against /review/).
    const imported = new Set<string>();
    for (const urlPath of modules) {
      for (const m of (await get(urlPath)).body.matchAll(/^import .* from '\.\/([\w-]+\.js)';$/gm)) imported.add(`/review/${m[1]}`);
    }
    expect(imported.size).toBeGreaterThan(0);
    for (const urlPath of imported) expect(modules).toContain(urlPath);
  });
});

if (BROWSER_MISSING) console.warn(`review page browser tests skipped: ${BROWSER_MISSING}`);
// CI installs chromium (.ci/run): there a missing browser is a failure, not a skip.
if (BROWSER_MISSING && process.env.CI) throw new Error(`CI must run the reviewer page in a browser: ${BROWSER_MISSING}`);
const browserIt = BROWSER_MISSING ? it.skip : it;

const sel = (testid: string) => `[data-testid="${testid}"]`;

describe('the reviewer page in Chromium (1366×768)', () => {
  let browser: LaunchedBrowser;
  let page: Page;
  const requests: string[] = [];
  const responses = new Map<string, number>();
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  const skippedIds: string[] = [];
  let pickedType: string;

  beforeAll(async () => {
    if (BROWSER_MISSING) return;
    const { inspectionId } = await deviceWithInspection(t, 'pump');
    await uploadImages(t, inspectionId, await Promise.all(Array.from({ length: TASKS }, (_, i) => surfacePhoto(3000 + i, i % 3 === 0))));
    const run = await waitForRun(t, inspectionId, 120_000);
    expect(run.workflowRuns.at(-1).status).toBe('SUCCEEDED');
    const tasks = ok(await t.gql('query($id: ID!) { inspection(id: $id) { reviewTasks { id reason status } } }', { id: inspectionId }))
      .inspection.reviewTasks;
    expect(tasks).toHaveLength(TASKS);
    expect(new Set(tasks.map((x: any) => `${x.reason} ${x.status}`))).toEqual(new Set(['COLD_START PENDING']));

    browser = await launchBrowser();
    browser.context.on('request', (r) => requests.push(r.url()));
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('response', (r) => responses.set(r.url(), r.status()));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    pickedType = anomalyTypes[1] ?? anomalyTypes[0];
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
  });

  const text = async (testid: string) => ((await page.textContent(sel(testid))) ?? '').trim();
  const taskId = () => text('task-id');
  const boxCount = async () => Number(await text('box-count'));

  /** Waits until the page shows a task other than `prev` (or none), with its photo loaded. */
  async function nextTask(prev: string): Promise<string> {
    await page.waitForFunction(
      (previous) => {
        const doc = (globalThis as any).document;
        const id = doc.querySelector('[data-testid="task-id"]').textContent;
        if (id === previous) return false;
        if (!id) return !doc.querySelector('[data-testid="empty"]').hidden;
        const img = doc.querySelector('[data-testid="task-image"]');
        return img.complete && img.naturalWidth > 0;
      },
      prev,
      { timeout: 20_000 },
    );
    return taskId();
  }

  /** Waits until the element's trimmed text is `expected` (or matches it). */
  async function untilText(testid: string, expected: string | RegExp) {
    const [want, exact] = typeof expected === 'string' ? [expected, true] : [expected.source, false];
    await page.waitForFunction(
      ([selector, pattern, isExact]) => {
        const found = String((globalThis as any).document.querySelector(selector)?.textContent ?? '').trim();
        return isExact ? found === pattern : new RegExp(pattern).test(found);
      },
      [sel(testid), want, exact] as const,
      { timeout: 20_000 },
    );
  }

  async function imageBox() {
    const box = await page.locator(sel('task-image')).boundingBox();
    if (!box) throw new Error('the photo is not visible');
    return box;
  }

  /** Drags on the photo between two points given as shares of it. */
  async function drag(from: [number, number], to: [number, number]) {
    const b = await imageBox();
    await page.mouse.move(b.x + from[0] * b.width, b.y + from[1] * b.height);
    await page.mouse.down();
    await page.mouse.move(b.x + ((from[0] + to[0]) / 2) * b.width, b.y + ((from[1] + to[1]) / 2) * b.height, { steps: 3 });
    await page.mouse.move(b.x + to[0] * b.width, b.y + to[1] * b.height, { steps: 3 });
    await page.mouse.up();
  }

  async function clickAt(at: [number, number]) {
    const b = await imageBox();
    await page.mouse.click(b.x + at[0] * b.width, b.y + at[1] * b.height);
  }

  async function asAdmin(id: string) {
    return ok(
      await t.gql(
        `query($id: ID!) { reviewTask(id: $id) { id status verdict answers { verdict comment regions { type confidence box { x y width height } } } } }`,
        { id },
      ),
    ).reviewTask;
  }

  function expectBox(actual: Record<string, number>, expected: Record<string, number>) {
    for (const k of ['x', 'y', 'width', 'height']) expect(Math.abs(actual[k] - expected[k])).toBeLessThan(0.015);
  }

  browserIt('refuses a wrong key and a key of a role that cannot review, with a clear message', async () => {
    await page.goto(`${t.app.url}/review`);
    await page.fill(sel('api-key'), 'vgl_this-key-does-not-exist-0123456789abcdefgh');
    await page.click(sel('signin-button'));
    await page.waitForSelector(`${sel('signin-error')}:visible`);
    expect(await text('signin-error')).toMatch(/not accepted.*\[UNAUTHENTICATED\]/);
    expect(await page.isVisible(sel('workspace'))).toBe(false);

    await page.fill(sel('api-key'), await t.keyFor('INTEGRATOR'));
    await page.click(sel('signin-button'));
    await untilText('signin-error', /INTEGRATOR key/);
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0);
  });

  browserIt('signs in, claims a task and shows its photo; image and controls fit a 1366×768 screen without scrolling', async () => {
    await page.fill(sel('api-key'), reviewerKey);
    await page.click(sel('signin-button'));
    const first = await nextTask('');
    expect(first).not.toBe('');
    expect(await page.locator(sel('task-image')).evaluate((img: any) => img.naturalWidth)).toBeGreaterThan(0);
    expect(await text('task-reason')).toMatch(/cold start/i);
    expect(await text('task-device-type')).toBe('pump');
    expect(await text('task-uncertainty')).toBe('1.00');
    expect(await text('done-today')).toBe('0');
    expect(await page.isDisabled(sel('toggle-heatmap'))).toBe(true);
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('vigil.review.apiKey'))).toBe(reviewerKey);

    const [scrollW, scrollH, innerW, innerH] = await page.evaluate(() => {
      const w = globalThis as any;
      return [w.document.documentElement.scrollWidth, w.document.documentElement.scrollHeight, w.innerWidth, w.innerHeight] as number[];
    });
    expect([innerW, innerH]).toEqual([1366, 768]);
    expect(scrollW).toBeLessThanOrEqual(innerW);
    expect(scrollH).toBeLessThanOrEqual(innerH);
    const img = await imageBox();
    expect(img.width).toBeGreaterThan(400);
    expect(img.y + img.height).toBeLessThanOrEqual(innerH);
    for (const id of ['verdict-normal', 'verdict-anomalous', 'submit', 'skip', 'undo', 'comment', 'legend', 'status', 'done-today']) {
      const b = await page.locator(sel(id)).boundingBox();
      expect(b).not.toBeNull();
      expect(b!.y + b!.height).toBeLessThanOrEqual(innerH);
      expect(b!.x + b!.width).toBeLessThanOrEqual(innerW);
    }
  });

  browserIt(
    'A, a box dragged on the photo with a picked type, Enter: saved as ANOMALOUS with that box, and the next task follows',
    async () => {
      const first = await taskId();
      await page.keyboard.press('a');
      expect(await page.getAttribute(sel('verdict-anomalous'), 'aria-pressed')).toBe('true');
      expect(await page.getAttribute(sel('verdict-normal'), 'aria-pressed')).toBe('false');
      await drag([0.25, 0.3], [0.65, 0.7]);
      expect(await boxCount()).toBe(1);
      await page.selectOption(sel('box-type'), pickedType);
      await page.fill(sel('comment'), 'crack near the flange');
      await page.locator(sel('comment')).blur();
      fs.mkdirSync(RESULTS_DIR, { recursive: true });
      await page.screenshot({ path: path.join(RESULTS_DIR, 'review-page.png') });

      await page.keyboard.press('Enter');
      const second = await nextTask(first);
      expect(second).not.toBe(first);
      expect(second).not.toBe('');
      await untilText('done-today', `1`);
      expect(await boxCount()).toBe(0);
      expect(await page.getAttribute(sel('verdict-anomalous'), 'aria-pressed')).toBe('false');

      const done = await asAdmin(first);
      expect(done.status).toBe('COMPLETED');
      expect(done.verdict).toBe('ANOMALOUS');
      expect(done.answers).toHaveLength(1);
      expect(done.answers[0].verdict).toBe('ANOMALOUS');
      expect(done.answers[0].comment).toBe('crack near the flange');
      expect(done.answers[0].regions).toHaveLength(1);
      expect(done.answers[0].regions[0].type).toBe(pickedType);
      expect(done.answers[0].regions[0].confidence).toBeNull();
      expectBox(done.answers[0].regions[0].box, { x: 0.25, y: 0.3, width: 0.4, height: 0.4 });
    },
  );

  browserIt('N, Enter: saved as NORMAL with no regions', async () => {
    const id = await taskId();
    await page.keyboard.press('n');
    expect(await page.getAttribute(sel('verdict-normal'), 'aria-pressed')).toBe('true');
    await page.keyboard.press('Enter');
    await nextTask(id);
    await untilText('done-today', `2`);
    const done = await asAdmin(id);
    expect(done).toEqual(expect.objectContaining({ status: 'COMPLETED', verdict: 'NORMAL' }));
    expect(done.answers[0].regions).toEqual([]);
  });

  browserIt('S skips: the task is released and not offered again in this session', async () => {
    const id = await taskId();
    await page.keyboard.press('s');
    const next = await nextTask(id);
    expect(next).not.toBe('');
    skippedIds.push(id);
    expect((await asAdmin(id)).status).toBe('PENDING');
    expect(await text('done-today')).toBe('2');
  });

  browserIt('Z undoes box edits; boxes can be selected, deleted, moved and resized; new boxes take the last picked type', async () => {
    const id = await taskId();
    await drag([0.1, 0.1], [0.3, 0.3]);
    expect(await page.getAttribute(sel('verdict-anomalous'), 'aria-pressed')).toBe('true');
    await drag([0.5, 0.5], [0.7, 0.7]);
    expect(await boxCount()).toBe(2);
    await page.keyboard.press('z');
    expect(await boxCount()).toBe(1);

    await clickAt([0.2, 0.2]);
    await page.keyboard.press('Delete');
    expect(await boxCount()).toBe(0);
    await page.keyboard.press('z');
    expect(await boxCount()).toBe(1);

    await clickAt([0.2, 0.2]);
    await drag([0.2, 0.2], [0.3, 0.25]);
    await drag([0.4, 0.35], [0.5, 0.55]);
    await page.click(`${sel('box-x')} circle`);
    expect(await boxCount()).toBe(0);
    await page.keyboard.press('z');
    expect(await boxCount()).toBe(1);
    expect(await page.inputValue(sel('box-type'))).toBe(pickedType);

    await page.keyboard.press('Enter');
    await nextTask(id);
    const done = await asAdmin(id);
    expect(done.verdict).toBe('ANOMALOUS');
    expect(done.answers[0].regions).toHaveLength(1);
    expect(done.answers[0].regions[0].type).toBe(pickedType);
    expectBox(done.answers[0].regions[0].box, { x: 0.2, y: 0.15, width: 0.3, height: 0.4 });
  });

  browserIt('a refused submit shows the message and code and keeps the boxes and comment; fixed, it goes through', async () => {
    const id = await taskId();
    await page.keyboard.press('a');
    await drag([0.6, 0.6], [0.9, 0.95]);
    await page.locator(sel('box-type')).evaluate((select: any) => {
      const option = select.ownerDocument.createElement('option');
      option.value = option.textContent = 'no-such-type';
      select.append(option);
    });
    await page.selectOption(sel('box-type'), 'no-such-type');
    await page.fill(sel('comment'), 'keep me');
    await page.locator(sel('comment')).blur();
    await page.keyboard.press('Enter');
    await page.waitForFunction((selector) => (globalThis as any).document.querySelector(selector).dataset.kind === 'error', sel('status'));
    expect(await text('status')).toMatch(/\[BAD_USER_INPUT\]/);
    expect(await taskId()).toBe(id);
    expect(await boxCount()).toBe(1);
    expect(await page.inputValue(sel('comment'))).toBe('keep me');
    expect((await asAdmin(id)).status).toBe('CLAIMED');

    await page.selectOption(sel('box-type'), anomalyTypes[0]);
    await page.keyboard.press('Enter');
    await nextTask(id);
    const done = await asAdmin(id);
    expect(done.answers[0].regions.map((r: any) => r.type)).toEqual([anomalyTypes[0]]);
    expectBox(done.answers[0].regions[0].box, { x: 0.6, y: 0.6, width: 0.3, height: 0.35 });
  });

  browserIt(`sustains a scripted reviewer over ${LOOP} tasks (N or A with a box, then Enter)`, async () => {
    let id = await taskId();
    const started = performance.now();
    for (let i = 0; i < LOOP; i++) {
      expect(id).not.toBe('');
      if (i % 2) {
        await page.keyboard.press('a');
        await drag([0.2 + 0.01 * i, 0.2], [0.5, 0.6]);
      } else {
        await page.keyboard.press('n');
      }
      await page.keyboard.press('Enter');
      id = await nextTask(id);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `review page: ${LOOP} tasks in ${seconds.toFixed(1)} s = ${((LOOP / seconds) * 60).toFixed(0)} tasks/min (scripted reviewer in headless Chromium, 1366×768, PGlite)`,
    );
    await untilText('done-today', `${4 + LOOP}`);
  });

  browserIt('an empty queue says "Nothing waiting" and keeps looking; skipped tasks can be asked for again', async () => {
    expect(await taskId()).toBe('');
    await page.waitForSelector(`${sel('empty')}:visible`);
    expect(await text('empty')).toMatch(/Nothing waiting/);
    expect(await page.isVisible(sel('unskip'))).toBe(true);
    await untilText('queue-size', `1`);
    const before = requests.length;
    await page.waitForTimeout(4_500);
    expect(requests.slice(before).length).toBeGreaterThan(0);

    await page.click(sel('unskip'));
    expect(await nextTask('')).toBe(skippedIds[0]);
    await page.keyboard.press('n');
    await page.keyboard.press('Enter');
    expect(await nextTask(skippedIds[0])).toBe('');
    await untilText('done-today', `${TASKS}`);
    await untilText('queue-size', `0`);
    const stats = ok(await t.gql('{ reviewStats { pending claimed completed } }')).reviewStats;
    expect(stats).toEqual(expect.objectContaining({ pending: 0, claimed: 0, completed: TASKS }));
  });

  browserIt(
    "shows the model's heatmap and dashed boxes on tasks a model judged; H and M hide and show them",
    async () => {
      await installTestModels(path.join(t.dataDir, 'models'), 'insulator');
      const { inspectionId } = await deviceWithInspection(t, 'insulator');
      await uploadImages(t, inspectionId, await Promise.all([0, 1, 2, 3].map((i) => surfacePhoto(900 + i, i % 2 === 1))));
      expect((await waitForRun(t, inspectionId)).workflowRuns.at(-1).status).toBe('SUCCEEDED');

      const count = (testid: string) => page.locator(sel(testid)).count();
      let judged = 0;
      let id = await nextTask('');
      while (id) {
        const task = ok(
          await t.gql('query($id: ID!) { reviewTask(id: $id) { reason modelOutput { regions { type } heatmaps { url } } } }', { id }),
        ).reviewTask;
        expect(task.reason).toBe('SAMPLED_QA');
        const m = task.modelOutput;
        if (m?.heatmaps.length && m.regions.length) {
          judged++;
          expect(await text('task-confidence')).toMatch(/% sure/);
          expect(await count('heatmap')).toBe(m.heatmaps.length);
          expect(await count('model-box')).toBe(m.regions.length);
          expect(
            await page
              .locator(`${sel('model-box')} text`)
              .first()
              .textContent(),
          ).toMatch(new RegExp(`^${m.regions[0].type} \\d+%$`));
          // The page's own links: every query signs a fresh one, so those of another query would differ.
          const shown = await page.locator(sel('heatmap')).evaluateAll((els) => els.map((e) => e.getAttribute('href')!));
          for (const href of shown) {
            const wanted = new URL(href, page.url()).pathname;
            for (let i = 0; i < 100 && ![...responses].some(([u, status]) => new URL(u).pathname === wanted && status === 200); i++)
              await page.waitForTimeout(50);
            expect([...responses].some(([u, status]) => new URL(u).pathname === wanted && status === 200)).toBe(true);
          }
          if (judged === 1) await page.screenshot({ path: path.join(RESULTS_DIR, 'review-page-model.png') });
          await page.keyboard.press('h');
          expect(await count('heatmap')).toBe(0);
          expect(await page.isChecked(sel('toggle-heatmap'))).toBe(false);
          await page.keyboard.press('m');
          expect(await count('model-box')).toBe(0);
          await page.click(sel('toggle-heatmap'));
          await page.click(sel('toggle-model-boxes'));
          expect(await count('heatmap')).toBe(m.heatmaps.length);
          expect(await count('model-box')).toBe(m.regions.length);
        } else if (!m) {
          expect(await page.isDisabled(sel('toggle-heatmap'))).toBe(true);
          expect(await count('model-box')).toBe(0);
        }
        await page.keyboard.press('n');
        await page.keyboard.press('Enter');
        id = await nextTask(id);
      }
      expect(judged).toBeGreaterThan(0);
    },
    180_000,
  );

  browserIt('signs out; every request stayed on the app origin; no script errors or CSP violations', async () => {
    await page.click(sel('signout'));
    await page.waitForSelector(`${sel('signin-form')}:visible`);
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0);
    expect(requests.length).toBeGreaterThan(0);
    const foreign = requests.filter((u) => !u.startsWith(`${t.app.url}/`));
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
