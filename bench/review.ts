// npm run bench:review [-- --images 200]
//
// The human-review path on the embedded defaults: how soon after the workflow asks for a review
// the task is claimable (a reviewer polls claimNextReview while the run is going), and how many
// tasks per minute the API sustains for two scripted reviewers answering through GraphQL.
// The browser's own figure (the /review page driven by headless Chromium) is printed by
// test/integration/review-page.test.ts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApp } from '../src/app/app';
import { loadConfig } from '../src/config/config';
import { surface, toPng } from '../test/support/textures';
import { GraphQLClient } from './graphql-client';

const ADMIN = 'bench-admin-secret-0123456789abcdef';
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const pct = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

type App = Awaited<ReturnType<typeof startApp>>;

/** Inspections of one device: `upload` creates an inspection and PUTs the images, `complete` starts their processing. */
function uploader(gql: GraphQLClient, deviceId: string) {
  const upload = async (images: Buffer[]) => {
    const inspection = (
      await gql.request(`mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }`, {
        i: { deviceId, source: 'DRONE', capturedAt: new Date().toISOString() },
      })
    ).createInspection;
    const files = images.map((b, i) => ({ filename: `r-${i}.png`, contentType: 'image/png', byteSize: b.length, sha256: sha(b) }));
    const tickets = (
      await gql.request(
        `mutation($i: ID!, $f: [UploadFileInput!]!) { requestImageUploads(inspectionId: $i, files: $f) { uploadUrl uploadHeaders image { id } } }`,
        { i: inspection.id, f: files },
      )
    ).requestImageUploads;
    for (const [i, t] of tickets.entries()) await fetch(t.uploadUrl, { method: 'PUT', body: images[i], headers: t.uploadHeaders });
    return { inspectionId: inspection.id, imageIds: tickets.map((t: { image: { id: string } }) => t.image.id) as string[] };
  };
  const complete = (ids: string[]) => gql.request(`mutation($ids: [ID!]!) { completeImageUploads(imageIds: $ids) { id } }`, { ids });
  return { upload, complete };
}

/**
 * 1. Claimable latency, one image at a time so no backlog hides it: the workflow starts on
 *    completeImageUploads, and an idle reviewer polls claimNextReview every 10 ms.
 */
async function claimLatency(app: App, reviewer: GraphQLClient, { upload, complete }: ReturnType<typeof uploader>, rounds: number) {
  const fromCommit: number[] = [];
  const fromUpload: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const { imageIds } = await upload([await toPng(surface(900 + r, 160), 160)]);
    let committedAt = 0;
    const listening = (async () => {
      for await (const _ of app.events.subscribe('REVIEW_TASK_CREATED')) {
        committedAt = Date.now();
        break;
      }
    })();
    await new Promise((res) => setTimeout(res, 20));
    const completedAt = Date.now();
    await complete(imageIds);
    for (;;) {
      const task = (await reviewer.request(`mutation { claimNextReview { id } }`, {})).claimNextReview;
      if (task) {
        const claimedAt = Date.now();
        await listening;
        fromCommit.push(claimedAt - committedAt);
        fromUpload.push(claimedAt - completedAt);
        await reviewer.request(`mutation($id: ID!) { submitReview(taskId: $id, verdict: NORMAL) { id } }`, { id: task.id });
        break;
      }
      await new Promise((res) => setTimeout(res, 10));
    }
  }
  return { fromCommit, fromUpload };
}

async function waitForRun(gql: GraphQLClient, inspectionId: string) {
  for (;;) {
    const runs = (await gql.request(`query($id: ID!) { inspection(id: $id) { workflowRuns { status } } }`, { id: inspectionId })).inspection
      .workflowRuns;
    if (runs.at(-1) && ['SUCCEEDED', 'FAILED'].includes(runs.at(-1).status)) break;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** One scripted reviewer: claim + submit until the queue is empty, alternating NORMAL and ANOMALOUS with a box; returns the tasks answered. */
async function answerAll(reviewer: GraphQLClient): Promise<number> {
  let n = 0;
  for (;;) {
    const task = (await reviewer.request(`mutation { claimNextReview { id } }`, {})).claimNextReview;
    if (!task) return n;
    const anomalous = n % 2 === 1;
    await reviewer.request(
      `mutation($id: ID!, $v: ReviewVerdict!, $r: [ReviewRegionInput!]) { submitReview(taskId: $id, verdict: $v, regions: $r) { status } }`,
      {
        id: task.id,
        v: anomalous ? 'ANOMALOUS' : 'NORMAL',
        r: anomalous ? [{ box: { x: 0.2, y: 0.2, width: 0.3, height: 0.3 }, type: 'crack' }] : [],
      },
    );
    n++;
  }
}

async function main() {
  const count = Number(arg('images', '200'));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-review-'));
  const config = loadConfig({
    DATA_DIR: path.join(root, 'data'),
    PORT: '0',
    LOG_LEVEL: 'warn',
    VIGIL_ADMIN_API_KEY: ADMIN,
    API_KEY_CACHE_MS: '60000',
    ...process.env,
  });
  const app = await startApp(config);
  const gql = new GraphQLClient(app.url, ADMIN);
  try {
    const reviewers = [
      gql.withApiKey((await app.services.apiKeys.create('bench reviewer 1', 'REVIEWER')).secret),
      gql.withApiKey((await app.services.apiKeys.create('bench reviewer 2', 'REVIEWER')).secret),
    ];
    // A device type without a model: each image becomes a COLD_START task the moment the workflow judges it.
    const device = (
      await gql.request(`mutation($i: DeviceInput!) { createDevice(input: $i) { id } }`, {
        i: { externalId: `bench-${Date.now()}`, name: 'bench', type: 'bench-review' },
      })
    ).createDevice;
    const inspections = uploader(gql, device.id);

    const rounds = Number(arg('rounds', '30'));
    const { fromCommit, fromUpload } = await claimLatency(app, reviewers[0], inspections, rounds);
    console.log(`${rounds} single-image inspections of a device type without a model:`);
    console.log(
      `  task committed → claimed by a reviewer polling every 10 ms: p50 ${pct(fromCommit, 50)} ms, p95 ${pct(fromCommit, 95)} ms, max ${Math.max(...fromCommit)} ms (target ≤ 1000 ms)`,
    );
    console.log(
      `  completeImageUploads → claimed (upload processing + workflow + claim): p50 ${pct(fromUpload, 50)} ms, p95 ${pct(fromUpload, 95)} ms`,
    );

    const batch = await inspections.upload(await Promise.all(Array.from({ length: count }, (_, i) => toPng(surface(500 + i, 160), 160))));
    await inspections.complete(batch.imageIds);
    await waitForRun(gql, batch.inspectionId);
    // 2. Throughput of the API for two scripted reviewers (claim + submit, alternating NORMAL and ANOMALOUS with a box).
    const started = performance.now();
    const done = (await Promise.all(reviewers.map(answerAll))).reduce((a, b) => a + b, 0);
    const minutes = (performance.now() - started) / 60_000;
    console.log(
      `two scripted reviewers through the API: ${done} tasks in ${(minutes * 60).toFixed(1)} s = ${Math.round(done / minutes)} tasks/min (each answer writes anomalies, a dataset entry, a mask and the manifest)`,
    );
    const entries = await app.db.prisma.datasetEntry.count();
    console.log(
      `dataset entries: ${entries}; manifest lines: ${(await app.db.prisma.dataset.findMany()).length ? 'see datasets { manifestUrl }' : 'none'}`,
    );
  } finally {
    await app.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
