import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ADMIN_SECRET, type GraphQLResponse, ok, type TestApp } from '../support/app';
import { MAIN, spawnServer } from '../support/server-process';
import { deviceWithInspection, installTestModels, surfacePhoto, uploadImages } from '../support/workflow';

// SIGKILL the server in the middle of a 120-image run, start it again: the run is resumed and
// completes, and every image has exactly one detection per stage it reached.

const IMAGES = 120;

let tdb: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does) before these tests');
  tdb = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-crash-'));
  await installTestModels(path.join(dataDir, 'models'), 'insulator');
}, 120_000);

afterAll(async () => {
  await tdb?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function startServer() {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    VIGIL_ADMIN_API_KEY: ADMIN_SECRET,
    WORKFLOW_AUTO_START: 'false',
    WORKFLOW_MAP_CONCURRENCY: '2',
  };
  if (tdb.config.kind === 'postgres') env.DATABASE_URL = tdb.config.url;
  return spawnServer(env);
}

/** Just enough of TestApp for the upload helpers, against a spawned server. */
function client(url: string): TestApp {
  const gql = async (query: string, variables?: Record<string, unknown>) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_SECRET}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResponse;
  };
  return { gql } as unknown as TestApp;
}

const RUNS = `query($id: ID!) { inspection(id: $id) { status workflowRuns { id status progress { done total } } } }`;

describe('a workflow run interrupted by SIGKILL', () => {
  it('is resumed at the next start and completes with exactly one detection per image and stage', async () => {
    let server = await startServer();
    const api = client(server.url);
    const { inspectionId } = await deviceWithInspection(api, 'insulator');
    const photos = await Promise.all(Array.from({ length: IMAGES }, (_, i) => surfacePhoto(2000 + i, i % 10 === 0)));
    for (let i = 0; i < IMAGES; i += 50) await uploadImages(api, inspectionId, photos.slice(i, i + 50));
    const run = ok(await api.gql(`mutation($id: ID!) { startInspection(inspectionId: $id) { id } }`, { id: inspectionId })).startInspection;

    // Kill it mid-run: some images judged, most not.
    let done = 0;
    while (done < 20) {
      await new Promise((r) => setTimeout(r, 50));
      done = ok(await api.gql(RUNS, { id: inspectionId })).inspection.workflowRuns[0].progress.done;
    }
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    expect(done).toBeLessThan(IMAGES);

    server = await startServer();
    try {
      const again = client(server.url);
      let inspection: any;
      const deadline = Date.now() + 240_000;
      do {
        await new Promise((r) => setTimeout(r, 250));
        inspection = ok(await again.gql(RUNS, { id: inspectionId })).inspection;
        if (Date.now() > deadline) throw new Error(`not resumed: ${JSON.stringify(inspection)}`);
      } while (inspection.workflowRuns[0].status === 'RUNNING' || inspection.workflowRuns[0].status === 'QUEUED');
      // One request reads the inspection, then its runs, in separate statements: the run's last step can commit
      // between the two. Read both again now that the run has ended.
      inspection = ok(await again.gql(RUNS, { id: inspectionId })).inspection;
      expect(server.lines.some((l) => l.includes('resuming a workflow run interrupted by a stop'))).toBe(true);
      expect(inspection).toEqual({
        status: 'COMPLETED',
        workflowRuns: [{ id: run.id, status: 'SUCCEEDED', progress: { done: IMAGES, total: IMAGES } }],
      });

      const perImage = ok(
        await again.gql(`query($id: ID!) { inspection(id: $id) { images(first: 500) { nodes { detections { stage } } } } }`, {
          id: inspectionId,
        }),
      ).inspection.images.nodes as { detections: { stage: string }[] }[];
      expect(perImage).toHaveLength(IMAGES);
      for (const image of perImage) {
        expect(image.detections.filter((d) => d.stage === 'SCREEN')).toHaveLength(1);
        expect(image.detections.filter((d) => d.stage === 'INSPECT').length).toBeLessThanOrEqual(1);
      }
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
  }, 400_000);
});
