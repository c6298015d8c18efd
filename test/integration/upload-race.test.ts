import crypto from 'node:crypto';
import http from 'node:http';
import sharp from 'sharp';
import { fromGlobalId } from '../../src/common/global-id';
import { ok, startTestApp, type TestApp } from '../support/app';
import { deviceWithInspection } from '../support/workflow';

// Issue 16, items 3 and 7: a PUT whose body is still streaming is UPLOADING. No detection run takes it and no
// completion judges (or rejects) it; once its bytes are stored and it is completed, a run judges it, whichever
// came first: the run's start, its end, or the upload's end. Real HTTP (raw node:http for the half bodies),
// the local engine with auto-start, PGlite or PostgreSQL.

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ WORKFLOW_AUTO_START: 'true' });
});
afterAll(() => t?.stop());

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const photo = (seed: number) =>
  sharp({ create: { width: 320, height: 240, channels: 3, background: { r: seed % 256, g: (seed * 7) % 256, b: 90 } } })
    .png()
    .toBuffer();

interface Ticket {
  uploadUrl: string;
  uploadHeaders: Record<string, string>;
  image: { id: string };
}

async function request(inspectionId: string, files: Buffer[]): Promise<Ticket[]> {
  return ok(
    await t.gql(
      `mutation($i: ID!, $files: [UploadFileInput!]!) { requestImageUploads(inspectionId: $i, files: $files) { uploadUrl uploadHeaders image { id } problem { message } } }`,
      {
        i: inspectionId,
        files: files.map((b, i) => ({ filename: `f${i}.png`, contentType: 'image/png', byteSize: b.length, sha256: sha(b) })),
      },
    ),
  ).requestImageUploads;
}

const complete = async (ids: string[]) =>
  ok(await t.gql(`mutation($ids: [ID!]!) { completeImageUploads(imageIds: $ids) { id status rejection { reason } } }`, { ids }))
    .completeImageUploads as { id: string; status: string; rejection: unknown }[];

const put = (ticket: Ticket, body: Buffer) => fetch(ticket.uploadUrl, { method: 'PUT', body, headers: ticket.uploadHeaders });

const status = async (imageId: string) =>
  (await t.app.db.prisma.image.findUniqueOrThrow({ where: { id: fromGlobalId('Image', imageId, 'id') } })).status;

async function until(what: () => Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A PUT that sends the first half of the body and waits; `finish` sends the rest and resolves with the status code. */
async function halfPut(ticket: Ticket, body: Buffer) {
  const req = http.request(ticket.uploadUrl, { method: 'PUT', headers: ticket.uploadHeaders });
  const answered = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  answered.catch(() => undefined);
  req.write(body.subarray(0, Math.floor(body.length / 2)));
  // The server has claimed the image once its status left PENDING_UPLOAD.
  await until(async () => (await status(ticket.image.id)) !== 'PENDING_UPLOAD');
  return {
    finish: () => {
      req.end(body.subarray(Math.floor(body.length / 2)));
      return answered;
    },
    abort: () => req.destroy(),
  };
}

/** Each image of the inspection with the runs that recorded an outcome for it, and those runs' statuses. */
async function judged(inspectionId: string) {
  const raw = fromGlobalId('Inspection', inspectionId, 'id');
  const images = await t.app.db.prisma.image.findMany({ where: { inspectionId: raw }, include: { runImages: { include: { run: true } } } });
  return new Map(images.map((i) => [i.id, { status: i.status, runs: i.runImages.map((r) => r.run.status) }]));
}

const START = `mutation($id: ID!) { startInspection(inspectionId: $id) { id status } }`;

describe('an image whose body is still streaming when a run starts', () => {
  it('is neither taken nor rejected by the run or a completion, and is judged by exactly one run once it has arrived', async () => {
    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    const [a, b] = [await photo(1), await photo(2)];
    const [ta, tb] = await request(inspectionId, [a, b]);
    expect((await put(ta, a)).status).toBe(200);
    const streaming = await halfPut(tb, b);
    expect(await status(tb.image.id)).toBe('UPLOADING');

    // Completing both while B's body streams: A is READY, B is left as it is (not rejected); B is still awaited, so no auto-start.
    const done = await complete([ta.image.id, tb.image.id]);
    expect(done.map((i) => i.status)).toEqual(['READY', 'UPLOADING']);
    // An operator starts a run anyway: it takes A only, and ends.
    const first = ok(await t.gql(START, { id: inspectionId })).startInspection;
    await t.app.workflows.idle?.();
    const firstRun = await t.app.db.prisma.workflowRun.findUniqueOrThrow({ where: { id: fromGlobalId('WorkflowRun', first.id, 'id') } });
    expect([firstRun.status, firstRun.imagesTotal]).toEqual(['SUCCEEDED', 1]);
    expect(await status(tb.image.id)).toBe('UPLOADING');

    // The rest of B's body arrives: stored, then completed, and a follow-up run judges it.
    expect(await streaming.finish()).toBe(200);
    expect(await status(tb.image.id)).toBe('UPLOADED');
    expect((await complete([tb.image.id]))[0].status).toBe('READY');
    await t.app.workflows.idle?.();
    const images = await judged(inspectionId);
    const raw = (id: string) => fromGlobalId('Image', id, 'id');
    expect(images.get(raw(tb.image.id))).toEqual({ status: 'READY', runs: ['SUCCEEDED'] });
    // The follow-up judged B only: A keeps the one outcome of the first run.
    expect(images.get(raw(ta.image.id))).toEqual({ status: 'READY', runs: ['SUCCEEDED'] });
    const runs = await t.app.db.prisma.workflowRun.findMany({
      where: { inspectionId: fromGlobalId('Inspection', inspectionId, 'id') },
      orderBy: { createdAt: 'asc' },
    });
    expect(runs.map((r) => [r.status, r.onlyUnjudged, r.imagesTotal])).toEqual([
      ['SUCCEEDED', false, 1],
      ['SUCCEEDED', true, 1],
    ]);

    // An operator's run judges every image again (e.g. after a new model is deployed).
    ok(await t.gql(START, { id: inspectionId }));
    await t.app.workflows.idle?.();
    const again = await judged(inspectionId);
    expect([...again.values()].map((i) => i.runs)).toEqual([
      ['SUCCEEDED', 'SUCCEEDED'],
      ['SUCCEEDED', 'SUCCEEDED'],
    ]);
  });

  it('is judged exactly once when its body ends while the run is under way', async () => {
    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    const files = await Promise.all([3, 4, 5, 6].map(photo));
    const tickets = await request(inspectionId, files);
    for (const i of [0, 1, 2]) expect((await put(tickets[i], files[i])).status).toBe(200);
    const streaming = await halfPut(tickets[3], files[3]);
    ok(await t.gql(START, { id: inspectionId }));
    // The body ends and the upload completes while the run begins, runs or ends: any order must judge it.
    expect(await streaming.finish()).toBe(200);
    expect((await complete(tickets.map((x) => x.image.id))).map((i) => i.status)).toEqual(['READY', 'READY', 'READY', 'READY']);
    await t.app.workflows.idle?.();
    const images = await judged(inspectionId);
    expect(images.size).toBe(4);
    // Whichever run took it, each image has exactly one outcome: a follow-up takes only what no run judged.
    for (const image of images.values()) expect(image).toEqual({ status: 'READY', runs: ['SUCCEEDED'] });
  });

  it('goes back to PENDING_UPLOAD when the body is cut off, is skipped by a run meanwhile, and can be sent again', async () => {
    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    const [a, b] = [await photo(7), await photo(8)];
    const [ta, tb] = await request(inspectionId, [a, b]);
    expect((await put(ta, a)).status).toBe(200);
    const streaming = await halfPut(tb, b);
    expect((await complete([ta.image.id]))[0].status).toBe('READY');
    const first = ok(await t.gql(START, { id: inspectionId })).startInspection;
    await t.app.workflows.idle?.();
    expect(
      (await t.app.db.prisma.workflowRun.findUniqueOrThrow({ where: { id: fromGlobalId('WorkflowRun', first.id, 'id') } })).imagesTotal,
    ).toBe(1);

    streaming.abort();
    await until(async () => (await status(tb.image.id)) === 'PENDING_UPLOAD');
    expect((await put(tb, b)).status).toBe(200);
    expect((await put(tb, b)).status).toBe(409);
    expect((await complete([tb.image.id]))[0].status).toBe('READY');
    await t.app.workflows.idle?.();
    const images = await judged(inspectionId);
    expect(images.get(fromGlobalId('Image', tb.image.id, 'id'))).toEqual({ status: 'READY', runs: ['SUCCEEDED'] });
  });

  it('gives up an upload whose process stopped mid-body, so the file can be requested and sent again', async () => {
    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    const b = await photo(9);
    const [tb] = await request(inspectionId, [b]);
    const id = fromGlobalId('Image', tb.image.id, 'id');
    // What a process that died while the body streamed leaves: UPLOADING, no longer refreshed.
    await t.app.db.prisma
      .$executeRaw`UPDATE images SET status = 'UPLOADING', updated_at = now() - interval '10 minutes' WHERE id = ${id}::uuid`;
    const [again] = await request(inspectionId, [b]);
    expect(again.image.id).toBe(tb.image.id);
    expect(again.uploadUrl).toEqual(expect.any(String));
    expect((await put(again, b)).status).toBe(200);
    expect((await complete([tb.image.id]))[0].status).toBe('READY');
  });
});
