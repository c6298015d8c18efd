import crypto from 'node:crypto';
import { type ModelDriftEvent } from '../../src/adapters/event-bus/event-bus.port';
import { ok, startTestApp, type TestApp } from '../support/app';
import { CLAIM, newKey, SUBMIT } from '../support/reviews';

jest.setTimeout(120_000);

const HEALTH = `query($t: String!) { modelHealth(deviceType: $t) {
  deviceType belowFloor drifting labelsWaiting lastTrainedAt
  settings { window minSamples floor }
  qa { samples tp fp tn fn precision recall agreement }
  lowConfidence { samples tp fp tn fn precision recall agreement }
  serving { id version }
} }`;

describe('agreement monitor', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      MODEL_HEALTH_MIN_SAMPLES: '4',
      MODEL_HEALTH_FLOOR: '0.8',
      MODEL_HEALTH_WINDOW: '50',
      MODEL_RETRAIN_AFTER_LABELS: '0',
    });
  });
  afterAll(() => t?.stop());

  /** A device type with a deployed INSPECT version and review tasks on its detections, as the workflow leaves them. */
  async function fleetWithModel() {
    const prisma = t.app.db.prisma;
    const type = `health-${crypto.randomUUID().slice(0, 6)}`;
    const dataset = await t.app.services.datasets.forDeviceType(prisma, type);
    const version = await prisma.modelVersion.create({
      data: {
        datasetId: dataset.id,
        deviceType: type,
        profile: 'INSPECT',
        status: 'TRAINED',
        trainer: 'builtin',
        version: `inspect-${type}`,
      },
    });
    await t.app.services.modelDeployments.deploy(version.id);
    const device = await prisma.device.create({ data: { externalId: type, name: type, type } });
    const inspection = await prisma.inspection.create({
      data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(), requestedBy: 'test' },
    });
    const task = async (
      reason: 'SAMPLED_QA' | 'LOW_CONFIDENCE',
      modelSaysAnomalous: boolean,
      done?: 'NORMAL' | 'ANOMALOUS' | 'CANCELLED',
    ) => {
      const sha256 = crypto.randomBytes(32).toString('hex');
      const image = await prisma.image.create({
        data: { inspectionId: inspection.id, objectKey: `images/${sha256}`, sha256, contentType: 'image/jpeg', bytes: 1, status: 'READY' },
      });
      const detection = await prisma.detection.create({
        data: {
          imageId: image.id,
          stage: 'INSPECT',
          detector: 'builtin-inspect',
          modelVersion: version.version!,
          isAnomalous: modelSaysAnomalous,
          confidence: 0.9,
        },
      });
      return prisma.reviewTask.create({
        data: {
          imageId: image.id,
          inspectionId: inspection.id,
          detectionId: detection.id,
          reason,
          ...(done === 'CANCELLED'
            ? { status: 'CANCELLED' as const }
            : done
              ? { status: 'COMPLETED' as const, verdict: done, completedAt: new Date() }
              : {}),
        },
      });
    };
    return { type, version, task };
  }

  it('estimates precision and recall from QA samples, and keeps low-confidence tasks apart', async () => {
    const { type, version, task } = await fleetWithModel();
    // QA: 3 true positives, 1 false positive, 5 true negatives, 1 false negative.
    for (let i = 0; i < 3; i++) await task('SAMPLED_QA', true, 'ANOMALOUS');
    await task('SAMPLED_QA', true, 'NORMAL');
    for (let i = 0; i < 5; i++) await task('SAMPLED_QA', false, 'NORMAL');
    await task('SAMPLED_QA', false, 'ANOMALOUS');
    // Low confidence: the model was wrong on all four: that must not leak into the QA estimate.
    for (let i = 0; i < 4; i++) await task('LOW_CONFIDENCE', i % 2 === 0, i % 2 === 0 ? 'NORMAL' : 'ANOMALOUS');
    // Tasks without a verdict do not count.
    await task('SAMPLED_QA', true, 'CANCELLED');

    const h = ok(await t.gql(HEALTH, { t: type })).modelHealth;
    expect(h.qa).toEqual({ samples: 10, tp: 3, fp: 1, tn: 5, fn: 1, precision: 0.75, recall: 0.75, agreement: 0.8 });
    expect(h.lowConfidence).toEqual({ samples: 4, tp: 0, fp: 2, tn: 0, fn: 2, precision: 0, recall: 0, agreement: 0 });
    expect(h.settings).toEqual({ window: 50, minSamples: 4, floor: 0.8 });
    expect(h.belowFloor).toBe(true);
    // Not raised yet: the alert fires when a review completes (below).
    expect(h.drifting).toBe(false);
    expect(h.serving).toEqual([{ id: expect.any(String), version: version.version }]);
  });

  it('fires modelDrift and logs once when the QA estimate falls below the floor, not on every later review', async () => {
    const { type, task } = await fleetWithModel();
    for (let i = 0; i < 4; i++) await task('SAMPLED_QA', true, 'ANOMALOUS');
    await task('SAMPLED_QA', false, 'NORMAL');
    const heard: ModelDriftEvent[] = [];
    const iterator = t.app.events.subscribe('MODEL_DRIFT')[Symbol.asyncIterator]();
    const listening = (async () => {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        heard.push(next.value);
      }
    })();

    // The model said NORMAL; the reviewers find anomalies: recall falls 1 → 4/5 → 4/6 → 4/7.
    const reviewer = await newKey(t, 'REVIEWER');
    for (let i = 0; i < 3; i++) {
      await task('SAMPLED_QA', false);
      const claimed = ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview;
      ok(
        await t.gql(
          SUBMIT,
          { id: claimed.id, v: 'ANOMALOUS', r: [{ box: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 }, type: 'crack' }] },
          reviewer,
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(heard.filter((e) => e.deviceType === type)).toHaveLength(1);
    const event = heard.find((e) => e.deviceType === type)!;
    expect(event).toMatchObject({ recall: 4 / 6, samples: 7, floor: 0.8 });
    const h = ok(await t.gql(HEALTH, { t: type })).modelHealth;
    expect(h).toMatchObject({ belowFloor: true, drifting: true });
    expect(h.qa.recall).toBeCloseTo(4 / 7, 6);
    expect(ok(await t.gql(`query($t: String) { activeModels(deviceType: $t) { drifting } }`, { t: type })).activeModels).toEqual([
      { drifting: true },
    ]);
    await iterator.return?.();
    await listening;
  });
});
