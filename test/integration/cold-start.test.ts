import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { ok, startTestApp, type TestApp } from '../support/app';
import { untilTrained } from '../support/models';
import { writeDataset } from '../support/textures';
import { deviceWithInspection, surfacePhoto, uploadImages, waitForRun } from '../support/workflow';

// Cold start: a device type with normal pictures only (no labels yet) gets the memory model through
// importDataset + trainModel, and its first survey is judged by the models, not by people.

jest.setTimeout(300_000);

const IMPORT = `mutation($i: ImportDatasetInput!) { importDataset(input: $i) { dataset { id } imported } }`;
const TRAIN = `mutation($i: TrainModelInput!) { trainModel(input: $i) { id status } }`;
const VERSION = `query($id: ID!) { modelVersion(id: $id) { id status error cause version metrics { auroc testCount normal anomalous } } }`;
const DEPLOY = `mutation($i: DeployModelInput!) { deployModel(input: $i) { id model { version } } }`;
const START = `mutation($id: ID!) { startInspection(inspectionId: $id) { id } }`;
const RESULT = `query($id: ID!) {
  inspection(id: $id) {
    reviewTasks { reason image { id } }
    images(first: 50) { nodes { id detections { stage modelVersion isAnomalous } anomalies(first: 5) { nodes { id } } } }
  }
}`;

let t: TestApp;
let root: string;
beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cold-start-'));
  t = await startTestApp({ WORKFLOW_AUTO_START: 'false', REVIEW_QA_SHARE: '0', REVIEW_LEARNING_PER_RUN: '0', IMPORT_ROOT: root });
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

it('trains memory models from normal pictures only, and the first survey is judged without people', async () => {
  const type = `cold-${crypto.randomUUID().slice(0, 6)}`;
  await writeDataset(path.join(root, 'train'), { normal: 24, anomalous: 0, seed: 11 });
  await writeDataset(path.join(root, 'test'), { normal: 6, anomalous: 0, seed: 700 });
  const { dataset } = ok(await t.gql(IMPORT, { i: { deviceType: type, folder: 'train', split: 'TRAIN' } })).importDataset;
  ok(await t.gql(IMPORT, { i: { deviceType: type, folder: 'test', split: 'TEST' } }));

  for (const profile of ['SCREEN', 'INSPECT']) {
    const started = ok(await t.gql(TRAIN, { i: { datasetId: dataset.id, profile } })).trainModel;
    const version = await untilTrained(t, VERSION, started.id);
    // No anomaly anywhere yet: the test split measures no AUROC, and says so rather than inventing one.
    expect(version).toMatchObject({ status: 'TRAINED', error: null, metrics: { auroc: null, testCount: 6, normal: 6, anomalous: 0 } });
    expect(version.version).toMatch(new RegExp(`^${profile.toLowerCase()}-[0-9a-f]{12}$`));
    ok(await t.gql(DEPLOY, { i: { id: version.id } }));
  }

  const { inspectionId } = await deviceWithInspection(t, type);
  const defective = [false, true, false, true, false, false, true, false, true, false];
  const imageIds = await uploadImages(t, inspectionId, await Promise.all(defective.map((d, i) => surfacePhoto(3000 + i, d))));
  const isDefective = new Map(imageIds.map((id, i) => [id, defective[i]]));
  ok(await t.gql(START, { id: inspectionId }));
  expect((await waitForRun(t, inspectionId, 120_000)).status).toBe('COMPLETED');

  const result = ok(await t.gql(RESULT, { id: inspectionId })).inspection;
  // The models judged every picture: no COLD_START task, and people see at most a few uncertain ones.
  expect(result.reviewTasks.filter((r: { reason: string }) => r.reason === 'COLD_START')).toEqual([]);
  expect(result.reviewTasks.length).toBeLessThanOrEqual(3);
  const asked = new Set(result.reviewTasks.map((r: { image: { id: string } }) => r.image.id));
  for (const image of result.images.nodes) {
    expect(image.detections.some((d: { stage: string }) => d.stage === 'SCREEN')).toBe(true);
    if (asked.has(image.id)) continue;
    // Judged without a person: an anomaly exactly on the defective pictures.
    expect([image.id, image.anomalies.nodes.length > 0]).toEqual([image.id, isDefective.get(image.id)]);
  }
});
