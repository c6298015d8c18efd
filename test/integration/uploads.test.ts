import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { buildVigilSchema, resolverContainer } from '../../src/app/schema';
import { loadConfig } from '../../src/config/config';
import { fromGlobalId } from '../../src/common/global-id';
import { createHttpServer } from '../../src/http/server';
import { createLogger } from '../../src/logging/logger';
import { signToken } from '../../src/uploads/signed-token';
import { ok, startTestApp, type TestApp } from '../support/app';
import { tamperedToken } from '../support/tokens';

const SECRET = 'test-upload-signing-secret-0123456789abcdef';
let t: TestApp;
let inspectionId: string;

beforeAll(async () => {
  t = await startTestApp({ UPLOAD_SIGNING_SECRET: SECRET, UPLOAD_MAX_BYTES: String(3 * 1024 * 1024) });
  const { createDevice } = ok(
    await t.gql(`mutation { createDevice(input: { externalId: "ins-42", name: "Insulator 42", type: "insulator" }) { id } }`),
  );
  inspectionId = ok(
    await t.gql(
      `mutation($d: ID!) { createInspection(input: { deviceId: $d, source: DRONE, capturedAt: "2026-05-01T08:00:00Z" }) { id } }`,
      { d: createDevice.id },
    ),
  ).createInspection.id;
});
afterAll(() => t.stop());

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

async function dronePhoto() {
  return sharp({ create: { width: 1200, height: 800, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 30 } } })
    .jpeg({ quality: 85 })
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: 'DJI', Model: 'M300 RTK' },
      IFD2: { DateTimeOriginal: '2026:05:01 10:11:12', OffsetTimeOriginal: '+02:00' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 22/1 1272/100', GPSLongitudeRef: 'E', GPSLongitude: '4/1 53/1 4272/100' },
    })
    .toBuffer();
}

const REQUEST = `mutation($i: ID!, $files: [UploadFileInput!]!) {
  requestImageUploads(inspectionId: $i, files: $files) { filename uploadUrl uploadHeaders expiresAt image { id status filename } problem { code field message } }
}`;
const COMPLETE = `mutation($ids: [ID!]!) {
  completeImageUploads(imageIds: $ids) {
    id status width height capturedAt latitude longitude camera url thumbnailUrl filename
    rejection { reason message } tiles { index x y width height }
  }
}`;

async function request(files: { filename: string; contentType: string; byteSize: number; sha256: string }[]) {
  return ok(await t.gql(REQUEST, { i: inspectionId, files })).requestImageUploads;
}

const put = (url: string, body: Buffer, headers: Record<string, string>) => fetch(url, { method: 'PUT', body, headers });

/** Requests, uploads and completes one file as a client would. */
async function upload(bytes: Buffer, filename = 'frame.jpg', contentType = 'image/jpeg', announced = sha(bytes)) {
  const [ticket] = await request([{ filename, contentType, byteSize: bytes.length, sha256: announced }]);
  expect(ticket.problem).toBeNull();
  const res = await put(ticket.uploadUrl, bytes, ticket.uploadHeaders);
  expect(res.status).toBe(200);
  const [image] = ok(await t.gql(COMPLETE, { ids: [ticket.image.id] })).completeImageUploads;
  return { ticket, image };
}

function storedKeys(): string[] {
  const root = path.join(t.dataDir, 'objects');
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(root, f)).isFile() && !f.endsWith('.type'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

describe('image uploads', () => {
  it('take a photo from request to READY: EXIF facts, oriented size, links and tiles', async () => {
    const photo = await dronePhoto();
    const { image } = await upload(photo, 'DJI_0042.JPG');
    expect(image).toMatchObject({
      status: 'READY',
      width: 800,
      height: 1200,
      camera: 'DJI M300 RTK',
      filename: 'DJI_0042.JPG',
      rejection: null,
    });
    expect(image.capturedAt).toBe('2026-05-01T08:11:12.000Z');
    expect(image.latitude).toBeCloseTo(52.3702, 4);
    expect(image.longitude).toBeCloseTo(4.8952, 4);
    expect(image.tiles).toHaveLength(6);
    expect(image.tiles[5]).toEqual({ index: 5, x: 288, y: 688, width: 512, height: 512 });
    const full = await fetch(image.url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await full.arrayBuffer())).metadata();
    expect([meta.width, meta.height, meta.exif]).toEqual([800, 1200, undefined]);
    const thumb = await sharp(Buffer.from(await (await fetch(image.thumbnailUrl)).arrayBuffer())).metadata();
    expect(Math.max(thumb.width!, thumb.height!)).toBe(256);
    const q = `query($id: ID!) { inspection(id: $id) { imageCount images(status: [READY]) { totalCount } } }`;
    const inspection = ok(await t.gql(q, { id: inspectionId })).inspection;
    expect(inspection.images.totalCount).toBeGreaterThanOrEqual(1);
  });

  it('find the existing image when the same bytes are requested again, and completing twice changes nothing', async () => {
    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#447788' } })
      .png()
      .toBuffer();
    const first = await upload(photo, 'a.png', 'image/png');
    const [again] = await request([{ filename: 'copy-of-a.png', contentType: 'image/png', byteSize: photo.length, sha256: sha(photo) }]);
    expect(again.image.id).toBe(first.ticket.image.id);
    expect(again.uploadUrl).toBeNull();
    const [twice] = ok(await t.gql(COMPLETE, { ids: [first.ticket.image.id] })).completeImageUploads;
    expect(twice.status).toBe('READY');
    expect(twice.tiles).toHaveLength(2);
  });

  it('register a file listed twice in one request once, and give two racing requests of the same files the same images', async () => {
    const files = Array.from({ length: 30 }, (_, i) => ({
      filename: `batch/f${i}.png`,
      contentType: 'image/png',
      byteSize: 100 + i,
      sha256: sha(Buffer.from(`racing file ${i}`)),
    }));
    const [a, b] = await Promise.all([request([...files, { ...files[0], filename: 'again.png' }]), request([...files].reverse())]);
    expect(a).toHaveLength(31);
    expect(a[30].image.id).toBe(a[0].image.id);
    expect(a[30].filename).toBe('f0.png');
    expect(new Set(a.map((x: any) => x.image.id)).size).toBe(30);
    expect(b.map((x: any) => x.image.id)).toEqual(
      a
        .slice(0, 30)
        .map((x: any) => x.image.id)
        .reverse(),
    );
    for (const ticket of [...a, ...b]) {
      expect(ticket.problem).toBeNull();
      expect(ticket.image.status).toBe('PENDING_UPLOAD');
      expect(ticket.uploadUrl).toMatch(/\/uploads\//);
    }
  });

  it('complete several images in one call, two at a time, answering in the order asked (a repeated id once judged)', async () => {
    const photos = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        sharp({ create: { width: 300 + 10 * i, height: 200, channels: 3, background: { r: 40 * i, g: 90, b: 200 - 30 * i } } })
          .png()
          .toBuffer(),
      ),
    );
    // An inspection of its own: a run started by the other tests' uploads (with WORKFLOW_AUTO_START) completes
    // UPLOADED images of its inspection, and would read these too.
    const { createDevice } = ok(
      await t.gql(`mutation { createDevice(input: { externalId: "ins-43", name: "Insulator 43", type: "insulator" }) { id } }`),
    );
    const own = ok(
      await t.gql(
        `mutation($d: ID!) { createInspection(input: { deviceId: $d, source: DRONE, capturedAt: "2026-05-02T08:00:00Z" }) { id } }`,
        {
          d: createDevice.id,
        },
      ),
    ).createInspection.id;
    const files = photos.map((b, i) => ({ filename: `many-${i}.png`, contentType: 'image/png', byteSize: b.length, sha256: sha(b) }));
    const tickets = ok(await t.gql(REQUEST, { i: own, files })).requestImageUploads;
    for (const [i, ticket] of tickets.entries()) expect((await put(ticket.uploadUrl, photos[i], ticket.uploadHeaders)).status).toBe(200);
    const ids = [3, 0, 4, 3, 1, 2].map((i) => tickets[i].image.id);
    const readyBefore = await t.app.db.prisma.image.count({ where: { status: 'READY' } });
    // Each completion reads its upload's bytes once: held a little, the reads show how many run at once.
    const store = t.app.objectStore.store;
    const get = store.get.bind(store);
    const reads: string[] = [];
    let inFlight = 0;
    let most = 0;
    store.get = async (key: string) => {
      reads.push(key);
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 50));
      inFlight--;
      return get(key);
    };
    let done: { id: string; status: string; width: number }[];
    try {
      done = ok(await t.gql(COMPLETE, { ids })).completeImageUploads;
    } finally {
      store.get = get;
    }
    expect(reads).toHaveLength(5);
    expect(new Set(reads).size).toBe(5);
    expect(most).toBe(2);
    expect(done.map((image: { id: string }) => image.id)).toEqual(ids);
    expect(done.map((image: { width: number; status: string }) => [image.status, image.width])).toEqual(
      [3, 0, 4, 3, 1, 2].map((i) => ['READY', 300 + 10 * i]),
    );
    expect(await t.app.db.prisma.image.count({ where: { status: 'READY' } })).toBe(readyBefore + 5);
  });

  it('make each link single-use, expiring and tamper-proof', async () => {
    const photo = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#123456' } })
      .jpeg()
      .toBuffer();
    const [ticket] = await request([{ filename: 'once.jpg', contentType: 'image/jpeg', byteSize: photo.length, sha256: sha(photo) }]);
    const token = ticket.uploadUrl.split('/uploads/')[1];
    const tampered = `${t.app.url}/uploads/${tamperedToken(token)}`;
    expect((await put(tampered, photo, ticket.uploadHeaders)).status).toBe(403);
    const expired = signToken({ img: 'x', len: photo.length, typ: 'image/jpeg' }, SECRET, new Date(Date.now() - 1000));
    const gone = await put(`${t.app.url}/uploads/${expired}`, photo, ticket.uploadHeaders);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ error: 'EXPIRED' });
    expect((await put(ticket.uploadUrl, photo, ticket.uploadHeaders)).status).toBe(200);
    const reused = await put(ticket.uploadUrl, photo, ticket.uploadHeaders);
    expect(reused.status).toBe(409);
    expect(await reused.json()).toMatchObject({ error: 'ALREADY_USED' });
  });

  it('refuse a body of another size than announced and let the file be uploaded again', async () => {
    const photo = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#654321' } })
      .jpeg()
      .toBuffer();
    const [ticket] = await request([{ filename: 'size.jpg', contentType: 'image/jpeg', byteSize: photo.length, sha256: sha(photo) }]);
    const longer = Buffer.concat([photo, Buffer.alloc(100)]);
    const res = await put(ticket.uploadUrl, longer, { 'content-type': 'image/jpeg' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'SIZE_MISMATCH' });
    expect((await put(ticket.uploadUrl, photo, ticket.uploadHeaders)).status).toBe(200);
  });

  const truncatedJpeg = async () => {
    const full = await sharp({
      create: { width: 900, height: 700, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 50 } },
    })
      .jpeg()
      .toBuffer();
    return full.subarray(0, Math.floor(full.length / 2));
  };
  const pngBomb = async () => {
    const png = Buffer.from(
      await sharp({ create: { width: 100, height: 100, channels: 3, background: '#808080' } })
        .png()
        .toBuffer(),
    );
    png.writeUInt32BE(30000, 16);
    png.writeUInt32BE(30000, 20);
    png.writeUInt32BE(zlib.crc32(png.subarray(12, 29)) >>> 0, 29);
    return png;
  };

  it.each([
    ['a truncated JPEG', truncatedJpeg, 'image/jpeg', 'CORRUPT'],
    ['a PNG declaring 30000×30000 pixels', pngBomb, 'image/png', 'TOO_MANY_PIXELS'],
    ['a text file named .jpg', async () => Buffer.from('notes: pole 12 leans a bit\n'.repeat(10)), 'image/jpeg', 'UNSUPPORTED_TYPE'],
    [
      'an HTML page named .png',
      async () => Buffer.from('<!doctype html><script>fetch("/steal")</script>'),
      'image/png',
      'UNSUPPORTED_TYPE',
    ],
    [
      'a GIF/JS polyglot named .jpg',
      async () => Buffer.from('GIF89a/*\x00\x00\x00*/=1;alert(document.cookie)//'),
      'image/jpeg',
      'UNSUPPORTED_TYPE',
    ],
  ])('reject %s with its reason and keep no bytes of it', async (_what, make, contentType, reason) => {
    const bytes = await make();
    const { image } = await upload(bytes, 'x.jpg', contentType);
    expect(image.status).toBe('REJECTED');
    expect(image.rejection.reason).toBe(reason);
    expect(image.rejection.message.length).toBeGreaterThan(10);
    expect(image.url).toBeNull();
    expect(storedKeys().filter((k) => k.includes(Buffer.from(image.id, 'base64url').toString().split(':')[1]))).toEqual([]);
  });

  it('reject bytes that do not match the announced sha256', async () => {
    const photo = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#111111' } })
      .jpeg()
      .toBuffer();
    const { image } = await upload(photo, 'mismatch.jpg', 'image/jpeg', sha(Buffer.from('something else')));
    expect(image.rejection.reason).toBe('CHECKSUM_MISMATCH');
  });

  it('report bad entries of a request one by one and register the good ones', async () => {
    const good = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#222222' } })
      .jpeg()
      .toBuffer();
    const tickets = await request([
      { filename: 'empty.jpg', contentType: 'image/jpeg', byteSize: 0, sha256: sha(Buffer.alloc(0)) },
      { filename: 'huge.jpg', contentType: 'image/jpeg', byteSize: 4 * 1024 * 1024, sha256: 'a'.repeat(64) },
      { filename: 'x'.repeat(10_000), contentType: 'image/jpeg', byteSize: 100, sha256: 'b'.repeat(64) },
      { filename: 'scan.gif', contentType: 'image/gif', byteSize: 100, sha256: 'c'.repeat(64) },
      { filename: 'bad-hash.jpg', contentType: 'image/jpeg', byteSize: 100, sha256: 'not-a-hash' },
      { filename: '../../etc/passwd', contentType: 'image/jpeg', byteSize: good.length, sha256: sha(good) },
    ]);
    expect(tickets.map((x: any) => x.problem?.code ?? null)).toEqual([
      'EMPTY',
      'TOO_LARGE',
      'BAD_USER_INPUT',
      'UNSUPPORTED_TYPE',
      'BAD_USER_INPUT',
      null,
    ]);
    expect(tickets[2].problem.field).toBe('filename');
    expect(tickets[2].filename.length).toBe(255);
    const traversal = tickets[5];
    expect(traversal.image.filename).toBe('passwd');
    expect((await put(traversal.uploadUrl, good, traversal.uploadHeaders)).status).toBe(200);
    expect(fs.existsSync(path.join(t.dataDir, 'etc'))).toBe(false);
    expect(storedKeys().some((k) => k.includes('passwd'))).toBe(false);
  });

  const partials = () => {
    const root = path.join(t.dataDir, 'objects');
    return fs.existsSync(root) ? (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.partial')) : [];
  };
  const until = async (what: () => Promise<boolean> | boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it('clean up after a client that disconnects mid-body, and accept the same link again', async () => {
    // A detection run the earlier tests started on this inspection may still be running: it never takes an image whose
    // bytes are still arriving (UPLOADING; see upload-race.test.ts), so nothing waits for it.
    const photo = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#335577' } })
      .jpeg()
      .toBuffer();
    const [ticket] = await request([{ filename: 'cut.jpg', contentType: 'image/jpeg', byteSize: photo.length, sha256: sha(photo) }]);
    const id = fromGlobalId('Image', ticket.image.id, 'id');
    const req = http.request(ticket.uploadUrl, { method: 'PUT', headers: ticket.uploadHeaders });
    req.on('error', () => {});
    req.write(photo.subarray(0, Math.floor(photo.length / 2)));
    // The server has the half body (and its .partial file) before the socket goes away.
    await until(() => partials().length > 0);
    expect((await t.app.db.prisma.image.findUniqueOrThrow({ where: { id } })).status).toBe('UPLOADING');
    req.destroy();
    await until(
      async () => partials().length === 0 && (await t.app.db.prisma.image.findUnique({ where: { id } }))?.status === 'PENDING_UPLOAD',
    );
    expect((await put(ticket.uploadUrl, photo, ticket.uploadHeaders)).status).toBe(200);
    expect((await put(ticket.uploadUrl, photo, ticket.uploadHeaders)).status).toBe(409);
    const [image] = ok(await t.gql(COMPLETE, { ids: [ticket.image.id] })).completeImageUploads;
    expect(image.status).toBe('READY');
  });

  it('never write upload or download tokens to the request log', async () => {
    const logged: string[] = [];
    const log = createLogger({ logLevel: 'info' }, { write: (line: string) => void logged.push(line) });
    const config = loadConfig({ PORT: '0', LOG_LEVEL: 'info', UPLOAD_SIGNING_SECRET: SECRET });
    const services = t.app.services;
    const server = await createHttpServer({
      config,
      log,
      schema: buildVigilSchema(resolverContainer(services)),
      services,
      events: t.app.events,
      readiness: {},
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    let uploadToken = '';
    let downloadToken = '';
    const requestLines = () => logged.filter((l) => JSON.parse(l).msg === 'request');
    try {
      const base = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
      const photo = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#775533' } })
        .jpeg()
        .toBuffer();
      const [ticket] = await request([{ filename: 'log.jpg', contentType: 'image/jpeg', byteSize: photo.length, sha256: sha(photo) }]);
      uploadToken = ticket.uploadUrl.split('/uploads/')[1];
      // No kept-alive connections: server.close() below would wait for them.
      const uploaded = await put(`${base}/uploads/${uploadToken}`, photo, { ...ticket.uploadHeaders, connection: 'close' });
      await uploaded.arrayBuffer();
      expect(uploaded.status).toBe(200);
      const [image] = ok(await t.gql(COMPLETE, { ids: [ticket.image.id] })).completeImageUploads;
      downloadToken = image.url.split('/objects/')[1];
      const download = await fetch(`${base}/objects/${downloadToken}?x=1`, { headers: { connection: 'close' } });
      expect(download.status).toBe(200);
      await download.arrayBuffer();
      // A streamed response is logged on its 'finish', which can come after the client has read the body.
      // Wait for it before closing: closing first may destroy the socket before 'finish' and lose the line.
      for (let waited = 0; requestLines().length < 2 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await server.close();
    }
    const lines = requestLines();
    expect(lines.map((l) => JSON.parse(l).url)).toEqual(['/uploads/…', '/objects/…']);
    const all = logged.join('\n');
    for (const token of [uploadToken, downloadToken]) {
      expect(all).not.toContain(token);
      expect(all).not.toContain(token.split('.')[1]);
    }
  });

  it('refuse a link of the wrong kind with a plain 4xx', async () => {
    const uploadToken = signToken({ img: crypto.randomUUID(), len: 10, typ: 'image/jpeg' }, SECRET, new Date(Date.now() + 60_000));
    const get = await fetch(`${t.app.url}/objects/${uploadToken}`);
    expect(get.status).toBeGreaterThanOrEqual(400);
    expect(get.status).toBeLessThan(500);
    expect(((await get.json()) as { message: string }).message).toMatch(/upload/);
    const downloadToken = signToken({ key: 'uploads/x' }, SECRET, new Date(Date.now() + 60_000));
    const putRes = await put(`${t.app.url}/uploads/${downloadToken}`, Buffer.alloc(10), { 'content-type': 'image/jpeg' });
    expect(putRes.status).toBeGreaterThanOrEqual(400);
    expect(putRes.status).toBeLessThan(500);
    expect(((await putRes.json()) as { message: string }).message).toMatch(/download/);
  });

  it('leave no orphans: every stored object belongs to an image, and REJECTED images own none', async () => {
    const images = await t.app.db.prisma.image.findMany({ include: { tiles: true } });
    const owned = new Set(
      images.flatMap((i) => [
        ...(i.status === 'REJECTED' ? [] : [i.objectKey]),
        ...(i.normalizedKey ? [i.normalizedKey] : []),
        ...(i.thumbnailKey ? [i.thumbnailKey] : []),
        ...i.tiles.map((x) => x.objectKey),
      ]),
    );
    const stored = storedKeys();
    expect(stored.filter((k) => !owned.has(k))).toEqual([]);
    for (const i of images.filter((x) => x.status === 'REJECTED')) {
      expect(await t.app.objectStore.store.head(i.objectKey)).toBeNull();
      expect(i.normalizedKey).toBeNull();
    }
    expect((await fetch(`${t.app.url}/healthz`)).status).toBe(200);
  });
});
