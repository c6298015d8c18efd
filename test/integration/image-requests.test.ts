import crypto from 'node:crypto';
import { findOrCreateImages, type RequestedFile } from '../../src/images/image-requests';
import { toGlobalId } from '../../src/common/global-id';
import { ok, startTestApp, type TestApp } from '../support/app';
import { seedFleet } from '../support/seed';

let t: TestApp;
let inspectionId: string;
beforeAll(async () => {
  t = await startTestApp();
  await seedFleet(t.app.db.prisma, { devices: 1, inspectionsPerDevice: 1, anomaliesPerInspection: 0 });
  inspectionId = (await t.app.db.prisma.inspection.findFirstOrThrow()).id;
});
afterAll(() => t.stop());

const file = (name: string): RequestedFile => ({
  filename: name,
  contentType: 'image/jpeg',
  byteSize: 1000,
  sha256: crypto.createHash('sha256').update(name).digest('hex'),
});

describe("the images of a request's files", () => {
  it('are found or created in at most three statements, however many files', async () => {
    const prisma = t.app.db.prisma;
    const statements: string[] = [];
    const stop = t.app.db.onQuery(({ sql }) => statements.push(sql));
    const known = await findOrCreateImages(prisma, { inspectionId }, [file('known-1'), file('known-2')]);
    statements.length = 0;
    const got = await findOrCreateImages(prisma, { inspectionId }, [
      ...Array.from({ length: 50 }, (_, i) => file(`new-${i}`)),
      file('known-1'),
    ]);
    stop();
    expect(got.size).toBe(51);
    expect(got.get(file('known-1').sha256)).toEqual({ image: known.get(file('known-1').sha256)?.image, found: true });
    expect([...got.values()].filter((e) => !e.found)).toHaveLength(50);
    // The app's own background work (webhook sender, sweeps) runs meanwhile: count what reads or writes images by sha256.
    expect(statements.filter((sql) => /"images"/.test(sql) && /sha256/.test(sql)).length).toBeLessThanOrEqual(3);
    expect(statements.filter((sql) => /"images"/.test(sql) && /sha256/.test(sql)).length).toBeGreaterThanOrEqual(2);
  });

  it('are one image per file when two requests of the same files race, the loser reading the winner rows', async () => {
    const prisma = t.app.db.prisma;
    const files = Array.from({ length: 800 }, (_, i) => file(`race-${i}`));
    // Both look before either writes: both find nothing, one inserts, the other skips every row. The second lists
    // the files the other way round. (Inserted in the order given, two such inserts can deadlock on PostgreSQL when
    // they overlap; here they rarely do, so this checks the outcome, not the lock order.)
    const [a, b] = await Promise.all([
      findOrCreateImages(prisma, { inspectionId }, files),
      findOrCreateImages(prisma, { inspectionId }, [...files].reverse()),
    ]);
    for (const f of files) expect(a.get(f.sha256)?.image.id).toBe(b.get(f.sha256)?.image.id);
    const created = [...a.values(), ...b.values()].filter((e) => !e.found);
    expect(created).toHaveLength(800);
    expect(await prisma.image.count({ where: { inspectionId, sha256: { in: files.map((f) => f.sha256) } } })).toBe(800);
  });

  it('keep the first description of a file listed twice', async () => {
    const twice = { ...file('twice'), filename: 'second.jpg' };
    const got = await findOrCreateImages(t.app.db.prisma, { inspectionId }, [{ ...file('twice'), filename: 'first.jpg' }, twice]);
    expect(got.size).toBe(1);
    expect(got.get(twice.sha256)?.image.filename).toBe('first.jpg');
  });

  it('list in the order they were asked for, though they are created together', async () => {
    const prisma = t.app.db.prisma;
    const { deviceId } = await prisma.inspection.findUniqueOrThrow({ where: { id: inspectionId } });
    const fresh = await prisma.inspection.create({ data: { deviceId, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' } });
    // Names whose sha256 order differs from the order asked: the rows are inserted by sha256.
    const names = Array.from({ length: 12 }, (_, i) => `ordered-${String(i).padStart(2, '0')}.jpg`);
    expect([...names].sort((a, b) => (file(a).sha256 < file(b).sha256 ? -1 : 1))).not.toEqual(names);
    await findOrCreateImages(prisma, { inspectionId: fresh.id }, names.map(file));
    const listed = ok(
      await t.gql('query($id: ID!) { inspection(id: $id) { images(first: 20) { nodes { filename } } } }', {
        id: toGlobalId('Inspection', fresh.id),
      }),
    ).inspection.images.nodes.map((n: { filename: string }) => n.filename);
    expect(listed).toEqual(names);
  });
});
