import crypto from 'node:crypto';
import { imageToJudge } from '../../src/detections/image-to-judge';
import { startTestApp, type TestApp } from '../support/app';
import { seedFleet } from '../support/seed';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await seedFleet(t.app.db.prisma, { devices: 2, inspectionsPerDevice: 1, anomaliesPerInspection: 1 });
});
afterAll(() => t.stop());

/** What the workflow steps read with Prisma's include before: the image, its tiles in order, its inspection and device. */
async function withInclude(id: string) {
  const row = await t.app.db.prisma.image.findUniqueOrThrow({
    where: { id },
    include: { tiles: { orderBy: { index: 'asc' } }, inspection: { include: { device: true } } },
  });
  const { inspection, ...image } = row;
  return { image, owner: inspection && { inspectionId: inspection.id, deviceId: inspection.deviceId, deviceType: inspection.device.type } };
}

describe('the image a workflow step judges, read in one statement', () => {
  it('is what Prisma returns: every field, dates as Date, tiles in index order, and the device', async () => {
    const prisma = t.app.db.prisma;
    const image = await prisma.image.findFirstOrThrow({ where: { inspectionId: { not: null } }, orderBy: { id: 'asc' } });
    await prisma.image.update({ where: { id: image.id }, data: { capturedAt: new Date('2026-05-06T07:08:09.123Z'), latitude: 0.1 + 0.2 } });
    // Written out of order: the read puts them in order.
    for (const index of [2, 0, 1]) {
      await prisma.imageTile.create({
        data: {
          imageId: image.id,
          index,
          x: index * 448,
          y: 0,
          width: 512,
          height: 512,
          objectKey: `derived/${image.id}/tiles/${index}.jpg`,
        },
      });
    }
    const got = await imageToJudge(prisma, image.id);
    expect(got).toEqual(await withInclude(image.id));
    expect(got?.image.tiles.map((tile) => tile.index)).toEqual([0, 1, 2]);
    expect(got?.image.capturedAt).toEqual(new Date('2026-05-06T07:08:09.123Z'));
    expect(got?.owner?.deviceType).toBeTruthy();
  });

  it('has no tiles for a picture small enough to be judged whole', async () => {
    const prisma = t.app.db.prisma;
    const image = await prisma.image.findFirstOrThrow({ where: { inspectionId: { not: null }, tiles: { none: {} } } });
    const got = await imageToJudge(prisma, image.id);
    expect(got).toEqual(await withInclude(image.id));
    expect(got?.image.tiles).toEqual([]);
  });

  it('has no owner while a survey image has not found its device, and is null for an unknown or malformed id', async () => {
    const prisma = t.app.db.prisma;
    const survey = await prisma.survey.create({ data: { name: 'flight 7', source: 'DRONE', requestedBy: 'test' } });
    const orphan = await prisma.image.create({
      data: {
        surveyId: survey.id,
        objectKey: `raw/${crypto.randomUUID()}.jpg`,
        sha256: 'a'.repeat(64),
        contentType: 'image/jpeg',
        bytes: 10,
      },
    });
    const got = await imageToJudge(prisma, orphan.id);
    expect(got?.owner).toBeNull();
    expect(got?.image).toEqual((await withInclude(orphan.id)).image);
    expect(await imageToJudge(prisma, crypto.randomUUID())).toBeNull();
    expect(await imageToJudge(prisma, 'not-a-uuid')).toBeNull();
  });
});
