import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { fromGlobalId, toGlobalId } from '../../src/common/global-id';
import { DatasetService } from '../../src/datasets/dataset.service';
import { manifestLineSchema } from '../../src/datasets/lookout-manifest';
import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { CLAIM, coldStartTasks, newKey, RELEASE, SUBMIT } from '../support/reviews';
import { connect, eventually, Feed, untilLive } from '../support/subscriptions';
import { deviceWithInspection, installTestModels, surfacePhoto, uploadImages, waitForRun } from '../support/workflow';

// The review lifecycle through the real HTTP API on the embedded defaults: tasks come from real
// detection runs (a device type without a model sends every image to people).

const apps: TestApp[] = [];
async function app(env: Record<string, string> = {}) {
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-models-'));
  const t = await startTestApp({ VIGIL_MODELS_DIR: modelsDir, ...env }, { retryIntervalMs: 1 });
  apps.push(t);
  return { t, modelsDir };
}
afterAll(async () => {
  for (const t of apps) await t.stop();
});

const fetchBytes = async (url: string) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
};

const DATASETS = `{ datasets { id name deviceType manifestUrl counts { total anomalous test }
  entries(first: 50) { nodes { label split regions { type box { x y width height } } maskUrl image { id } } } } }`;

describe('a reviewer answering tasks', () => {
  it("writes the answer to the anomalies, the device's status and the dataset, exactly once", async () => {
    const { t } = await app();
    const { taskIds, type, deviceId } = await coldStartTasks(t, 2);
    const reviewer = await newKey(t, 'REVIEWER');

    const claimed = ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview;
    expect(claimed).toMatchObject({ status: 'CLAIMED', reason: 'COLD_START', deviceType: type, escalated: false });
    expect(taskIds).toContain(claimed.id);
    expect(new Date(claimed.claimedUntil).getTime()).toBeGreaterThan(Date.now() + 500_000);
    const picture = await sharp(await fetchBytes(claimed.imageUrl)).metadata();
    expect(picture.width).toBe(160);

    const box = { x: 0.25, y: 0.5, width: 0.5, height: 0.25 };
    const done = ok(
      await t.gql(SUBMIT, { id: claimed.id, v: 'ANOMALOUS', r: [{ box, type: 'crack' }], c: 'hairline crack' }, reviewer),
    ).submitReview;
    expect(done).toMatchObject({ status: 'COMPLETED', verdict: 'ANOMALOUS', answerCount: 1 });

    const device = ok(
      await t.gql(
        `query($id: ID!) { device(id: $id) { status anomalies(first: 10) { nodes { type status source box { x y width height } } } } }`,
        { id: deviceId },
      ),
    ).device;
    expect(device.status).toBe('NEEDS_ATTENTION');
    expect(device.anomalies.nodes).toEqual([
      { type: 'crack', status: 'CONFIRMED', source: 'HUMAN', box: { x: 0.25, y: 0.5, width: 0.5, height: 0.25 } },
    ]);

    // The same answer again (a client retry) changes nothing.
    const again = ok(await t.gql(SUBMIT, { id: claimed.id, v: 'ANOMALOUS', r: [{ box, type: 'crack' }] }, reviewer)).submitReview;
    expect(again).toEqual(done);

    const next = ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview;
    expect(next.id).not.toBe(claimed.id);
    ok(await t.gql(SUBMIT, { id: next.id, v: 'NORMAL' }, reviewer));
    expect(ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview).toBeNull();

    const [dataset] = ok(await t.gql(DATASETS)).datasets;
    expect(dataset).toMatchObject({ name: type, deviceType: type, counts: { total: 2, anomalous: 1 } });
    const anomalous = dataset.entries.nodes.find((e: { label: string }) => e.label === 'ANOMALOUS');
    expect(anomalous.regions).toEqual([{ type: 'crack', box }]);
    expect(dataset.entries.nodes.find((e: { label: string }) => e.label === 'NORMAL').maskUrl).toBeNull();

    // The mask: white background, the crack's colour inside the box.
    const { data, info } = await sharp(await fetchBytes(anomalous.maskUrl))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    expect([info.width, info.height]).toEqual([160, 160]);
    expect(at(5, 5)).toEqual([255, 255, 255]);
    expect(at(80, 100)).not.toEqual([255, 255, 255]);

    const manifest = (await fetchBytes(dataset.manifestUrl)).toString('utf8');
    const lines = manifest
      .trimEnd()
      .split('\n')
      .map((l) => manifestLineSchema.parse(JSON.parse(l)));
    expect(lines).toHaveLength(2);
    const byLabel = new Map(lines.map((l) => [l['anomaly-label'], l]));
    expect(byLabel.get(1)).toMatchObject({ 'anomaly-label-metadata': { 'class-name': 'anomaly', 'human-annotated': 'yes' } });
    expect(byLabel.get(1)!['anomaly-mask-ref']).toMatch(/^file:\/\/.+\/masks\/.+\.png$/);
    expect(Object.values(byLabel.get(1)!['anomaly-mask-ref-metadata']!['internal-color-map']).map((c) => c['class-name'])).toEqual([
      'BACKGROUND',
      'crack',
    ]);
    expect(byLabel.get(0)).toMatchObject({ 'anomaly-label-metadata': { 'class-name': 'normal' } });
    expect(byLabel.get(0)).not.toHaveProperty('anomaly-mask-ref');
    for (const l of lines) expect(l['source-ref']).toMatch(/^file:\/\/.+\.(png|jpg)$/);

    const stats = ok(await t.gql(`{ reviewStats { pending claimed completed completedToday mineToday } }`, {}, reviewer)).reviewStats;
    expect(stats).toEqual({ pending: 0, claimed: 0, completed: 2, completedToday: 2, mineToday: 2 });
    expect(await t.app.db.prisma.anomaly.count()).toBe(1);
    expect(await t.app.db.prisma.datasetEntry.count()).toBe(2);

    // A manifest a stopped process did not get to write is written again at start-up.
    const row = await t.app.db.prisma.dataset.findFirstOrThrow();
    expect(row.manifestAt).not.toBeNull();
    await t.app.db.prisma.dataset.update({ where: { id: row.id }, data: { manifestAt: null } });
    await t.app.objectStore.store.delete(DatasetService.manifestKey(row.id));
    expect(await t.app.services.datasets.publishStale()).toBe(1);
    expect((await fetchBytes(dataset.manifestUrl)).toString('utf8')).toBe(manifest);
    expect(await t.app.services.datasets.publishStale()).toBe(0);
  });

  it('refuses a different second answer with CONFLICT and keeps the first; racing answers: exactly one wins', async () => {
    const { t } = await app();
    const [first, second] = (await coldStartTasks(t, 2)).taskIds;
    const reviewer = await newKey(t, 'REVIEWER');
    const crack = [{ box: { x: 0.25, y: 0.5, width: 0.5, height: 0.25 }, type: 'crack' }];
    const chip = [{ box: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 }, type: 'chip' }];
    expect(ok(await t.gql(CLAIM, { skip: [second] }, reviewer)).claimNextReview.id).toBe(first);
    const done = ok(await t.gql(SUBMIT, { id: first, v: 'ANOMALOUS', r: crack, c: 'hairline' }, reviewer)).submitReview;
    expect(done).toMatchObject({ status: 'COMPLETED', verdict: 'ANOMALOUS' });

    for (const changed of [{ v: 'NORMAL' }, { v: 'ANOMALOUS', r: chip }, { v: 'ANOMALOUS', r: crack, c: 'something else' }]) {
      const err = failure(await t.gql(SUBMIT, { id: first, ...changed }, reviewer));
      expect(err.extensions?.code).toBe('CONFLICT');
      expect(err.message).toMatch(/your answer to review task .* is already recorded \(ANOMALOUS, 1 region: crack\); it cannot be changed/);
      expect(err.extensions?.recordedAnswer).toEqual({ verdict: 'ANOMALOUS', regions: crack, comment: 'hairline' });
    }
    // A retry of the same answer (with or without its comment) is harmless.
    expect(ok(await t.gql(SUBMIT, { id: first, v: 'ANOMALOUS', r: crack, c: 'hairline' }, reviewer)).submitReview).toEqual(done);
    expect(ok(await t.gql(SUBMIT, { id: first, v: 'ANOMALOUS', r: crack }, reviewer)).submitReview).toEqual(done);
    const answers = await t.app.db.prisma.reviewAnswer.findMany();
    expect(answers.map((a) => [a.verdict, a.comment])).toEqual([['ANOMALOUS', 'hairline']]);

    expect(ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview.id).toBe(second);
    const racing = [{ v: 'NORMAL' }, { v: 'ANOMALOUS', r: crack }, { v: 'ANOMALOUS', r: chip }];
    const results = await Promise.all(racing.map((answer) => t.gql(SUBMIT, { id: second, ...answer }, reviewer)));
    const winners = results.flatMap((res, i) => (res.errors ? [] : [racing[i]]));
    expect(winners).toHaveLength(1);
    for (const res of results.filter((r) => r.errors)) {
      expect(failure(res).extensions?.code).toBe('CONFLICT');
      expect(failure(res).message).toMatch(/is already recorded/);
    }
    const task = await t.app.db.prisma.reviewTask.findUniqueOrThrow({ where: { id: fromGlobalId('ReviewTask', second, 'id') } });
    expect(task.verdict).toBe(winners[0].v);
    expect(await t.app.db.prisma.reviewAnswer.count()).toBe(2);
  });

  it('gives two reviewers claiming 100 tasks at once different tasks: none answered twice, none lost', async () => {
    const { t } = await app();
    const { taskIds } = await coldStartTasks(t, 100);
    const reviewers = [await newKey(t, 'REVIEWER'), await newKey(t, 'REVIEWER')];
    const work = async (key: string) => {
      const mine: string[] = [];
      for (;;) {
        const task = ok(await t.gql(CLAIM, {}, key)).claimNextReview;
        if (!task) return mine;
        ok(await t.gql(SUBMIT, { id: task.id, v: 'NORMAL' }, key));
        mine.push(task.id);
      }
    };
    const [a, b] = await Promise.all(reviewers.map(work));
    expect(a.filter((id) => b.includes(id))).toEqual([]);
    expect([...a, ...b].sort()).toEqual([...taskIds].sort());
    expect(a.length).toBeGreaterThan(10);
    expect(b.length).toBeGreaterThan(10);
    expect(await t.app.db.prisma.reviewAnswer.count()).toBe(100);
    expect(await t.app.db.prisma.reviewTask.count({ where: { status: 'COMPLETED' } })).toBe(100);
    expect(await t.app.db.prisma.datasetEntry.count()).toBe(100);
  }, 120_000);

  it('returns a claim whose lease lapsed to the queue, and refuses the late answer', async () => {
    const { t } = await app({ REVIEW_LEASE_SECONDS: '2' });
    const [taskId] = (await coldStartTasks(t, 1)).taskIds;
    const slow = await newKey(t, 'REVIEWER');
    const quick = await newKey(t, 'REVIEWER');
    expect(ok(await t.gql(CLAIM, {}, slow)).claimNextReview.id).toBe(taskId);
    expect(ok(await t.gql(CLAIM, {}, quick)).claimNextReview).toBeNull();
    await new Promise((r) => setTimeout(r, 2300));
    const late = failure(await t.gql(SUBMIT, { id: taskId, v: 'NORMAL' }, slow));
    expect(late.extensions?.code).toBe('CONFLICT');
    expect(late.message).toMatch(/claim on review task .* expired at/);
    expect(await t.app.db.prisma.reviewAnswer.count()).toBe(0);
    expect(ok(await t.gql(CLAIM, {}, quick)).claimNextReview.id).toBe(taskId);
    const stolen = failure(await t.gql(SUBMIT, { id: taskId, v: 'NORMAL' }, slow));
    expect(stolen.extensions?.code).toBe('CONFLICT');
    expect(ok(await t.gql(SUBMIT, { id: taskId, v: 'NORMAL' }, quick)).submitReview.status).toBe('COMPLETED');
  });

  it('with REVIEW_CONSENSUS=2 completes agreeing answers and escalates a disagreement to an ADMIN', async () => {
    const { t } = await app({ REVIEW_CONSENSUS: '2' });
    const [first, second] = (await coldStartTasks(t, 2)).taskIds;
    const [a, b, c] = [await newKey(t, 'REVIEWER'), await newKey(t, 'REVIEWER'), await newKey(t, 'REVIEWER')];
    const admin = await newKey(t, 'ADMIN');
    const answer = async (key: string, id: string, v: string, r: unknown[] = []) => {
      const skip = [first, second].filter((x) => x !== id);
      expect(ok(await t.gql(CLAIM, { skip }, key)).claimNextReview.id).toBe(id);
      return ok(await t.gql(SUBMIT, { id, v, r }, key)).submitReview;
    };

    expect(await answer(a, first, 'NORMAL')).toMatchObject({ status: 'PENDING', answerCount: 1, verdict: null });
    expect(ok(await t.gql(CLAIM, { skip: [second] }, a)).claimNextReview).toBeNull(); // a reviewer answers a task once
    expect(await answer(b, first, 'NORMAL')).toMatchObject({ status: 'COMPLETED', verdict: 'NORMAL', answerCount: 2 });

    expect(await answer(a, second, 'NORMAL')).toMatchObject({ status: 'PENDING' });
    const box = { x: 0.1, y: 0.1, width: 0.2, height: 0.2 };
    expect(await answer(b, second, 'ANOMALOUS', [{ box, type: 'chip' }])).toMatchObject({
      status: 'PENDING',
      escalated: true,
      verdict: null,
    });
    expect(ok(await t.gql(CLAIM, {}, c)).claimNextReview).toBeNull();
    const task = ok(
      await t.gql(`query($id: ID!) { reviewTask(id: $id) { note answers { verdict reviewer } } }`, { id: second }, admin),
    ).reviewTask;
    expect(task.note).toMatch(/disagreed/);
    expect(task.answers.map((x: { verdict: string }) => x.verdict)).toEqual(['NORMAL', 'ANOMALOUS']);
    expect(await answer(admin, second, 'ANOMALOUS', [{ box, type: 'chip' }])).toMatchObject({
      status: 'COMPLETED',
      verdict: 'ANOMALOUS',
      answerCount: 3,
    });
    expect(await t.app.db.prisma.anomaly.findMany({ select: { type: true, source: true, status: true } })).toEqual([
      { type: 'chip', source: 'HUMAN', status: 'CONFIRMED' },
    ]);
  });

  it('refuses bad answers with clear errors and changes nothing', async () => {
    const { t } = await app();
    const [taskId, other] = (await coldStartTasks(t, 2)).taskIds;
    const reviewer = await newKey(t, 'REVIEWER');
    const stranger = await newKey(t, 'REVIEWER');
    expect(ok(await t.gql(CLAIM, { skip: [other] }, reviewer)).claimNextReview.id).toBe(taskId);
    const cases: [unknown[], string, RegExp][] = [
      [
        [{ box: { x: -0.1, y: 0, width: 0.5, height: 0.5 }, type: 'crack' }],
        'BAD_USER_INPUT',
        /regions\[0\]\.box\.x: expected a share of the image from 0 to 1/,
      ],
      [[{ box: { x: 0.2, y: 0, width: 1.2, height: 0.5 }, type: 'crack' }], 'BAD_USER_INPUT', /regions\[0\]\.box\.width/],
      [[{ box: { x: 0.8, y: 0, width: 0.5, height: 0.5 }, type: 'crack' }], 'BAD_USER_INPUT', /past the right edge/],
      [[{ box: { x: 0.2, y: 0.2, width: 0, height: 0.5 }, type: 'crack' }], 'BAD_USER_INPUT', /width and a height above 0/],
      [
        [{ box: { x: 0.2, y: 0.2, width: 0.1, height: 0.1 }, type: 'gremlins' }],
        'BAD_USER_INPUT',
        /unknown anomaly type "gremlins"; expected one of crack/,
      ],
    ];
    for (const [r, code, message] of cases) {
      const err = failure(await t.gql(SUBMIT, { id: taskId, v: 'ANOMALOUS', r }, reviewer));
      expect(err.extensions?.code).toBe(code);
      expect(err.message).toMatch(message);
    }
    const normalWithBox = failure(
      await t.gql(SUBMIT, { id: taskId, v: 'NORMAL', r: [{ box: { x: 0, y: 0, width: 0.1, height: 0.1 }, type: 'crack' }] }, reviewer),
    );
    expect(normalWithBox.message).toMatch(/a NORMAL verdict has no regions/);
    const notHeld = failure(await t.gql(SUBMIT, { id: taskId, v: 'NORMAL' }, stranger));
    expect([notHeld.extensions?.code, notHeld.message]).toEqual(['CONFLICT', expect.stringMatching(/you do not hold review task/)]);
    expect(failure(await t.gql(RELEASE, { id: taskId }, stranger)).extensions?.code).toBe('CONFLICT');
    expect(failure(await t.gql(SUBMIT, { id: 'bm90LWFuLWlk', v: 'NORMAL' }, reviewer)).extensions?.code).toBe('BAD_USER_INPUT');

    // A REVIEWER sees what a task needs, not the fleet.
    for (const query of [
      '{ devices(first: 1) { nodes { id } } }',
      '{ reviewQueue { nodes { id } } }',
      '{ datasets { id } }',
      '{ anomalies { nodes { id } } }',
    ]) {
      expect(failure(await t.gql(query, {}, reviewer)).extensions?.code).toBe('FORBIDDEN');
    }
    expect(failure(await t.gql(`query($id: ID!) { reviewTask(id: $id) { id } }`, { id: other }, reviewer)).extensions?.code).toBe(
      'FORBIDDEN',
    );
    expect(
      failure(await t.gql(`query($id: ID!) { reviewTask(id: $id) { image { id } } }`, { id: taskId }, reviewer)).extensions?.code,
    ).toBe('FORBIDDEN');
    expect(
      ok(await t.gql(`query($id: ID!) { reviewTask(id: $id) { status deviceType } }`, { id: taskId }, reviewer)).reviewTask.status,
    ).toBe('CLAIMED');
    expect(failure(await t.gql(CLAIM, {}, await t.keyFor('OPERATOR'))).extensions?.code).toBe('FORBIDDEN');

    expect(await t.app.db.prisma.reviewAnswer.count()).toBe(0);
    expect(await t.app.db.prisma.anomaly.count()).toBe(0);
    const task = await t.app.db.prisma.reviewTask.findFirstOrThrow({ where: { status: 'CLAIMED' } });
    expect(task.claimedByKeyId).not.toBeNull();
    expect(ok(await t.gql(RELEASE, { id: taskId }, reviewer)).releaseReview.status).toBe('PENDING');
  });
});

describe('the review queue', () => {
  it('serves the most uncertain first and spreads QA samples through it', async () => {
    const { t } = await app({ WORKFLOW_AUTO_START: 'false' });
    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    const imageIds = await uploadImages(t, inspectionId, await Promise.all([0, 1, 2, 3].map((i) => surfacePhoto(50 + i, false))));
    const prisma = t.app.db.prisma;
    const inspection = (
      await prisma.image.findUniqueOrThrow({ where: { id: Buffer.from(imageIds[0], 'base64url').toString().split(':')[1] } })
    ).inspectionId!;
    const raw = imageIds.map((id) => Buffer.from(id, 'base64url').toString().split(':')[1]);
    const create = (i: number, reason: 'LOW_CONFIDENCE' | 'SAMPLED_QA', uncertainty: number, priority?: number) =>
      t.app.services.reviewQueue.createOnce(prisma, {
        imageId: raw[i],
        inspectionId: inspection,
        detectionId: null,
        reason,
        uncertainty,
        priority,
      });
    await create(0, 'LOW_CONFIDENCE', 0.2);
    await create(1, 'LOW_CONFIDENCE', 0.9);
    await create(2, 'SAMPLED_QA', 0.02, 0.5);
    await create(3, 'LOW_CONFIDENCE', 0.6);
    const order = ok(await t.gql(`{ reviewQueue(first: 10) { nodes { reason uncertainty } } }`)).reviewQueue.nodes;
    expect(order).toEqual([
      { reason: 'LOW_CONFIDENCE', uncertainty: 0.9 },
      { reason: 'LOW_CONFIDENCE', uncertainty: 0.6 },
      { reason: 'SAMPLED_QA', uncertainty: 0.02 },
      { reason: 'LOW_CONFIDENCE', uncertainty: 0.2 },
    ]);
    const reviewer = await newKey(t, 'REVIEWER');
    const claimed = [];
    for (let i = 0; i < 4; i++) {
      const task = ok(await t.gql(`mutation { claimNextReview { reason uncertainty } }`, {}, reviewer)).claimNextReview;
      claimed.push(task);
    }
    expect(claimed).toEqual(order);
  });

  it('samples a share of confident verdicts for QA, the same images on a replay', async () => {
    const { t, modelsDir } = await app({ REVIEW_QA_SHARE: '1', WORKFLOW_AUTO_START: 'false' });
    await installTestModels(modelsDir, 'insulator');
    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    await uploadImages(t, inspectionId, await Promise.all([0, 1, 2, 3, 4, 5].map((i) => surfacePhoto(300 + i, i % 3 === 0))));
    const start = `mutation($id: ID!) { startInspection(inspectionId: $id) { id } }`;
    ok(await t.gql(start, { id: inspectionId }));
    await waitForRun(t, inspectionId);
    const prisma = t.app.db.prisma;
    const confident = await prisma.workflowRunImage.count({ where: { outcome: { in: ['CLEAR', 'NORMAL', 'ANOMALY'] } } });
    const sampled = await prisma.reviewTask.findMany({ where: { reason: 'SAMPLED_QA' } });
    expect(confident).toBeGreaterThan(0);
    expect(sampled).toHaveLength(confident);
    for (const task of sampled) {
      expect(task.priority).toBeGreaterThanOrEqual(0);
      expect(task.priority).toBeLessThan(1);
    }
    ok(await t.gql(start, { id: inspectionId }));
    await waitForRun(t, inspectionId);
    expect(await prisma.reviewTask.count({ where: { reason: 'SAMPLED_QA' } })).toBe(sampled.length);
  }, 120_000);
});

describe("a reviewer's verdict on the model's anomalies", () => {
  it('confirms the anomalies a box covers, rejects the others, and announces each change', async () => {
    const { t } = await app({ WORKFLOW_AUTO_START: 'false' });
    const { inspectionId, deviceId } = await deviceWithInspection(t, 'insulator');
    const [imageGid, otherGid] = await uploadImages(t, inspectionId, [await surfacePhoto(7, true), await surfacePhoto(8, true)]);
    const prisma = t.app.db.prisma;
    const raw = (gid: string) => Buffer.from(gid, 'base64url').toString().split(':')[1];
    const image = await prisma.image.findUniqueOrThrow({ where: { id: raw(imageGid) }, include: { inspection: true } });
    const other = await prisma.image.findUniqueOrThrow({ where: { id: raw(otherGid) } });
    const suspect = async (imageId: string, boxes: [number, number, number, number][]) => {
      const detection = await prisma.detection.create({
        data: {
          imageId,
          stage: 'INSPECT',
          detector: 'builtin-inspect',
          modelVersion: 'm1',
          isAnomalous: true,
          confidence: 0.6,
          result: { route: 'UNCERTAIN', regions: [] },
        },
      });
      for (const [i, [x, y, w, h]] of boxes.entries()) {
        await prisma.anomaly.create({
          data: {
            imageId,
            inspectionId: image.inspectionId!,
            deviceId: image.inspection!.deviceId,
            detectionId: detection.id,
            regionIndex: i,
            type: 'anomaly',
            confidence: 0.6,
            boxX: x,
            boxY: y,
            boxWidth: w,
            boxHeight: h,
            source: 'MODEL',
          },
        });
      }
      return (
        await t.app.services.reviewQueue.createOnce(prisma, {
          imageId,
          inspectionId: image.inspectionId!,
          detectionId: detection.id,
          reason: 'LOW_CONFIDENCE',
          uncertainty: 0.7,
        })
      ).task;
    };
    const task = await suspect(image.id, [
      [0.1, 0.1, 0.2, 0.2],
      [0.6, 0.6, 0.2, 0.2],
    ]);
    const otherTask = await suspect(other.id, [[0.4, 0.4, 0.1, 0.1]]);
    await prisma.device.update({ where: { id: image.inspection!.deviceId }, data: { status: 'NEEDS_ATTENTION' } });
    const reviewer = await newKey(t, 'REVIEWER');
    const { client } = connect(t.app, { authorization: `Bearer ${await t.keyFor('INTEGRATOR')}` });
    const feed = new Feed(client, 'subscription { anomalyDetected { status type source } }', {});
    const completions = new Feed(client, 'subscription { reviewCompleted(reasons: [LOW_CONFIDENCE]) { verdict } }', {});
    try {
      const probe = await prisma.anomaly.findFirstOrThrow();
      await untilLive(feed, () =>
        t.app.events.publish('ANOMALY_DETECTED', {
          anomalyId: probe.id,
          deviceId: probe.deviceId,
          inspectionId: probe.inspectionId,
          type: 'anomaly',
          confidence: 0.6,
          status: 'SUSPECTED',
        }),
      );
      await untilLive(completions, () =>
        t.app.events.publish('REVIEW_COMPLETED', {
          reviewTaskId: otherTask.id,
          imageId: other.id,
          reason: 'LOW_CONFIDENCE',
          verdict: 'NORMAL',
        }),
      );
      const before = feed.results.length;
      const completedBefore = completions.results.length;
      const skip = [toGlobalId('ReviewTask', otherTask.id)];
      const claimed = ok(await t.gql(CLAIM, { skip }, reviewer)).claimNextReview;
      expect(claimed.id).toBe(toGlobalId('ReviewTask', task.id));
      const view = ok(
        await t.gql(
          `query($id: ID!) { reviewTask(id: $id) { modelOutput { detector modelVersion confidence isAnomalous } } }`,
          { id: claimed.id },
          reviewer,
        ),
      ).reviewTask;
      expect(view.modelOutput).toEqual({ detector: 'builtin-inspect', modelVersion: 'm1', confidence: 0.6, isAnomalous: true });
      ok(
        await t.gql(
          SUBMIT,
          { id: claimed.id, v: 'ANOMALOUS', r: [{ box: { x: 0.05, y: 0.05, width: 0.3, height: 0.3 }, type: 'corrosion' }] },
          reviewer,
        ),
      );
      const rows = await prisma.anomaly.findMany({
        where: { imageId: image.id },
        orderBy: { regionIndex: 'asc' },
        select: { status: true, type: true, source: true },
      });
      expect(rows).toEqual([
        { status: 'CONFIRMED', type: 'corrosion', source: 'MODEL' },
        { status: 'REJECTED', type: 'anomaly', source: 'MODEL' },
      ]);
      await eventually(() => feed.results.length >= before + 2, 'two anomaly status changes');
      expect(
        feed
          .values('anomalyDetected')
          .slice(-2)
          .map((a) => a.status)
          .sort(),
      ).toEqual(['CONFIRMED', 'REJECTED']);

      ok(await t.gql(SUBMIT, { id: ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview.id, v: 'NORMAL' }, reviewer));
      expect((await prisma.anomaly.findFirstOrThrow({ where: { imageId: other.id } })).status).toBe('REJECTED');
      await eventually(() => completions.results.length >= completedBefore + 2, 'two completions');
      expect(
        completions
          .values('reviewCompleted')
          .slice(-2)
          .map((c) => c.verdict),
      ).toEqual(['ANOMALOUS', 'NORMAL']);
      // One anomaly is still open (confirmed), so the device still needs attention.
      expect(ok(await t.gql(`query($id: ID!) { device(id: $id) { status } }`, { id: deviceId })).device.status).toBe('NEEDS_ATTENTION');
    } finally {
      await client.dispose();
    }
  });
});
