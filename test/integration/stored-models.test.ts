import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadArtifact } from '../../src/anomaly-model/artifact';
import { StoredModels } from '../../src/models/model-artifacts';
import { startTestApp, type TestApp } from '../support/app';
import { installTestModels } from '../support/workflow';

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await startTestApp();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-stored-models-'));
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('stored model versions', () => {
  it('asks the database once for a version no training stored, again once that answer is older than its keep time, and keeps a found key', async () => {
    const type = `stored-${crypto.randomUUID().slice(0, 6)}`;
    await installTestModels(dir, type);
    const artifact = await loadArtifact(path.join(dir, type, 'screen.vgm'));
    const { version } = artifact.manifest;
    const prisma = t.app.db.prisma;
    const models = new StoredModels(prisma, t.app.objectStore.store, { absentKeptMs: 300 });
    let asked = 0;
    const stopCounting = t.app.db.onQuery(({ sql }) => (asked += /^\s*SELECT[\s\S]*"model_versions"/.test(sql) ? 1 : 0));
    try {
      // A model file's version (MODELS_DIR): no row names it, so each picture judged with it asked before.
      expect(await models.load(type, 'screen', version)).toBeNull();
      expect(await models.load(type, 'screen', version)).toBeNull();
      expect(asked).toBe(1);
      const stored = await models.put(type, artifact);
      const dataset = await t.app.services.datasets.forDeviceType(prisma, type);
      await prisma.modelVersion.create({
        data: {
          datasetId: dataset.id,
          deviceType: type,
          profile: 'SCREEN',
          status: 'TRAINED',
          trainer: 'builtin',
          version,
          artifactKey: stored.key,
        },
      });
      await new Promise((r) => setTimeout(r, 350));
      expect((await models.load(type, 'screen', version))?.manifest.version).toBe(version);
      expect((await models.load(type, 'screen', version))?.manifest.version).toBe(version);
      expect(asked).toBe(2);
      // Another profile of the same version is its own question.
      expect(await models.load(type, 'inspect', version)).toBeNull();
      expect(asked).toBe(3);
    } finally {
      stopCounting();
    }
  });
});
