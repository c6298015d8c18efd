import crypto from 'node:crypto';
import { type PrismaClient } from '../../src/generated/prisma/client';
import { startTestApp, type TestApp } from '../support/app';
import { storedImage } from '../support/seed';
import { eventually } from '../support/subscriptions';

// The repair tracker on a device whose run found many things at once (a drone frame's tiles, a survey): every
// observation opens or joins a defect, in a number of statements that does not grow with the observations, and a
// second look finds nothing left to do and writes nothing.

let t: TestApp;
const heard: { defectId: string; deviceId: string; change: string }[] = [];
beforeAll(async () => {
  t = await startTestApp();
  void (async () => {
    for await (const e of t.app.events.subscribe('DEFECT_CHANGED')) heard.push(e);
  })();
});

afterAll(() => t?.stop());

/** A device with one inspection whose picture shows `count` cracks side by side (boxes that do not overlap). */
async function deviceWithCracks(prisma: PrismaClient, count: number) {
  const device = await prisma.device.create({
    data: { externalId: `tracked-${crypto.randomUUID()}`, name: 'Tracked', type: 'pole', criticality: 'HIGH' },
  });
  const inspection = await prisma.inspection.create({
    data: { deviceId: device.id, source: 'DRONE', status: 'COMPLETED', capturedAt: new Date('2026-11-01T10:00:00Z'), requestedBy: 'test' },
  });
  const image = await storedImage(prisma, inspection.id);
  const side = 1 / count;
  await prisma.anomaly.createMany({
    data: Array.from({ length: count }, (_, i) => ({
      imageId: image.id,
      inspectionId: inspection.id,
      deviceId: device.id,
      regionIndex: i,
      type: 'crack',
      confidence: 0.5 + i / (4 * count),
      boxX: i * side,
      boxY: 0.1,
      boxWidth: side * 0.8,
      boxHeight: 0.2,
      source: 'MODEL' as const,
    })),
  });
  return device;
}

/** What tracking the device ran: the statements on anomalies and defects. */
async function tracked(deviceId: string): Promise<string[]> {
  const statements: string[] = [];
  const stop = t.app.db.onQuery(({ sql }) => {
    if (/"?(anomalies|defects)"?/.test(sql)) statements.push(sql);
  });
  try {
    await t.app.services.defectTracker.track(deviceId);
  } finally {
    stop();
  }
  return statements;
}

describe('tracking many observations at once', () => {
  it('opens a defect for each, links each with its severity, and runs as many statements for 40 as for 2', async () => {
    const prisma = t.app.db.prisma;
    const few = await deviceWithCracks(prisma, 2);
    const many = await deviceWithCracks(prisma, 40);
    const forFew = await tracked(few.id);
    const forMany = await tracked(many.id);

    const defects = await prisma.defect.findMany({ where: { deviceId: many.id }, orderBy: { id: 'asc' } });
    const anomalies = await prisma.anomaly.findMany({ where: { deviceId: many.id }, orderBy: { regionIndex: 'asc' } });
    expect(defects).toHaveLength(40);
    expect(new Set(anomalies.map((a) => a.defectId)).size).toBe(40);
    for (const a of anomalies) {
      const d = defects.find((x) => x.id === a.defectId)!;
      expect(a.severity).not.toBeNull();
      expect([a.regionIndex, d.status, d.severity, d.observationCount, d.confidence, d.boxX]).toEqual([
        a.regionIndex,
        'OPEN',
        a.severity,
        1,
        a.confidence,
        a.boxX,
      ]);
      expect(a.updatedAt.getTime()).toBeGreaterThanOrEqual(a.createdAt.getTime());
    }
    // Opened in the order seen: time-ordered ids follow the regions.
    expect(anomalies.map((a) => a.defectId)).toEqual(defects.map((d) => d.id));
    // Each opening is announced once.
    await eventually(() => heard.filter((e) => e.deviceId === many.id).length >= 40, 'an OPENED event for each defect');
    expect(heard.filter((e) => e.deviceId === many.id).map((e) => [e.defectId, e.change])).toEqual(defects.map((d) => [d.id, 'OPENED']));

    expect(forMany.length).toBe(forFew.length);
    expect(forMany.length).toBeLessThanOrEqual(10);
  });

  it('finds nothing left to do when it looks again, and writes nothing', async () => {
    const prisma = t.app.db.prisma;
    const device = await deviceWithCracks(prisma, 5);
    await tracked(device.id);
    const before = await prisma.defect.findMany({ where: { deviceId: device.id }, orderBy: { id: 'asc' } });
    const again = await tracked(device.id);
    expect(again.filter((sql) => /^\s*(UPDATE|INSERT|DELETE)/i.test(sql) && !/FOR UPDATE/i.test(sql))).toEqual([
      expect.stringMatching(/UPDATE anomalies a SET defect_id = NULL/),
    ]);
    expect(await prisma.defect.findMany({ where: { deviceId: device.id }, orderBy: { id: 'asc' } })).toEqual(before);
  });

  it('joins a new observation to the defect it overlaps and rates it again from both', async () => {
    const prisma = t.app.db.prisma;
    const device = await deviceWithCracks(prisma, 3);
    await tracked(device.id);
    const [first] = await prisma.anomaly.findMany({ where: { deviceId: device.id }, orderBy: { regionIndex: 'asc' }, take: 1 });
    const later = await prisma.inspection.create({
      data: {
        deviceId: device.id,
        source: 'DRONE',
        status: 'COMPLETED',
        capturedAt: new Date('2026-11-20T10:00:00Z'),
        requestedBy: 'test',
      },
    });
    const image = await storedImage(prisma, later.id);
    const { boxX, boxY, boxWidth, boxHeight, type } = first;
    await prisma.anomaly.create({
      data: {
        imageId: image.id,
        inspectionId: later.id,
        deviceId: device.id,
        type,
        confidence: 0.99,
        boxX,
        boxY,
        boxWidth,
        boxHeight,
        source: 'MODEL',
      },
    });
    await tracked(device.id);
    const defect = await prisma.defect.findUniqueOrThrow({ where: { id: first.defectId! } });
    expect(await prisma.defect.count({ where: { deviceId: device.id } })).toBe(3);
    expect([defect.observationCount, defect.confidence, defect.lastSeenAt.toISOString()]).toEqual([2, 0.99, '2026-11-20T10:00:00.000Z']);
  });

  it('resolves a fixed defect when the run of a later inspection that shows nothing finishes, before the run is done', async () => {
    const prisma = t.app.db.prisma;
    const device = await deviceWithCracks(prisma, 1);
    await tracked(device.id);
    const fixed = await prisma.defect.update({
      where: { id: (await prisma.defect.findFirstOrThrow({ where: { deviceId: device.id } })).id },
      data: { status: 'FIXED', fixedAt: new Date('2026-11-10T10:00:00Z') },
    });
    // A clean inspection after the fix whose run is finishing: no anomaly, no review task, not COMPLETED yet.
    const clean = await prisma.inspection.create({
      data: {
        deviceId: device.id,
        source: 'DRONE',
        status: 'PROCESSING',
        capturedAt: new Date('2026-11-20T10:00:00Z'),
        requestedBy: 'test',
      },
    });
    const run = await prisma.workflowRun.create({
      data: { inspectionId: clean.id, workflow: 'detect-inspection', engine: 'LOCAL', status: 'RUNNING', startedAt: new Date() },
    });
    expect(await t.app.services.workflowRuns.finish(run.id)).toEqual({ status: 'SUCCEEDED' });
    const resolved = await prisma.defect.findUniqueOrThrow({ where: { id: fixed.id } });
    expect([resolved.status, resolved.resolvedBy]).toEqual(['RESOLVED', `inspection ${clean.id}`]);
    const done = await prisma.workflowRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(resolved.resolvedAt!.getTime()).toBeLessThanOrEqual(done.finishedAt!.getTime());
  });
});
