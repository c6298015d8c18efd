import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// A server on the embedded defaults must not hold what only an AWS configuration, a model or a webhook
// delivery needs: the AWS SDK clients (~26 MB), tfjs (~7 MB) and undici (~10 MB) load on first use.
// Checked in a fresh Node process on the built service, whose module cache is the real one.

const ROOT = path.resolve(__dirname, '../../..');
const HEAVY = /node_modules\/(@aws-sdk\/client-[^/]+|@tensorflow\/[^/]+|undici)\//;

/** The heavy packages a fresh process holds after running `script` (CommonJS, from the repository root). */
function heavyPackagesAfter(script: string): string[] {
  const probe = `${script}
    const seen = new Set();
    for (const file of Object.keys(require.cache)) { const m = ${HEAVY}.exec(file); if (m) seen.add(m[1]); }
    process.stdout.write(JSON.stringify([...seen].sort()));`;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', probe], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    }),
  );
}

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist/src/app/app.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
});

describe('drivers that load on first use', () => {
  it('keeps the AWS SDK, tfjs and undici out of a service built on the embedded defaults', () => {
    const loaded = heavyPackagesAfter(`
      require('./dist/src/runtime-defaults');
      require('./dist/src/app/app');
      const { loadConfig } = require('./dist/src/config/config');
      const config = loadConfig({ DATA_DIR: require('node:os').tmpdir() });
      require('./dist/src/adapters/object-store/object-store.factory').createObjectStore(config.objectStore);
      require('./dist/src/adapters/webhook-transport/webhook-transport.factory').createWebhookTransport({ connectionsPerOrigin: 2 });`);
    expect(loaded).toEqual([]);
  });

  it('loads the S3 client when OBJECT_STORE=s3, and tfjs with the first model', () => {
    const loaded = heavyPackagesAfter(`
      const { loadConfig } = require('./dist/src/config/config');
      const config = loadConfig({ OBJECT_STORE: 's3', S3_BUCKET: 'vigil', S3_REGION: 'eu-west-1' });
      require('./dist/src/adapters/object-store/object-store.factory').createObjectStore(config.objectStore);
      require('./dist/src/common/tfjs-wasm').tfjsWasm();`);
    expect(loaded).toEqual(expect.arrayContaining(['@aws-sdk/client-s3', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']));
  });
});
