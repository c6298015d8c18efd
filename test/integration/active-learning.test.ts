import crypto from 'node:crypto';
import { fromGlobalId, toGlobalId } from '../../src/common/global-id';
import { ActiveLearningService } from '../../src/reviews/active-learning.service';
import { binOf, uncertaintyOf } from '../../src/reviews/active-learning';
import { finishRun } from '../../src/workflows/steps/finish-run';
import { ok, startTestApp, type TestApp } from '../support/app';
import { CLAIM, newKey, SUBMIT } from '../support/reviews';

// Active learning at the end of a detection run. Runs are written straight to the database as the
// workflow leaves them before FinishRun (outcomes and detections with the model's probabilities),
// so the picking is the subject, not the built-in model; FinishRun itself is the real step.

jest.setTimeout(120_000);

type Outcome = 'CLEAR' | 'NORMAL' | 'ANOMALY' | 'UNCERTAIN';
interface Verdict {
  p: number;
  outcome?: Outcome;
  /** A task the workflow already made for the image. */
  task?: 'SAMPLED_QA' | 'LOW_CONFIDENCE';
}

const INSPECTION = `query($id: ID!) { inspection(id: $id) { status reviewTasks { id reason status uncertainty image { id } } } }`;

/** A device of `type`, an inspection and a RUNNING run whose images ended as the verdicts say. */
async function runWith(t: TestApp, type: string, verdicts: Verdict[]) {
  const prisma = t.app.db.prisma;
  const device = await prisma.device.create({ data: { externalId: `${type}-${crypto.randomUUID().slice(0, 8)}`, name: type, type } });
  const inspection = await prisma.inspection.create({
    data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' },
  });
  const run = await prisma.workflowRun.create({
    data: {
      inspectionId: inspection.id,
      workflow: 'detect-inspection',
      engine: 'LOCAL',
      status: 'RUNNING',
      startedAt: new Date(),
      imagesTotal: verdicts.length,
    },
  });
  const images: { id: string; p: number; stage: 'SCREEN' | 'INSPECT'; detectionId: string }[] = [];
  for (const v of verdicts) {
    const outcome = v.outcome ?? (v.p < 0.5 ? 'NORMAL' : 'ANOMALY');
    const stage = outcome === 'CLEAR' ? 'SCREEN' : 'INSPECT';
    const sha256 = crypto.randomBytes(32).toString('hex');
    const image = await prisma.image.create({
      data: { inspectionId: inspection.id, objectKey: `images/${sha256}`, sha256, contentType: 'image/jpeg', bytes: 1, status: 'READY' },
    });
    const isAnomalous = outcome === 'ANOMALY' || (outcome === 'UNCERTAIN' && v.p >= 0.5);
    const modelVersion = `${stage.toLowerCase()}-${type}`;
    const detection = await prisma.detection.create({
      data: {
        imageId: image.id,
        stage,
        detector: `builtin-${stage.toLowerCase()}`,
        modelVersion,
        isAnomalous,
        confidence: isAnomalous ? v.p : 1 - v.p,
        result: { route: outcome, pictures: [{ tile: null, raw: { anomalyProbability: v.p } }] },
        workflowRunId: run.id,
      },
    });
    await prisma.workflowRunImage.create({
      data: {
        runId: run.id,
        imageId: image.id,
        outcome,
        screenModelVersion: stage === 'SCREEN' ? modelVersion : null,
        inspectModelVersion: stage === 'INSPECT' ? modelVersion : null,
      },
    });
    if (v.task) {
      await t.app.services.reviewQueue.createOnce(prisma, {
        imageId: image.id,
        inspectionId: inspection.id,
        detectionId: stage === 'INSPECT' ? detection.id : null,
        reason: v.task,
        uncertainty: uncertaintyOf(v.p),
      });
    }
    images.push({ id: image.id, p: v.p, stage, detectionId: detection.id });
  }
  return { run, inspection, images };
}

/** Verdicts the model was nearly unsure of, spread from p = 0.45 to 0.55 (drawn with probability ≥ 0.81 each). */
const nearDecision = (n: number): Verdict[] => Array.from({ length: n }, (_, i) => ({ p: 0.45 + (i % 10) * 0.011 }));

const learningTasks = (t: TestApp, runImageIds: string[]) =>
  t.app.db.prisma.reviewTask.findMany({ where: { reason: 'ACTIVE_LEARNING', imageId: { in: runImageIds } }, orderBy: { id: 'asc' } });

describe('active learning at the end of a run', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.stop());

  const finish = (runId: string) => finishRun.run(t.app.services, { runId });

  it('sends confident verdicts near the decision to review as ACTIVE_LEARNING, never more than REVIEW_LEARNING_PER_RUN, never an image already asked about', async () => {
    const type = `al-${crypto.randomUUID().slice(0, 6)}`;
    const uncertain = Array.from({ length: 20 }, (_, i) => ({ p: 0.3 + i * 0.02 }));
    const sure = Array.from({ length: 10 }, () => ({ p: 0.005, outcome: 'CLEAR' as const }));
    const { run, inspection, images } = await runWith(t, type, [
      ...uncertain,
      ...sure,
      // A coin toss the workflow already sent to QA, and one it sent to people as uncertain: neither is picked again.
      { p: 0.5, outcome: 'CLEAR', task: 'SAMPLED_QA' },
      { p: 0.5, outcome: 'UNCERTAIN', task: 'LOW_CONFIDENCE' },
    ]);
    expect(await finish(run.id)).toEqual({ status: 'SUCCEEDED' });

    const result = ok(await t.gql(INSPECTION, { id: toGlobalId('Inspection', inspection.id) })).inspection;
    expect(result.status).toBe('COMPLETED');
    const picked = result.reviewTasks.filter((r: { reason: string }) => r.reason === 'ACTIVE_LEARNING');
    expect(picked.length).toBeGreaterThanOrEqual(1);
    expect(picked.length).toBeLessThanOrEqual(10);
    const byId = new Map(images.map((i) => [i.id, i]));
    const pickedImages = picked.map((r: { image: { id: string } }) => byId.get(fromGlobalId('Image', r.image.id, 'id'))!);
    // The uncertain verdicts first (two per log-odds bin), then — the budget not spent — at most two of the nearly
    // certain screen clears (one bin); never the images with a task already.
    for (const [n, image] of pickedImages.entries()) {
      expect(images.indexOf(image)).toBeLessThan(uncertain.length + sure.length);
      expect(picked[n]).toMatchObject({ status: 'PENDING', uncertainty: expect.closeTo(uncertaintyOf(image.p), 4) });
    }
    expect(pickedImages.filter((i: { p: number }) => i.p === 0.005)).toHaveLength(2);
    expect(pickedImages.filter((i: { p: number }) => i.p !== 0.005).length).toBeGreaterThanOrEqual(4);
    const bins = new Map<string, number>();
    for (const image of pickedImages)
      bins.set(
        binOf({ stage: image.stage, probability: image.p }),
        (bins.get(binOf({ stage: image.stage, probability: image.p })) ?? 0) + 1,
      );
    expect(Math.max(...bins.values())).toBeLessThanOrEqual(2);
    expect(
      result.reviewTasks
        .filter((r: { reason: string }) => r.reason !== 'ACTIVE_LEARNING')
        .map((r: { reason: string }) => r.reason)
        .sort(),
    ).toEqual(['LOW_CONFIDENCE', 'SAMPLED_QA']);

    // Stored: the stage-2 detection it questions, and half its uncertainty as its place in the queue.
    for (const task of await learningTasks(
      t,
      images.map((i) => i.id),
    )) {
      const image = byId.get(task.imageId)!;
      // A screen-cleared image has no stage-2 detection to question.
      expect(task.detectionId).toBe(image.stage === 'INSPECT' ? image.detectionId : null);
      expect(task.priority).toBeCloseTo(task.uncertainty / 2, 4);
    }
    const queue = ok(await t.gql(`{ reviewQueue(first: 50, reasons: [ACTIVE_LEARNING]) { nodes { reason } } }`)).reviewQueue.nodes;
    expect(queue.length).toBeGreaterThanOrEqual(picked.length);
  });

  it('creates nothing twice when the finish step is replayed, before or after the run was marked done', async () => {
    const type = `al-replay-${crypto.randomUUID().slice(0, 6)}`;
    const { run, images } = await runWith(t, type, nearDecision(12));
    await finish(run.id);
    const first = await learningTasks(
      t,
      images.map((i) => i.id),
    );
    expect(first.length).toBeGreaterThan(0);

    // A redelivered FinishRun after the run succeeded.
    await finish(run.id);
    // A crash after the picks were stored but before the run was marked done: the step runs again whole.
    await t.app.db.prisma.workflowRun.update({ where: { id: run.id }, data: { status: 'RUNNING', finishedAt: null } });
    expect(await finish(run.id)).toEqual({ status: 'SUCCEEDED' });
    const service = new ActiveLearningService({
      prisma: t.app.db.prisma,
      tasks: t.app.services.reviewQueue,
      budget: { perRun: 10, perDay: 200 },
      log: t.app.log,
    });
    await Promise.all([service.sampleRun(run.id), service.sampleRun(run.id)]);
    expect(
      (
        await learningTasks(
          t,
          images.map((i) => i.id),
        )
      ).map((x) => x.id),
    ).toEqual(first.map((x) => x.id));

    // Two attempts at once (a redelivered step racing the first) share one budget.
    const tight = new ActiveLearningService({
      prisma: t.app.db.prisma,
      tasks: t.app.services.reviewQueue,
      budget: { perRun: 3, perDay: 200 },
      log: t.app.log,
    });
    const racing = await runWith(t, type, nearDecision(12));
    await Promise.all([tight.sampleRun(racing.run.id), tight.sampleRun(racing.run.id)]);
    expect(
      await learningTasks(
        t,
        racing.images.map((i) => i.id),
      ),
    ).toHaveLength(3);
  });

  it('keeps to the per-run budget and to the per-day budget of each device type', async () => {
    const service = new ActiveLearningService({
      prisma: t.app.db.prisma,
      tasks: t.app.services.reviewQueue,
      budget: { perRun: 3, perDay: 5 },
      log: t.app.log,
    });
    const type = `al-budget-${crypto.randomUUID().slice(0, 6)}`;
    const picks = async (deviceType: string, now?: Date) => {
      const { run, images } = await runWith(t, deviceType, nearDecision(12));
      await service.sampleRun(run.id, now);
      return (
        await learningTasks(
          t,
          images.map((i) => i.id),
        )
      ).length;
    };
    expect(await picks(type)).toBe(3);
    expect(await picks(type)).toBe(2);
    expect(await picks(type)).toBe(0);
    // Another device type has a budget of its own, and tomorrow the first one has again.
    expect(await picks(`${type}-other`)).toBe(3);
    expect(await picks(type, new Date(Date.now() + 24 * 3600 * 1000))).toBe(3);

    const off = new ActiveLearningService({
      prisma: t.app.db.prisma,
      tasks: t.app.services.reviewQueue,
      budget: { perRun: 10, perDay: 0 },
      log: t.app.log,
    });
    const { run, images } = await runWith(t, `${type}-off`, nearDecision(12));
    expect(await off.sampleRun(run.id)).toEqual([]);
    expect(
      await learningTasks(
        t,
        images.map((i) => i.id),
      ),
    ).toEqual([]);
  });
});

describe('an ACTIVE_LEARNING task', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MODEL_RETRAIN_AFTER_LABELS: '0' });
  });
  afterAll(() => t?.stop());

  it('waits below LOW_CONFIDENCE work that is as unsure', async () => {
    const type = `al-queue-${crypto.randomUUID().slice(0, 6)}`;
    const { run } = await runWith(t, type, [
      { p: 0.5, outcome: 'NORMAL' },
      { p: 0.4, outcome: 'UNCERTAIN', task: 'LOW_CONFIDENCE' },
      { p: 0.2, outcome: 'UNCERTAIN', task: 'LOW_CONFIDENCE' },
    ]);
    await finishRun.run(t.app.services, { runId: run.id });
    const order = ok(await t.gql(`{ reviewQueue(first: 10) { nodes { reason uncertainty } } }`)).reviewQueue.nodes;
    // A coin toss the model still called NORMAL (uncertainty 1, place 0.5) comes after the unsure 0.8, before the 0.4.
    expect(order).toEqual([
      { reason: 'LOW_CONFIDENCE', uncertainty: 0.8 },
      { reason: 'ACTIVE_LEARNING', uncertainty: 1 },
      { reason: 'LOW_CONFIDENCE', uncertainty: 0.4 },
    ]);
    const reviewer = await newKey(t, 'REVIEWER');
    const claimed = [];
    for (let i = 0; i < 3; i++) claimed.push(ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview.reason);
    expect(claimed).toEqual(['LOW_CONFIDENCE', 'ACTIVE_LEARNING', 'LOW_CONFIDENCE']);
  });

  it("becomes a dataset entry when answered, and stays out of model health's QA figures", async () => {
    const prisma = t.app.db.prisma;
    const type = `al-label-${crypto.randomUUID().slice(0, 6)}`;
    const { run, images } = await runWith(t, type, nearDecision(6));
    await finishRun.run(t.app.services, { runId: run.id });
    const tasks = await learningTasks(
      t,
      images.map((i) => i.id),
    );
    expect(tasks.length).toBeGreaterThan(0);

    const reviewer = await newKey(t, 'REVIEWER');
    const mine = new Set(tasks.map((x) => toGlobalId('ReviewTask', x.id)));
    const others: string[] = [];
    for (let answered = 0; answered < tasks.length; ) {
      const claimed = ok(await t.gql(CLAIM, { skip: others }, reviewer)).claimNextReview;
      expect(claimed).not.toBeNull();
      if (!mine.has(claimed.id)) {
        others.push(claimed.id);
        continue;
      }
      expect(claimed.reason).toBe('ACTIVE_LEARNING');
      const verdict = answered === 0 ? 'ANOMALOUS' : 'NORMAL';
      const regions = verdict === 'ANOMALOUS' ? [{ box: { x: 0.1, y: 0.1, width: 0.3, height: 0.3 }, type: 'crack' }] : [];
      expect(ok(await t.gql(SUBMIT, { id: claimed.id, v: verdict, r: regions }, reviewer)).submitReview).toMatchObject({
        status: 'COMPLETED',
        verdict,
      });
      answered++;
    }

    const entries = await prisma.datasetEntry.findMany({ where: { reviewTaskId: { in: tasks.map((x) => x.id) } } });
    expect(entries).toHaveLength(tasks.length);
    expect(entries.filter((e) => e.label === 'ANOMALOUS')).toHaveLength(1);
    const datasets = ok(await t.gql(`{ datasets { deviceType counts { total anomalous } } }`)).datasets;
    expect(datasets.find((d: { deviceType: string }) => d.deviceType === type).counts).toEqual({ total: tasks.length, anomalous: 1 });

    const HEALTH = `query($t: String!) { modelHealth(deviceType: $t) { qa { samples } lowConfidence { samples } } }`;
    expect(ok(await t.gql(HEALTH, { t: type })).modelHealth).toEqual({ qa: { samples: 0 }, lowConfidence: { samples: 0 } });
    // A QA sample of the same fleet does count: the monitor reads the device type, only the reason keeps the picks out.
    const later = await runWith(t, type, [{ p: 0.1 }]);
    const qaImage = later.images[0];
    await prisma.reviewTask.create({
      data: {
        imageId: qaImage.id,
        inspectionId: later.inspection.id,
        detectionId: qaImage.detectionId,
        reason: 'SAMPLED_QA',
        status: 'COMPLETED',
        verdict: 'NORMAL',
        completedAt: new Date(),
      },
    });
    expect(ok(await t.gql(HEALTH, { t: type })).modelHealth).toEqual({ qa: { samples: 1 }, lowConfidence: { samples: 0 } });
  });
});
