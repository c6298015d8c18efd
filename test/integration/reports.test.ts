import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { signToken } from '../../src/uploads/signed-token';
import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { BROWSER_MISSING, launchBrowser } from '../support/browser';
import { daysAgo } from '../support/repairs';
import { CLAIM, newKey, SUBMIT } from '../support/reviews';
import { installTestModels, surfacePhoto, uploadImages, waitForRun } from '../support/workflow';
import { tamperedToken } from '../support/tokens';

// Reports through real HTTP: a signed link from GraphQL, the PDF parsed with pdf.js and one page rendered to
// pixels with poppler's pdftoppm, the HTML page opened in Chromium.

const PDFTOPPM = '/usr/bin/pdftoppm';
// What the tests rendered, kept for a person to look at (ignored by git).
const SCRATCH = path.join(__dirname, '../../test-artifacts/reports');
fs.mkdirSync(SCRATCH, { recursive: true });
// The defect painted into the test photo, and the box a reviewer draws around it (shares of the image).
const DEFECT = { x: 0.35, y: 0.4, width: 0.25, height: 0.3 };
const BOX = { x: 0.3, y: 0.35, width: 0.35, height: 0.4 };
const DEVICE_NAME = 'Mast 7 & 8 <east>, line 12';
const REPORT = `mutation($id: ID!, $f: ReportFormat) { createInspectionReport(inspectionId: $id, format: $f) { url expiresAt format } }`;
const SURVEY_REPORT = `mutation($id: ID!, $f: ReportFormat) { createSurveyReport(surveyId: $id, format: $f) { url expiresAt format } }`;

let t: TestApp;
let modelsDir: string;
let operator: string;
let reviewer: string;
const made: Record<string, string> = {};

/** A grey-green photo with a cyan patch at DEFECT: nothing on it has the box colour. */
async function defectPhoto(seed: number): Promise<Buffer> {
  const [w, h] = [640, 480];
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const [x, y] = [i % w, Math.floor(i / w)];
    const inside = x >= DEFECT.x * w && x < (DEFECT.x + DEFECT.width) * w && y >= DEFECT.y * h && y < (DEFECT.y + DEFECT.height) * h;
    const noise = ((i * 7919 + seed * 104729) % 23) - 11;
    px.set(inside ? [0, 200, 230] : [110 + noise, 125 + noise, 105 + noise], 3 * i);
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

/** Loads pdf.js's ESM build; swc would turn a plain import() into require(). */
async function pdfText(bytes: Buffer): Promise<string[]> {
  // biome-ignore lint/security/noGlobalEval: the only way past the CommonJS transform to jest's ESM loader.
  const pdfjs = await eval('import("pdfjs-dist/legacy/build/pdf.mjs")');
  const standardFontDataUrl = path.join(path.dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts/');
  const doc = await pdfjs.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, standardFontDataUrl }).promise;
  const pages: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    // Wrapped lines are separate items: one space between words, whatever the layout.
    pages.push(
      content.items
        .map((item: { str?: string }) => item.str ?? '')
        .join(' ')
        .replace(/\s+/g, ' '),
    );
  }
  await doc.destroy();
  return pages;
}

/** One page of a PDF as a PNG, through poppler. */
function renderPage(pdf: Buffer, page: number, name: string): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-report-'));
  fs.writeFileSync(path.join(dir, 'r.pdf'), pdf);
  execFileSync(PDFTOPPM, ['-f', String(page), '-l', String(page), '-r', '100', '-png', '-singlefile', 'r.pdf', 'page'], { cwd: dir });
  const png = fs.readFileSync(path.join(dir, 'page.png'));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.writeFileSync(path.join(SCRATCH, name), png);
  return png;
}

async function newDevice(name: string, type: string, criticality = 'HIGH', latitude = 52.0912, longitude = 5.1221) {
  return ok(
    await t.gql(`mutation($i: DeviceInput!) { createDevice(input: $i) { id } }`, {
      i: { externalId: `${type}-${crypto.randomUUID().slice(0, 6)}`, name, type, criticality, latitude, longitude },
    }),
  ).createDevice.id as string;
}

async function newInspection(deviceId: string, capturedAt: Date) {
  return ok(
    await t.gql(`mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }`, {
      i: { deviceId, source: 'DRONE', capturedAt: capturedAt.toISOString() },
    }),
  ).createInspection.id as string;
}

/** The reviewer answers this inspection's task, leaving the others in the queue. */
async function answer(inspectionId: string, verdict: 'NORMAL' | 'ANOMALOUS', regions: object[] = []) {
  const raw = Buffer.from(inspectionId, 'base64url').toString('utf8').split(':')[1];
  const others = await t.app.db.prisma.reviewTask.findMany({ where: { inspectionId: { not: raw } }, select: { id: true } });
  const skip = others.map((o) => Buffer.from(`ReviewTask:${o.id}`).toString('base64url'));
  const task = ok(await t.gql(CLAIM, { skip }, reviewer)).claimNextReview;
  expect(task).not.toBeNull();
  ok(await t.gql(SUBMIT, { id: task.id, v: verdict, r: regions, c: verdict === 'ANOMALOUS' ? 'shed cracked, see box' : null }, reviewer));
}

/** An inspection of a device without a model, run to the end and answered by the reviewer with BOX. */
async function reviewedInspection(deviceId: string, capturedAt: Date, seed: number) {
  const id = await newInspection(deviceId, capturedAt);
  await uploadImages(t, id, [await defectPhoto(seed)]);
  expect((await waitForRun(t, id)).status).toBe('COMPLETED');
  await answer(id, 'ANOMALOUS', [{ box: BOX, type: 'crack' }]);
  return id;
}

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`never as expected: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function download(url: string) {
  const res = await fetch(url);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

beforeAll(async () => {
  modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-report-models-'));
  await installTestModels(modelsDir, 'insulator');
  t = await startTestApp({ VIGIL_MODELS_DIR: modelsDir, REVIEW_QA_SHARE: '1' }, { retryIntervalMs: 1 });
  operator = await newKey(t, 'OPERATOR', 'ops planning app');
  reviewer = await newKey(t, 'REVIEWER', 'Ana (reviewer)');

  // Device A has no model: a reviewer boxes the defect twice, 20 days apart, and an operator raises the severity.
  made.deviceA = await newDevice(DEVICE_NAME, `mast-${crypto.randomUUID().slice(0, 6)}`);
  await reviewedInspection(made.deviceA, daysAgo(20), 1);
  made.inspectionA = await reviewedInspection(made.deviceA, daysAgo(1), 2);
  const anomalies = await until(
    async () =>
      ok(
        await t.gql(`query($id: ID!) { inspection(id: $id) { anomalies { nodes { id defect { observationCount } } } } }`, {
          id: made.inspectionA,
        }),
      ).inspection.anomalies.nodes,
    (nodes: { id: string; defect: { observationCount: number } | null }[]) => nodes.length === 1 && nodes[0].defect?.observationCount === 2,
  );
  ok(
    await t.gql(
      `mutation($id: ID!) { setAnomalySeverity(id: $id, severity: CRITICAL, reason: "crack runs through the shed") { id } }`,
      { id: anomalies[0].id },
      operator,
    ),
  );

  // Device B's type has a model: it finds the defect and stores a heatmap; the version is registered with its figures.
  made.deviceB = await newDevice('Insulator B-12', 'insulator', 'MEDIUM', 52.0931, 5.1198);
  made.inspectionB = await newInspection(made.deviceB, daysAgo(2));
  await uploadImages(t, made.inspectionB, [await surfacePhoto(7, true)]);
  expect((await waitForRun(t, made.inspectionB)).status).toBe('COMPLETED');
  await answer(made.inspectionB, 'ANOMALOUS');
  const detection = await t.app.db.prisma.detection.findFirstOrThrow({ where: { stage: 'INSPECT' } });
  made.modelVersion = detection.modelVersion;
  // The reviewer's answer made the device type's dataset; the version is registered as trained from it.
  const dataset = await t.app.db.prisma.dataset.findFirstOrThrow({ where: { deviceType: 'insulator' } });
  await t.app.db.prisma.modelVersion.create({
    data: {
      datasetId: dataset.id,
      deviceType: 'insulator',
      profile: 'INSPECT',
      status: 'TRAINED',
      trainer: 'builtin',
      version: detection.modelVersion,
      finishedAt: daysAgo(10),
      metrics: {
        source: 'builtin',
        testCount: 40,
        normal: 30,
        anomalous: 10,
        auroc: 0.9312,
        precision: 0.8,
        recall: 0.9,
        f1: 0.847,
        threshold: 0.5,
        reviewBandShare: 0.1,
        accuracyOutsideBand: 0.95,
        confusion: { tp: 9, fp: 2, tn: 28, fn: 1 },
        atRecall: 0.95,
        precisionAtRecall: 0.75,
        fprAtRecall: 0.1,
        splitHash: 'abc',
      },
    },
  });
}, 300_000);

afterAll(async () => {
  await t?.stop();
  if (modelsDir) fs.rmSync(modelsDir, { recursive: true, force: true });
});

type Rect = { left: number; top: number; right: number; bottom: number };

/** The bounding rectangle of the pixels `match` accepts inside `within`; null when there are none. */
function pixelsRect(
  img: { data: Buffer; width: number; channels: number },
  within: Rect,
  match: (r: number, g: number, b: number) => boolean,
) {
  let rect: Rect | null = null;
  let count = 0;
  for (let y = Math.max(0, within.top); y < within.bottom; y++) {
    for (let x = Math.max(0, within.left); x < Math.min(img.width, within.right); x++) {
      const i = (y * img.width + x) * img.channels;
      if (!match(img.data[i], img.data[i + 1], img.data[i + 2])) continue;
      count++;
      rect = rect
        ? { left: Math.min(rect.left, x), top: Math.min(rect.top, y), right: Math.max(rect.right, x), bottom: Math.max(rect.bottom, y) }
        : { left: x, top: y, right: x, bottom: y };
    }
  }
  return rect && { ...rect, count };
}

const isBoxColour = (r: number, g: number, b: number) => r > 190 && g < 70 && b > 80 && b < 175;
const isDefectCyan = (r: number, g: number, b: number) => r < 60 && g > 160 && b > 190;

describe('inspection report', () => {
  it('is a PDF with the device, severity, defect history and reviewer decision, and the box drawn around the defect', async () => {
    const link = ok(await t.gql(REPORT, { id: made.inspectionA }, operator)).createInspectionReport;
    expect(link.format).toBe('PDF');
    expect(new Date(link.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const { res, bytes } = await download(link.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="inspection-mast-[\w-]+-\d{4}-\d{2}-\d{2}\.pdf"$/);
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');

    const pages = await pdfText(bytes);
    expect(pages.length).toBeGreaterThanOrEqual(1);
    expect(pages.length).toBeLessThanOrEqual(4);
    const text = pages.join('\n');
    for (const fact of [
      DEVICE_NAME,
      'Criticality',
      '52.09120° N, 5.12210° E',
      'CRITICAL (set by ops planning app; rules:',
      'crack runs through the shed',
      'D1: crack · OPEN · CRITICAL · confirmed by a person · 2 observations',
      'Ana (reviewer)',
      'ANOMALOUS',
      'COLD_START',
      'shed cracked, see box',
      'No model judged these images',
    ]) {
      expect(text).toContain(fact);
    }

    fs.writeFileSync(path.join(SCRATCH, 'report-inspection.pdf'), bytes);
    const pageWithImage = pages.findIndex((p) => p.includes('Image 1 of 1')) + 1;
    const png = renderPage(bytes, pageWithImage, 'report-inspection-page.png');
    const img = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const page = { data: img.data, width: img.info.width, channels: img.info.channels };
    const all = { left: 0, top: 0, right: img.info.width, bottom: img.info.height };
    const defect = pixelsRect(page, all, isDefectCyan)!;
    expect(defect).not.toBeNull();
    // Around the painted defect (at most its own size away) there is a box outline, and none inside it.
    const dw = defect.right - defect.left;
    const dh = defect.bottom - defect.top;
    const around = { left: defect.left - dw, top: defect.top - dh, right: defect.right + dw, bottom: defect.bottom + dh };
    const box = pixelsRect(page, around, isBoxColour)!;
    expect(box).not.toBeNull();
    expect(box.count).toBeGreaterThan(2 * (dw + dh));
    const inner = { left: defect.left + 3, top: defect.top + 3, right: defect.right - 3, bottom: defect.bottom - 3 };
    expect(pixelsRect(page, inner, isBoxColour)).toBeNull();
    // The box sits where the reviewer drew it relative to the defect: compare the page's pixels with the shares.
    const bw = box.right - box.left;
    const bh = box.bottom - box.top;
    expect(dw / bw).toBeCloseTo(DEFECT.width / BOX.width, 1);
    expect(dh / bh).toBeCloseTo(DEFECT.height / BOX.height, 1);
    expect((defect.left - box.left) / bw).toBeCloseTo((DEFECT.x - BOX.x) / BOX.width, 1);
    expect((defect.top - box.top) / bh).toBeCloseTo((DEFECT.y - BOX.y) / BOX.height, 1);
  });

  it('names the model version with its measured figures and shows its heatmap', async () => {
    const integrator = await t.keyFor('INTEGRATOR');
    const link = ok(await t.gql(REPORT, { id: made.inspectionB, f: 'PDF' }, integrator)).createInspectionReport;
    const { res, bytes } = await download(link.url);
    expect(res.status).toBe(200);
    fs.writeFileSync(path.join(SCRATCH, 'report-model.pdf'), bytes);
    const text = (await pdfText(bytes)).join('\n');
    expect(text).toContain('Insulator B-12');
    expect(text).toContain(made.modelVersion);
    expect(text).toContain('AUROC 0.931');
    expect(text).toContain('precision at 95 % recall 0.750');
    expect(text).toContain(`Heatmap of ${made.modelVersion}`);
    expect(text).toContain('SAMPLED_QA');
    expect(text).toMatch(/found by the model/);
  });

  it('is the same facts as one HTML page that Chromium shows with its pictures and boxes', async () => {
    if (BROWSER_MISSING) return console.warn(`skipped: ${BROWSER_MISSING}`);
    const link = ok(await t.gql(REPORT, { id: made.inspectionA, f: 'HTML' })).createInspectionReport;
    const head = await fetch(link.url);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(head.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await head.text()).toContain('Mast 7 &amp; 8 &lt;east&gt;');
    const browser = await launchBrowser({ width: 1100, height: 900 });
    try {
      const page = await browser.context.newPage();
      const external: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('data:') && r.url() !== link.url) external.push(r.url());
      });
      // A link is good for any number of downloads until it expires.
      await page.goto(link.url);
      // biome-ignore lint/performance/useDomNodeTextContent: the text as the reader sees it, rendered.
      const text = await page.innerText('body');
      for (const fact of [DEVICE_NAME, 'CRITICAL', 'crack runs through the shed', 'Ana (reviewer)', 'ANOMALOUS', '2 observations']) {
        expect(text).toContain(fact);
      }
      const pictures = await page.$$eval('.pic img', (imgs) => imgs.map((i: any) => i.naturalWidth as number));
      expect(pictures.length).toBe(1);
      expect(pictures[0]).toBeGreaterThan(100);
      expect(await page.$$eval('.pic svg rect', (rects) => rects.length)).toBe(1);
      expect(await page.$$('script')).toHaveLength(0);
      expect(external).toEqual([]);
      await page.screenshot({ path: path.join(SCRATCH, 'report-inspection-html.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});

describe('survey report', () => {
  async function surveyUpload(surveyId: string, photos: Buffer[]) {
    const files = photos.map((b, i) => ({
      filename: `survey-${i}.png`,
      contentType: 'image/png',
      byteSize: b.length,
      sha256: crypto.createHash('sha256').update(b).digest('hex'),
    }));
    const tickets = ok(
      await t.gql(
        `mutation($s: ID!, $f: [UploadFileInput!]!) { requestSurveyUploads(surveyId: $s, files: $f) { uploadUrl uploadHeaders image { id } } }`,
        { s: surveyId, f: files },
      ),
    ).requestSurveyUploads;
    for (const [i, ticket] of tickets.entries()) {
      expect((await fetch(ticket.uploadUrl, { method: 'PUT', body: photos[i], headers: ticket.uploadHeaders })).status).toBe(200);
    }
    const ids = tickets.map((x: { image: { id: string } }) => x.image.id);
    ok(await t.gql(`mutation($ids: [ID!]!) { completeImageUploads(imageIds: $ids) { id deviceMatch } }`, { ids }));
    return ids as string[];
  }

  it('is refused until every image has found its device and every inspection has finished, then has a cover and a section per device', async () => {
    const survey = ok(await t.gql(`mutation { createSurvey(input: { name: "Line 12 flight", source: DRONE }) { id } }`)).createSurvey.id;
    const images = await surveyUpload(survey, [await defectPhoto(3), await defectPhoto(4)]);
    const empty = failure(await t.gql(SURVEY_REPORT, { id: survey }));
    expect(empty.extensions?.code).toBe('CONFLICT');
    expect(empty.message).toMatch(/no image placed on a device yet/);

    const type = `pole-${crypto.randomUUID().slice(0, 6)}`;
    const poles = [
      await newDevice('Pole 12-north', type, 'LOW', 52.1, 5.1),
      await newDevice('Pole 12-south', type, 'CRITICAL', 52.098, 5.103),
    ];
    for (const [i, image] of images.entries()) {
      ok(await t.gql(`mutation($i: ID!, $d: ID!) { assignImage(imageId: $i, deviceId: $d) { id } }`, { i: image, d: poles[i] }));
    }
    const waiting = failure(await t.gql(SURVEY_REPORT, { id: survey }));
    expect(waiting.extensions?.code).toBe('CONFLICT');
    expect(waiting.message).toMatch(/2 of its 2 inspections are still running or waiting to start: Pole 12-north \(PENDING\)/);

    const runs = ok(await t.gql(`mutation($s: ID!) { startSurvey(surveyId: $s) { id inspection { id } } }`, { s: survey })).startSurvey;
    for (const run of runs) expect((await waitForRun(t, run.inspection.id)).status).toBe('COMPLETED');
    const link = ok(await t.gql(SURVEY_REPORT, { id: survey, f: 'PDF' }, operator)).createSurveyReport;
    const { res, bytes } = await download(link.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/filename="survey-Line-12-flight-\d{4}-\d{2}-\d{2}\.pdf"/);
    const pages = await pdfText(bytes);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages[0]).toContain('Line 12 flight');
    expect(pages[0]).toContain('Devices in this survey');
    expect(pages[0]).toContain('2 uploaded: 2 on a device, 0 unassigned, 0 rejected');
    expect(pages[0]).toMatch(/Pole 12-north[\s\S]*Pole 12-south/);
    const sections = pages.slice(1).join('\n');
    expect(sections).toContain('DEVICE 1 OF 2');
    expect(sections).toContain('DEVICE 2 OF 2');
    expect(sections).toContain('COLD_START');
    renderPage(bytes, 1, 'report-survey-cover.png');
    fs.writeFileSync(path.join(SCRATCH, 'report-survey.pdf'), bytes);

    const html = await download(ok(await t.gql(SURVEY_REPORT, { id: survey, f: 'HTML' })).createSurveyReport.url);
    expect(html.res.status).toBe(200);
    const page = html.bytes.toString('utf8');
    expect(page).toContain('Pole 12-north');
    expect(page).toContain('Pole 12-south');
    expect(page.match(/<section class="report">/g)).toHaveLength(3);
  });
});

describe('refusals', () => {
  it('refuses an inspection that has not finished, an unknown one, and a REVIEWER key', async () => {
    const device = await newDevice('Pole waiting', `pole-${crypto.randomUUID().slice(0, 6)}`);
    const pending = await newInspection(device, daysAgo(0));
    await uploadImages(t, pending, [await defectPhoto(9)], { complete: false });
    const notStarted = failure(await t.gql(REPORT, { id: pending }));
    expect(notStarted.extensions).toMatchObject({ code: 'CONFLICT', field: 'inspectionId' });
    expect(notStarted.message).toMatch(/is still PENDING: its report can be made once detection has finished/);

    const raw = Buffer.from(pending, 'base64url').toString('utf8').split(':')[1];
    await t.app.db.prisma.inspection.update({ where: { id: raw }, data: { status: 'PROCESSING' } });
    expect(failure(await t.gql(REPORT, { id: pending })).message).toMatch(/is still PROCESSING/);

    const unknown = Buffer.from(`Inspection:${crypto.randomUUID()}`).toString('base64url');
    expect(failure(await t.gql(REPORT, { id: unknown })).extensions?.code).toBe('NOT_FOUND');
    expect(failure(await t.gql(REPORT, { id: made.inspectionA }, reviewer)).extensions?.code).toBe('FORBIDDEN');
    expect(failure(await t.gql(SURVEY_REPORT, { id: made.inspectionA })).extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('renders at most two reports at once; a third is refused with 503 and Retry-After until one is sent', async () => {
    const { url } = ok(await t.gql(REPORT, { id: made.inspectionA })).createInspectionReport;
    const token = url.split('/reports/')[1];
    // Two renders whose responses are not read yet hold both places.
    const held = [await t.app.services.reports.open(token), await t.app.services.reports.open(token)];
    const busy = await fetch(url);
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('5');
    expect(await busy.json()).toMatchObject({ error: 'BUSY' });
    for (const doc of held) doc.body.destroy();
    await until(
      async () => (await fetch(url)).status,
      (status) => status === 200,
    );
  });

  it('answers a bad, expired or wrong link with a 4xx JSON error', async () => {
    const { url } = ok(await t.gql(REPORT, { id: made.inspectionA })).createInspectionReport;
    const base = url.slice(0, url.indexOf('/reports/'));
    const token = url.slice(url.lastIndexOf('/') + 1);
    const tampered = await fetch(`${base}/reports/${tamperedToken(token)}`);
    expect(tampered.status).toBe(403);
    expect(await tampered.json()).toEqual({ error: 'INVALID', message: 'this link is not valid' });

    const secret = fs.readFileSync(path.join(t.dataDir, 'signing.key'), 'utf8').trim();
    const id = Buffer.from(made.inspectionA, 'base64url').toString('utf8').split(':')[1];
    const expired = await fetch(`${base}/reports/${signToken({ rpt: 'inspection', id, fmt: 'PDF' }, secret, new Date(Date.now() - 1000))}`);
    expect(expired.status).toBe(410);
    expect(((await expired.json()) as { error: string }).error).toBe('EXPIRED');

    const imageLink = await fetch(`${base}/reports/${signToken({ key: 'uploads/x' }, secret, new Date(Date.now() + 60_000))}`);
    expect(imageLink.status).toBe(403);
    expect(await imageLink.json()).toMatchObject({ error: 'WRONG_LINK' });
  });
});
