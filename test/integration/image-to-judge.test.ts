import crypto from 'node:crypto';
import { imageToJudge } from '../../src/detections/image-to-judge';
import { createDetectionWithOutcome } from '../../src/detections/detection-once';
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
  return {
    image,
    owner: inspection && { inspectionId: inspection.id, deviceId: inspection.deviceId, deviceType: inspection.device.type },
    detections: [],
  };
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

  it("reads the image's detections of the stages asked, newest first, as Prisma gives them (the result as JSON)", async () => {
    const prisma = t.app.db.prisma;
    const image = await prisma.image.findFirstOrThrow({ where: { inspectionId: { not: null } }, orderBy: { id: 'desc' } });
    const made = [];
    for (const [stage, version, at] of [
      ['SCREEN', 's1', '2026-05-06T07:00:00.000Z'],
      ['INSPECT', 'i1', '2026-05-06T07:00:01.000Z'],
      ['SCREEN', 's2', '2026-05-06T07:00:02.000Z'],
    ] as const) {
      made.push(
        await prisma.detection.create({
          data: {
            imageId: image.id,
            stage,
            detector: 'builtin',
            modelVersion: version,
            isAnomalous: stage === 'INSPECT',
            confidence: 0.1 + 0.2,
            costUsd: 0.001,
            result: { route: 'NORMAL', regions: [{ box: { x: 0.25, y: 0.5 }, type: 'crack', note: 'ü "quoted"' }], tiles: [null, 2] },
            createdAt: new Date(at),
          },
        }),
      );
    }
    const byPrisma = await prisma.detection.findMany({ where: { imageId: image.id }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    expect((await imageToJudge(prisma, image.id, ['SCREEN', 'INSPECT']))?.detections).toEqual(byPrisma);
    expect((await imageToJudge(prisma, image.id, ['SCREEN']))?.detections.map((d) => d.modelVersion)).toEqual(['s2', 's1']);
    expect((await imageToJudge(prisma, image.id, ['INSPECT']))?.detections).toEqual([made[1]]);
    expect((await imageToJudge(prisma, image.id))?.detections).toEqual([]);
    await prisma.detection.deleteMany({ where: { imageId: image.id } });
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

describe('a detection and its outcome, written in one statement', () => {
  const judged = {
    detector: 'builtin-screen',
    modelVersion: 'screen-v1',
    isAnomalous: false,
    confidence: 0.9731,
    costUsd: 0.0001,
    calls: 2,
    inspectAllCostUsd: 0.002,
    result: { flaggedTiles: [], pictures: [{ tile: null, flagged: false, confidence: 0.9731 }] },
  };

  async function imageWithRun() {
    const prisma = t.app.db.prisma;
    const image = await prisma.image.findFirstOrThrow({ where: { inspectionId: { not: null } }, orderBy: { id: 'desc' } });
    const run = await prisma.workflowRun.create({
      data: { inspectionId: image.inspectionId!, workflow: 'detect-inspection', engine: 'LOCAL' },
    });
    return { prisma, image, run };
  }

  it('returns the detection as Prisma reads it, and the run has the outcome (over an earlier one for the image)', async () => {
    const { prisma, image, run } = await imageWithRun();
    await prisma.workflowRunImage.create({ data: { runId: run.id, imageId: image.id, outcome: 'SKIPPED' } });
    const made = await createDetectionWithOutcome(prisma, { imageId: image.id, stage: 'SCREEN', runId: run.id }, judged, {
      outcome: 'CLEAR',
      screenModelVersion: 'screen-v1',
      inspectModelVersion: null,
    });
    expect(made).toEqual(await prisma.detection.findUniqueOrThrow({ where: { id: made!.id } }));
    expect(made).toMatchObject({ ...judged, imageId: image.id, stage: 'SCREEN', workflowRunId: run.id });
    expect(made!.createdAt).toBeInstanceOf(Date);
    expect(
      await prisma.workflowRunImage.findUniqueOrThrow({ where: { runId_imageId: { runId: run.id, imageId: image.id } } }),
    ).toMatchObject({
      outcome: 'CLEAR',
      screenModelVersion: 'screen-v1',
      inspectModelVersion: null,
    });
  });

  it('writes nothing and returns null when the image has that detection already (another attempt made it)', async () => {
    const { prisma, image, run } = await imageWithRun();
    const at = { imageId: image.id, stage: 'INSPECT' as const, runId: run.id };
    const inspectJudged = { ...judged, detector: 'builtin-inspect', modelVersion: 'inspect-v1' };
    const first = await createDetectionWithOutcome(prisma, at, inspectJudged, {
      outcome: 'NORMAL',
      screenModelVersion: 'screen-v1',
      inspectModelVersion: 'inspect-v1',
    });
    expect(first).not.toBeNull();
    const again = await createDetectionWithOutcome(
      prisma,
      at,
      { ...inspectJudged, confidence: 0.5 },
      {
        outcome: 'ANOMALY',
        screenModelVersion: null,
        inspectModelVersion: 'inspect-v1',
      },
    );
    expect(again).toBeNull();
    expect(await prisma.detection.findMany({ where: { imageId: image.id, stage: 'INSPECT', modelVersion: 'inspect-v1' } })).toEqual([
      first,
    ]);
    expect(
      await prisma.workflowRunImage.findUniqueOrThrow({ where: { runId_imageId: { runId: run.id, imageId: image.id } } }),
    ).toMatchObject({
      outcome: 'NORMAL',
      screenModelVersion: 'screen-v1',
    });
  });
});
