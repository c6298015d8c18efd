import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ok, startTestApp, type TestApp } from '../support/app';
import { connect, eventually, Feed, untilLive } from '../support/subscriptions';
import { deviceWithInspection, installTestModels, surfacePhoto, uploadImages, waitForRun } from '../support/workflow';
import { fromGlobalId } from '../../src/common/global-id';

// The detection workflow end to end on the embedded defaults: real HTTP uploads, the ASL file on
// the local engine, the built-in models, PGlite or PostgreSQL, and a real WebSocket subscriber.

let t: TestApp;
let modelsDir: string;

beforeAll(async () => {
  modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-models-dir-'));
  await installTestModels(modelsDir, 'insulator');
  // A model file that cannot be read: stage 2 fails for this device type, and is not retried.
  fs.mkdirSync(path.join(modelsDir, 'broken'), { recursive: true });
  fs.copyFileSync(path.join(modelsDir, 'insulator', 'screen.vgm'), path.join(modelsDir, 'broken', 'screen.vgm'));
  fs.writeFileSync(path.join(modelsDir, 'broken', 'inspect.vgm'), 'not a model');
  // A type with a screen model and no inspect model yet: what the screen passes on goes to people.
  fs.mkdirSync(path.join(modelsDir, 'lamp'), { recursive: true });
  fs.copyFileSync(path.join(modelsDir, 'insulator', 'screen.vgm'), path.join(modelsDir, 'lamp', 'screen.vgm'));
  t = await startTestApp({ VIGIL_MODELS_DIR: modelsDir, WORKFLOW_AUTO_START: 'false' }, { retryIntervalMs: 1 });
}, 180_000);

afterAll(async () => {
  await t?.stop();
  fs.rmSync(modelsDir, { recursive: true, force: true });
});

const START = `mutation($id: ID!) { startInspection(inspectionId: $id) { id status engine } }`;
const DETAILS = `query($id: ID!) {
  inspection(id: $id) {
    status
    cost { totalUsd withoutCascadeUsd savedUsd inspectCallsAvoided screen { calls images usd } inspect { calls images usd } }
    reviewTasks { id reason status uncertainty image { id } }
    images(first: 50) { nodes { id detections { stage detector modelVersion isAnomalous confidence } anomalies(first: 20) { nodes { id type confidence status } } } }
  }
}`;

async function details(inspectionId: string) {
  return ok(await t.gql(DETAILS, { id: inspectionId })).inspection;
}

describe('detection workflow (local engine, built-in models)', () => {
  it('screens all, inspects the flagged, records anomalies only on defective images, announces them, and a second start duplicates nothing', async () => {
    const { deviceId, inspectionId } = await deviceWithInspection(t, 'insulator');
    const defective = [false, true, false, true, false, true, false, true];
    const imageIds = await uploadImages(t, inspectionId, await Promise.all(defective.map((d, i) => surfacePhoto(900 + i, d))));
    const isDefective = new Map(imageIds.map((id, i) => [id, defective[i]]));

    const { client } = connect(t.app, { authorization: `Bearer ${await t.keyFor('INTEGRATOR')}` });
    const anomalies = new Feed(
      client,
      `subscription($f: AnomalySubscriptionFilter) { anomalyDetected(filter: $f) { id type confidence image { id } } }`,
      {
        f: { deviceIds: [deviceId] },
      },
    );
    const reviews = new Feed(client, `subscription { reviewTaskCreated(reasons: [LOW_CONFIDENCE]) { id reason } }`);
    const updates = new Feed(client, `subscription($id: ID!) { inspectionUpdated(id: $id) { id status } }`, { id: inspectionId });
    const rawInspection = fromGlobalId('Inspection', inspectionId, 'id');
    await untilLive(updates, () => t.app.events.publish('INSPECTION_UPDATED', { inspectionId: rawInspection, status: 'PENDING' }));

    const run = ok(await t.gql(START, { id: inspectionId })).startInspection;
    expect(run).toEqual({ id: expect.any(String), status: expect.stringMatching(/QUEUED|RUNNING/), engine: 'LOCAL' });
    const ended = await waitForRun(t, inspectionId);
    expect(ended.status).toBe('COMPLETED');
    expect(ended.workflowRuns).toEqual([
      expect.objectContaining({ id: run.id, status: 'SUCCEEDED', error: null, progress: { done: 8, total: 8 } }),
    ]);

    const first = await details(inspectionId);
    const images = first.images.nodes as any[];
    // Every image screened exactly once; only flagged ones inspected.
    for (const image of images) expect(image.detections.filter((d: any) => d.stage === 'SCREEN')).toHaveLength(1);
    const flagged = images.filter((i) => i.detections.some((d: any) => d.stage === 'SCREEN' && d.isAnomalous));
    const inspected = images.filter((i) => i.detections.some((d: any) => d.stage === 'INSPECT'));
    expect(inspected.map((i) => i.id).sort()).toEqual(flagged.map((i) => i.id).sort());
    expect(
      images
        .flatMap((i) => i.detections)
        .every((d: any) => d.detector.startsWith('builtin-') && /^(screen|inspect)-[0-9a-f]{12}$/.test(d.modelVersion)),
    ).toBe(true);

    // Anomalies only on defective images; every defective image is either an anomaly or a question for a person.
    const withAnomalies = images.filter((i) => i.anomalies.nodes.length > 0);
    expect(withAnomalies.length).toBeGreaterThan(0);
    for (const image of withAnomalies) expect([image.id, isDefective.get(image.id)]).toEqual([image.id, true]);
    const reviewed = new Set(first.reviewTasks.map((r: any) => r.image.id));
    for (const image of images.filter((i) => isDefective.get(i.id))) {
      expect([image.id, image.anomalies.nodes.length > 0 || reviewed.has(image.id)]).toEqual([image.id, true]);
    }
    // People are asked about what the model doubted, and — within REVIEW_LEARNING_PER_RUN — about its least sure confident verdicts.
    for (const task of first.reviewTasks)
      expect(task).toEqual(
        expect.objectContaining({ reason: expect.stringMatching(/^(LOW_CONFIDENCE|ACTIVE_LEARNING)$/), status: 'PENDING' }),
      );
    expect(first.reviewTasks.filter((r: any) => r.reason === 'ACTIVE_LEARNING').length).toBeLessThanOrEqual(10);
    const lowConfidence = first.reviewTasks.filter((r: any) => r.reason === 'LOW_CONFIDENCE');

    // The subscriber heard each anomaly exactly once, and the inspection's progress.
    const anomalyIds = withAnomalies.flatMap((i) => i.anomalies.nodes.map((a: any) => a.id)).sort();
    await eventually(() => anomalies.results.length >= anomalyIds.length, 'every anomaly event');
    expect(
      anomalies
        .values<any>('anomalyDetected')
        .map((a) => a.id)
        .sort(),
    ).toEqual(anomalyIds);
    await eventually(() => updates.values<any>('inspectionUpdated').some((u) => u.status === 'COMPLETED'), 'the COMPLETED update');
    expect(updates.values<any>('inspectionUpdated').map((u) => u.status)).toEqual(['PENDING', 'PROCESSING', 'COMPLETED']);

    await eventually(() => reviews.results.length >= lowConfidence.length, 'every review task event');
    expect(
      reviews
        .values<any>('reviewTaskCreated')
        .map((r) => r.id)
        .sort(),
    ).toEqual(lowConfidence.map((r: any) => r.id).sort());

    // The cost ledger: stage 1 on all 8, stage 2 only on the flagged ones, savings against stage 2 on all.
    expect(first.cost.screen).toEqual(expect.objectContaining({ calls: 8, images: 8 }));
    expect(first.cost.inspect.calls).toBe(flagged.length);
    expect(first.cost.inspectCallsAvoided).toBeCloseTo(1 - flagged.length / 8, 6);
    expect(first.cost.totalUsd).toBeCloseTo(first.cost.screen.usd + first.cost.inspect.usd, 6);
    expect(first.cost.savedUsd).toBeCloseTo(first.cost.withoutCascadeUsd - first.cost.totalUsd, 6);

    // The device needs attention now.
    const device = ok(await t.gql(`query($id: ID!) { device(id: $id) { status } }`, { id: deviceId })).device;
    expect(device.status).toBe('NEEDS_ATTENTION');
    // ...and its defects were opened before the run was marked done, so whoever waits for SUCCEEDED reads them.
    const { prisma } = t.app.db;
    const finished = await prisma.workflowRun.findUniqueOrThrow({ where: { id: fromGlobalId('WorkflowRun', run.id, 'id') } });
    const defects = await prisma.defect.findMany({ where: { deviceId: fromGlobalId('Device', deviceId, 'id') } });
    expect(defects.length).toBeGreaterThan(0);
    for (const d of defects) expect(d.createdAt.getTime()).toBeLessThanOrEqual(finished.finishedAt!.getTime());

    // Start again: a new run, the same judgements, nothing doubled, nothing announced twice.
    const again = ok(await t.gql(START, { id: inspectionId })).startInspection;
    expect(again.id).not.toBe(run.id);
    const second = await waitForRun(t, inspectionId);
    expect(second.workflowRuns.map((r: any) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await details(inspectionId)).toEqual(first);
    await new Promise((r) => setTimeout(r, 200));
    expect(anomalies.results).toHaveLength(anomalyIds.length);
    expect(reviews.results).toHaveLength(lowConfidence.length);
    await client.dispose();
  }, 120_000);

  it('sends every image of a device type without a model to people (cold start) and calls no detector', async () => {
    const { inspectionId } = await deviceWithInspection(t, 'pump');
    await uploadImages(t, inspectionId, await Promise.all([1, 2, 3].map((i) => surfacePhoto(700 + i, i === 2))));
    ok(await t.gql(START, { id: inspectionId }));
    const ended = await waitForRun(t, inspectionId);
    expect(ended.workflowRuns[0]).toEqual(expect.objectContaining({ status: 'SUCCEEDED', progress: { done: 3, total: 3 } }));
    const d = await details(inspectionId);
    expect(d.reviewTasks.map((r: any) => [r.reason, r.uncertainty])).toEqual([
      ['COLD_START', 1],
      ['COLD_START', 1],
      ['COLD_START', 1],
    ]);
    expect(d.images.nodes.flatMap((i: any) => i.detections)).toEqual([]);
    expect(d.cost.totalUsd).toBe(0);
  }, 60_000);

  it('counts only what the screen cleared as stage-2 calls avoided, not what it passed on with no stage-2 model', async () => {
    const { inspectionId } = await deviceWithInspection(t, 'lamp');
    await uploadImages(t, inspectionId, await Promise.all([1, 2, 3, 4].map((i) => surfacePhoto(720 + i, i % 2 === 0))));
    ok(await t.gql(START, { id: inspectionId }));
    await waitForRun(t, inspectionId);
    const d = await details(inspectionId);
    const passedOn = d.reviewTasks.filter((r: any) => r.reason === 'COLD_START').length;
    expect(passedOn).toBeGreaterThan(0);
    expect(d.cost.screen.calls).toBe(4);
    expect(d.cost.inspect.calls).toBe(0);
    expect(d.cost.inspectCallsAvoided).toBeCloseTo((4 - passedOn) / 4, 6);
    expect(d.cost.savedUsd).toBeCloseTo(d.cost.withoutCascadeUsd - d.cost.totalUsd, 6);
  }, 60_000);

  it('fails the run with its cause in GraphQL when a step keeps failing, and writes nothing half', async () => {
    const { inspectionId } = await deviceWithInspection(t, 'broken');
    await uploadImages(t, inspectionId, await Promise.all([1, 2, 3, 4].map((i) => surfacePhoto(800 + i, true))));
    ok(await t.gql(START, { id: inspectionId }));
    const ended = await waitForRun(t, inspectionId);
    expect(ended.status).toBe('FAILED');
    expect(ended.workflowRuns[0]).toEqual(expect.objectContaining({ status: 'FAILED', error: 'ModelArtifactError' }));
    expect(ended.workflowRuns[0].cause).toMatch(/inspect\.vgm/);
    const d = await details(inspectionId);
    expect(d.images.nodes.flatMap((i: any) => i.detections.filter((x: any) => x.stage === 'INSPECT'))).toEqual([]);
    expect(d.images.nodes.flatMap((i: any) => i.anomalies.nodes)).toEqual([]);
  }, 60_000);

  it('refuses to start an inspection without uploaded images, and answers a second start while running with the same run', async () => {
    const empty = await deviceWithInspection(t, 'insulator');
    const res = await t.gql(START, { id: empty.inspectionId });
    expect(res.errors?.[0]).toEqual(
      expect.objectContaining({
        message: expect.stringMatching(/no uploaded images/),
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
      }),
    );

    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    await uploadImages(t, inspectionId, await Promise.all([1, 2].map((i) => surfacePhoto(600 + i, false))));
    const [a, b] = await Promise.all([t.gql(START, { id: inspectionId }), t.gql(START, { id: inspectionId })]);
    expect(ok(a).startInspection.id).toBe(ok(b).startInspection.id);
    await waitForRun(t, inspectionId);
  }, 60_000);

  it('starts by itself when the last image of an inspection is uploaded (WORKFLOW_AUTO_START)', async () => {
    const auto = await startTestApp({ VIGIL_MODELS_DIR: modelsDir }, { retryIntervalMs: 1 });
    try {
      const { inspectionId } = await deviceWithInspection(auto, 'insulator');
      await uploadImages(auto, inspectionId, await Promise.all([1, 2].map((i) => surfacePhoto(500 + i, false))));
      const ended = await waitForRun(auto, inspectionId);
      expect(ended.workflowRuns).toEqual([expect.objectContaining({ status: 'SUCCEEDED', progress: { done: 2, total: 2 } })]);

      // The racy order: a run has taken its images when another upload completes; that upload's
      // auto-start sees the active run and leaves it, so the run's end starts a follow-up.
      const runs = auto.app.services.workflowRuns;
      const raw = Buffer.from(inspectionId, 'base64url').toString().split(':')[1];
      const held = await auto.app.db.prisma.workflowRun.create({
        data: { inspectionId: raw, workflow: 'detect-inspection', engine: 'LOCAL', executionId: `held-${raw}` },
      });
      expect((await runs.begin(held.id)).total).toBe(2);
      const [late] = await uploadImages(auto, inspectionId, [await surfacePhoto(510, true)]);
      expect(await auto.app.db.prisma.workflowRun.count({ where: { inspectionId: raw } })).toBe(2);
      await runs.finish(held.id);
      const followed = await waitForRun(auto, inspectionId);
      expect(followed.workflowRuns.map((r: any) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
      const lateId = Buffer.from(late, 'base64url').toString().split(':')[1];
      expect(await auto.app.db.prisma.workflowRunImage.count({ where: { imageId: lateId } })).toBe(1);
      expect(await auto.app.db.prisma.image.count({ where: { inspectionId: raw, status: 'READY', runImages: { none: {} } } })).toBe(0);
    } finally {
      await auto.stop();
    }
  }, 60_000);
});
