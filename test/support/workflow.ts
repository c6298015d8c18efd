import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saveArtifact } from '../../src/anomaly-model/artifact';
import { readDatasetFolder } from '../../src/anomaly-model/dataset';
import { train } from '../../src/anomaly-model/detector';
import { openMobilenetBackbone } from '../../src/adapters/backbone/mobilenet.driver';
import { drawDefect, surface, toPng, writeDataset } from './textures';
import { ok, type TestApp } from './app';

/**
 * Trains small screen and inspect models on generated textures and puts them where the workflow
 * looks: <modelsDir>/<deviceType>/{screen,inspect}.vgm. Deterministic (seeded), so the models are
 * made once per process and copied.
 */
let trained: Promise<string> | undefined;
export async function installTestModels(modelsDir: string, deviceType: string): Promise<void> {
  trained ??= (async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-models-'));
    await writeDataset(path.join(root, 'data'), { normal: 16, anomalous: 8, seed: 11 });
    const dataset = await readDatasetFolder(path.join(root, 'data'));
    const backbone = await openMobilenetBackbone();
    for (const profile of ['screen', 'inspect'] as const) {
      await saveArtifact(path.join(root, `${profile}.vgm`), await train(backbone, dataset, { profile, seed: 5 }));
    }
    await backbone.close();
    return root;
  })();
  const root = await trained;
  fs.mkdirSync(path.join(modelsDir, deviceType), { recursive: true });
  for (const profile of ['screen', 'inspect'])
    fs.copyFileSync(path.join(root, `${profile}.vgm`), path.join(modelsDir, deviceType, `${profile}.vgm`));
}

/** A generated surface photo; `defective` draws a scratch or blob into it. */
export async function surfacePhoto(seed: number, defective: boolean): Promise<Buffer> {
  const side = 160;
  const px = surface(seed, side);
  if (defective) drawDefect(px, side, seed, seed % 2 ? 'scratch' : 'blob');
  return toPng(px, side);
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** Creates a device and an inspection through the API; returns their global ids. */
export async function deviceWithInspection(t: TestApp, type: string, externalId = `${type}-${crypto.randomUUID().slice(0, 8)}`) {
  const device = ok(
    await t.gql(`mutation($i: DeviceInput!) { createDevice(input: $i) { id } }`, {
      i: { externalId, name: `${type} ${externalId}`, type, latitude: 52.1, longitude: 5.1 },
    }),
  ).createDevice;
  const inspection = ok(
    await t.gql(`mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }`, {
      i: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(Date.now() - 3600_000).toISOString() },
    }),
  ).createInspection;
  return { deviceId: device.id as string, inspectionId: inspection.id as string };
}

/** Uploads PNGs into an inspection through the public flow (request, PUT, complete); returns the image ids in order. */
export async function uploadImages(
  t: TestApp,
  inspectionId: string,
  images: Buffer[],
  options: { complete?: boolean } = {},
): Promise<string[]> {
  const files = images.map((b, i) => ({ filename: `img-${i}.png`, contentType: 'image/png', byteSize: b.length, sha256: sha(b) }));
  const tickets = ok(
    await t.gql(
      `mutation($i: ID!, $files: [UploadFileInput!]!) { requestImageUploads(inspectionId: $i, files: $files) { uploadUrl uploadHeaders image { id } problem { message } } }`,
      { i: inspectionId, files },
    ),
  ).requestImageUploads as { uploadUrl: string; uploadHeaders: Record<string, string>; image: { id: string }; problem: unknown }[];
  for (const [i, ticket] of tickets.entries()) {
    if (ticket.problem) throw new Error(`upload ${i} refused: ${JSON.stringify(ticket.problem)}`);
    const res = await fetch(ticket.uploadUrl, { method: 'PUT', body: images[i], headers: ticket.uploadHeaders });
    if (!res.ok) throw new Error(`PUT ${i}: ${res.status} ${await res.text()}`);
  }
  const ids = tickets.map((x) => x.image.id);
  if (options.complete !== false) ok(await t.gql(`mutation($ids: [ID!]!) { completeImageUploads(imageIds: $ids) { id status } }`, { ids }));
  return ids;
}

/** Polls until the inspection's latest run has ended; returns the inspection with its runs. */
export async function waitForRun(t: TestApp, inspectionId: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const data = ok(
      await t.gql(
        `query($id: ID!) { inspection(id: $id) { status workflowRuns { id status error cause engine progress { done total } } } }`,
        { id: inspectionId },
      ),
    ).inspection;
    const last = data.workflowRuns.at(-1);
    // The inspection and its runs are read by two statements: the run may have ended between them. Once
    // it has, read again, so the inspection's status is the one the run's end wrote.
    if (last && (last.status === 'SUCCEEDED' || last.status === 'FAILED')) {
      return ok(
        await t.gql(
          `query($id: ID!) { inspection(id: $id) { status workflowRuns { id status error cause engine progress { done total } } } }`,
          { id: inspectionId },
        ),
      ).inspection;
    }
    if (Date.now() > deadline) throw new Error(`run did not end in ${timeoutMs} ms: ${JSON.stringify(data)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
