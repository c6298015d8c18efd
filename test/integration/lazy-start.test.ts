import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ok, startTestApp, type TestApp } from '../support/app';
import { deviceWithInspection, installTestModels, surfacePhoto, uploadImages, waitForRun } from '../support/workflow';
import { createLogger } from '../../src/logging/logger';

// What a server leaves for later: the built-in models' backbone (weights and a wasm heap, ~100 MB) loads with the
// first image they judge, and the local workflow engine checks its ASL files with the first run. Both say so in
// the log; BACKBONE_WARM_AT_START=true loads the backbone at start instead.

let modelsDir: string;
const apps: TestApp[] = [];

/** A test app whose info log is kept as parsed lines. */
async function start(env: Record<string, string> = {}) {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const log = createLogger({ logLevel: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const t = await startTestApp({ VIGIL_MODELS_DIR: modelsDir, WORKFLOW_AUTO_START: 'false', ...env }, { log });
  apps.push(t);
  return { t, messages: () => lines.map((l) => l.msg) };
}

beforeAll(async () => {
  modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-models-dir-'));
  await installTestModels(modelsDir, 'insulator');
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map((t) => t.stop()));
  fs.rmSync(modelsDir, { recursive: true, force: true });
});

const START = `mutation($id: ID!) { startInspection(inspectionId: $id) { id } }`;
const SCREENED = `query($id: ID!) { inspection(id: $id) { images(first: 10) { nodes { detections { stage detector } } } } }`;

describe('a server start', () => {
  it('is ready without the backbone and the workflow engine, which load with the first inspection and judge its images', async () => {
    const { t, messages } = await start();
    expect((await fetch(`${t.app.url}/readyz`)).status).toBe(200);
    expect(messages()).toContain('vigil is listening');
    expect(messages()).not.toContain('loading the backbone');
    expect(messages()).not.toContain('local workflow engine ready');

    const { inspectionId } = await deviceWithInspection(t, 'insulator');
    await uploadImages(t, inspectionId, [await surfacePhoto(4242, false), await surfacePhoto(4243, true)]);
    ok(await t.gql(START, { id: inspectionId }));
    expect((await waitForRun(t, inspectionId)).status).toBe('COMPLETED');

    expect(messages()).toEqual(expect.arrayContaining(['local workflow engine ready', 'loading the backbone', 'backbone ready']));
    expect(messages().filter((m) => m === 'backbone ready')).toHaveLength(1);
    const images = ok(await t.gql(SCREENED, { id: inspectionId })).inspection.images.nodes;
    expect(images).toHaveLength(2);
    for (const image of images) expect(image.detections).toContainEqual({ stage: 'SCREEN', detector: 'builtin-screen' });
  });

  it('loads the backbone at start with BACKBONE_WARM_AT_START=true', async () => {
    const { messages } = await start({ BACKBONE_WARM_AT_START: 'true' });
    const until = Date.now() + 60_000;
    while (!messages().includes('backbone ready') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(messages()).toContain('loading the backbone');
    expect(messages()).toContain('backbone ready');
  });
});
