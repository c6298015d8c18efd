import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ok, startTestApp, type TestApp } from '../support/app';
import { daysAgo, defectsOf } from '../support/repairs';
import { CLAIM, newKey, SUBMIT } from '../support/reviews';
import { installTestModels, surfacePhoto, uploadImages, waitForRun } from '../support/workflow';

// The production path: the built-in models find the anomalies, and the end of each detection run
// links them to defects. The same defective photo flown twice is one defect seen twice.

let t: TestApp;
let modelsDir: string;
beforeAll(async () => {
  modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-repairs-models-'));
  await installTestModels(modelsDir, 'insulator');
  // Every confident verdict is also sampled for a person, so reviewers can confirm or reject what the model found.
  t = await startTestApp({ VIGIL_MODELS_DIR: modelsDir, REVIEW_QA_SHARE: '1' }, { retryIntervalMs: 1 });
}, 180_000);
afterAll(async () => {
  await t?.stop();
  fs.rmSync(modelsDir, { recursive: true, force: true });
});

async function flight(deviceId: string, capturedAt: Date, photo: Buffer) {
  const inspection = ok(
    await t.gql(`mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }`, {
      i: { deviceId, source: 'DRONE', capturedAt: capturedAt.toISOString() },
    }),
  ).createInspection;
  await uploadImages(t, inspection.id, [photo]);
  const run = await waitForRun(t, inspection.id);
  expect(run.workflowRuns.at(-1).status).toBe('SUCCEEDED');
  return inspection.id as string;
}

/** The device's defects once `done` holds: a run is SUCCEEDED a moment before its last step has tracked the device. */
async function defectsWhen(deviceId: string, done: (defects: Record<string, any>[]) => boolean) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const defects = await defectsOf(t, deviceId);
    if (done(defects)) return defects;
    if (Date.now() > deadline) throw new Error(`defects never as expected: ${JSON.stringify(defects)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const newInsulator = async (externalId: string) =>
  ok(
    await t.gql(`mutation($e: String!) { createDevice(input: { externalId: $e, name: $e, type: "insulator" }) { id } }`, { e: externalId }),
  ).createDevice.id as string;

/** A reviewer answers the sampled task of this inspection (others wait in the queue too). */
async function review(reviewer: string, inspectionId: string, verdict: 'NORMAL' | 'ANOMALOUS') {
  const raw = Buffer.from(inspectionId, 'base64url').toString('utf8').split(':')[1];
  const others = await t.app.db.prisma.reviewTask.findMany({ where: { inspectionId: { not: raw } }, select: { id: true } });
  const skip = others.map((o) => Buffer.from(`ReviewTask:${o.id}`).toString('base64url'));
  const task = ok(await t.gql(CLAIM, { skip }, reviewer)).claimNextReview;
  expect(task).not.toBeNull();
  ok(await t.gql(SUBMIT, { id: task.id, v: verdict }, reviewer));
}

describe('defects from the models', () => {
  it('opens a defect for what a run finds, and a repeat flight adds an observation instead of a second defect', async () => {
    const device = ok(
      await t.gql(
        `mutation { createDevice(input: { externalId: "ins-repair-1", name: "ins 1", type: "insulator", criticality: HIGH }) { id } }`,
      ),
    ).createDevice;
    const photo = await surfacePhoto(7, true);
    await flight(device.id, daysAgo(20), photo);
    const first = await defectsWhen(device.id, (ds) => ds.length > 0);
    for (const d of first) expect(d).toMatchObject({ status: 'OPEN', observationCount: 1 });
    const anomalies = ok(
      await t.gql(`query($id: ID!) { device(id: $id) { anomalies(first: 20) { nodes { status severity defect { id } } } } }`, {
        id: device.id,
      }),
    ).device.anomalies.nodes;
    for (const a of anomalies) {
      expect(a.severity).not.toBeNull();
      expect(first.map((d) => d.id)).toContain(a.defect.id);
    }

    await flight(device.id, daysAgo(1), photo);
    const again = await defectsWhen(device.id, (ds) => ds.some((d) => d.observationCount === 2));
    expect(again.map((d) => d.id)).toEqual(first.map((d) => d.id));
    for (const d of again) expect(d).toMatchObject({ status: 'OPEN', observationCount: 2, growth: 1 });
    const queue = ok(
      await t.gql(`query($f: RepairQueueFilter) { repairQueue(filter: $f) { totalCount nodes { factors { criticality } } } }`, {
        f: { deviceIds: [device.id] },
      }),
    ).repairQueue;
    expect(queue.totalCount).toBe(first.length);
    expect(queue.nodes[0].factors.criticality).toBe(2);
  });

  it('is confirmed by a reviewer who agrees and dismissed once reviewers reject every observation', async () => {
    const reviewer = await newKey(t, 'REVIEWER');
    const photo = await surfacePhoto(7, true);
    const confirmed = await newInsulator('ins-repair-2');
    const seen = await flight(confirmed, daysAgo(5), photo);
    const before = await defectsWhen(confirmed, (ds) => ds.length > 0);
    expect(before.every((d) => d.status === 'OPEN' && !d.confirmed)).toBe(true);
    // Anomalous without boxes confirms what the model found.
    await review(reviewer, seen, 'ANOMALOUS');
    const after = await defectsOf(t, confirmed);
    expect(after.map((d) => d.id)).toEqual(before.map((d) => d.id));
    expect(after.every((d) => d.status === 'OPEN' && d.confirmed)).toBe(true);

    const rejected = await newInsulator('ins-repair-3');
    const older = await flight(rejected, daysAgo(5), photo);
    const newer = await flight(rejected, daysAgo(2), photo);
    const twice = await defectsWhen(rejected, (ds) => ds.length > 0 && ds.every((d) => d.observationCount === 2));
    expect(twice.every((d) => d.status === 'OPEN')).toBe(true);
    await review(reviewer, newer, 'NORMAL');
    const one = await defectsOf(t, rejected);
    expect(one.every((d) => d.status === 'OPEN' && d.observationCount === 1)).toBe(true);
    expect(one.map((d) => d.lastSeenAt)).toEqual(one.map((d) => d.firstSeenAt));
    await review(reviewer, older, 'NORMAL');
    const dismissed = await defectsOf(t, rejected);
    expect(dismissed.length).toBe(one.length);
    for (const d of dismissed) expect(d).toMatchObject({ status: 'DISMISSED', resolution: 'every observation was rejected' });
    const device = ok(await t.gql(`query($id: ID!) { device(id: $id) { status } }`, { id: rejected })).device;
    expect(device.status).toBe('OK');
  });
});
