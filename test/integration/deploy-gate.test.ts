import crypto from 'node:crypto';
import { toGlobalId } from '../../src/common/global-id';
import { failure, ok, startTestApp, type TestApp } from '../support/app';

// The deploy gate on figures set by hand (the versions' metrics as EvaluateModel stores them): which
// figures it compares and what it decides are the subject, not training.

jest.setTimeout(60_000);

const DEPLOY = `mutation($i: DeployModelInput!) { deployModel(input: $i) { id overridden
  gate { passed compared reasons margins { recall f1 auroc precisionAtRecall }
    candidate { modelVersionId recall f1 auroc atRecall precisionAtRecall fprAtRecall }
    active { recall f1 auroc atRecall precisionAtRecall fprAtRecall } } } }`;
const VERSION = `query($id: ID!) { modelVersion(id: $id) {
  metrics { auroc recall f1 threshold atRecall precisionAtRecall fprAtRecall }
  baselineMetrics { auroc atRecall precisionAtRecall }
  deployments { gate { passed compared reasons margins { recall f1 auroc precisionAtRecall } candidate { f1 precisionAtRecall } } }
} }`;

interface Figures {
  auroc: number | null;
  recall: number;
  f1: number;
  threshold: number;
  precisionAtRecall?: number;
  fprAtRecall?: number;
}

describe('the deploy gate', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MODEL_RETRAIN_AFTER_LABELS: '0' });
  });
  afterAll(() => t?.stop());

  const metrics = (f: Figures) => ({
    source: 'builtin',
    testCount: 40,
    normal: 30,
    anomalous: 10,
    precision: 0.8,
    reviewBandShare: 0.1,
    accuracyOutsideBand: 0.95,
    confusion: null,
    splitHash: 'split-1',
    ...(f.precisionAtRecall !== undefined ? { atRecall: 0.95 } : {}),
    ...f,
  });

  async function version(deviceType: string, f: Figures, baseline?: { id: string; figures: Figures }) {
    const prisma = t.app.db.prisma;
    const dataset = await t.app.services.datasets.forDeviceType(prisma, deviceType);
    return prisma.modelVersion.create({
      data: {
        datasetId: dataset.id,
        deviceType,
        profile: 'INSPECT',
        status: 'TRAINED',
        trainer: 'builtin',
        version: `inspect-${crypto.randomBytes(6).toString('hex')}`,
        metrics: {
          ...metrics(f),
          baseline: baseline ? { modelVersionId: baseline.id, version: null, metrics: metrics(baseline.figures) } : null,
        },
      },
    });
  }
  const deploy = (id: string) => t.gql(DEPLOY, { i: { id: toGlobalId('ModelVersion', id) } });

  const serving: Figures = { auroc: 0.9, recall: 0.95, f1: 0.85, threshold: 1.0, precisionAtRecall: 0.6, fprAtRecall: 0.2 };

  it('accepts a candidate with better AUROC and precision at 95% recall although its own threshold moved and its recall there fell', async () => {
    const type = `gate-moved-${crypto.randomUUID().slice(0, 6)}`;
    const active = await version(type, serving);
    ok(await deploy(active.id));
    // Its operating threshold moved up: recall and F1 at it look worse (the old gate refused this),
    // yet it ranks anomalies better and is more precise when it must catch 95% of them.
    const moved: Figures = { auroc: 0.94, recall: 0.8, f1: 0.78, threshold: 1.6, precisionAtRecall: 0.7, fprAtRecall: 0.12 };
    const candidate = await version(type, moved, { id: active.id, figures: serving });
    const deployed = ok(await deploy(candidate.id)).deployModel;
    expect(deployed.overridden).toBe(false);
    expect(deployed.gate).toMatchObject({
      passed: true,
      compared: ['auroc', 'precisionAtRecall'],
      reasons: [],
      margins: { recall: 0.02, f1: 0.02, auroc: 0.01, precisionAtRecall: 0.02 },
      candidate: { recall: 0.8, auroc: 0.94, atRecall: 0.95, precisionAtRecall: 0.7, fprAtRecall: 0.12 },
      active: { recall: 0.95, auroc: 0.9, atRecall: 0.95, precisionAtRecall: 0.6, fprAtRecall: 0.2 },
    });

    const shown = ok(await t.gql(VERSION, { id: toGlobalId('ModelVersion', candidate.id) })).modelVersion;
    expect(shown.metrics).toMatchObject({ atRecall: 0.95, precisionAtRecall: 0.7, fprAtRecall: 0.12, threshold: 1.6 });
    expect(shown.baselineMetrics).toMatchObject({ atRecall: 0.95, precisionAtRecall: 0.6 });
    expect(shown.deployments[0].gate).toMatchObject({ passed: true, compared: ['auroc', 'precisionAtRecall'] });
  });

  it('refuses a clearly worse candidate and says in words which figure fell', async () => {
    const type = `gate-worse-${crypto.randomUUID().slice(0, 6)}`;
    const active = await version(type, serving);
    ok(await deploy(active.id));
    // Its recall and F1 at its own threshold even look better: the stable figures decide.
    const worse = await version(
      type,
      { auroc: 0.8, recall: 0.97, f1: 0.88, threshold: 0.4, precisionAtRecall: 0.4, fprAtRecall: 0.45 },
      { id: active.id, figures: serving },
    );
    const refused = failure(await deploy(worse.id));
    expect(refused.extensions?.code).toBe('GATE_REFUSED');
    expect(refused.message).toMatch(/AUROC 0\.800 < 0\.900 − margin 0\.01/);
    expect(refused.message).toMatch(/precision at recall 0\.95: 0\.400 < 0\.600 − margin 0\.02/);
    expect(refused.extensions?.gate).toMatchObject({ passed: false, compared: ['auroc', 'precisionAtRecall'] });

    // Within the margins is not worse.
    const close = await version(
      type,
      { auroc: 0.895, recall: 0.9, f1: 0.8, threshold: 1.2, precisionAtRecall: 0.59, fprAtRecall: 0.21 },
      { id: active.id, figures: serving },
    );
    expect(ok(await deploy(close.id)).deployModel.gate).toMatchObject({ passed: true, reasons: [] });
  });

  it('falls back to recall and F1 at each threshold when a version lacks a figure, as cloud services report only some', async () => {
    const type = `gate-cloud-${crypto.randomUUID().slice(0, 6)}`;
    const active = await version(type, serving);
    ok(await deploy(active.id));
    // Lookout for Vision reports precision, recall and F1 only: no AUROC, no precision at a fixed recall.
    const cloud = await version(type, { auroc: null, recall: 0.85, f1: 0.84, threshold: 0.5 }, { id: active.id, figures: serving });
    const refused = failure(await deploy(cloud.id));
    expect(refused.extensions?.code).toBe('GATE_REFUSED');
    expect(refused.extensions?.gate).toMatchObject({ compared: ['recall', 'f1'], reasons: ['recall 0.850 < 0.950 − margin 0.02'] });
    const fine = await version(type, { auroc: null, recall: 0.96, f1: 0.86, threshold: 0.5 }, { id: active.id, figures: serving });
    expect(ok(await deploy(fine.id)).deployModel.gate).toMatchObject({ passed: true, compared: ['recall', 'f1'] });
  });

  it('still shows gates stored before these figures existed', async () => {
    const type = `gate-old-${crypto.randomUUID().slice(0, 6)}`;
    const v = await version(type, { auroc: 0.9, recall: 0.9, f1: 0.9, threshold: 1 });
    const dataset = await t.app.services.datasets.forDeviceType(t.app.db.prisma, type);
    expect(dataset.id).toBe(v.datasetId);
    const old = {
      passed: true,
      splitHash: 'split-1',
      candidate: { modelVersionId: v.id, version: v.version, recall: 0.9, f1: 0.9, auroc: 0.9 },
      active: null,
      margins: { recall: 0.02, f1: 0.02 },
      reasons: [],
    };
    await t.app.db.prisma.modelDeployment.create({
      data: { deviceType: type, profile: 'INSPECT', modelVersionId: v.id, action: 'DEPLOY', gate: old },
    });
    const shown = ok(await t.gql(VERSION, { id: toGlobalId('ModelVersion', v.id) })).modelVersion;
    expect(shown.metrics).toMatchObject({ atRecall: null, precisionAtRecall: null, fprAtRecall: null });
    expect(shown.deployments[0].gate).toEqual({
      passed: true,
      compared: null,
      reasons: [],
      margins: { recall: 0.02, f1: 0.02, auroc: null, precisionAtRecall: null },
      candidate: { f1: 0.9, precisionAtRecall: null },
    });
  });
});
