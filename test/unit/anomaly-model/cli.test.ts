import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { writeDataset } from '../../support/textures';

const BIN = path.join(__dirname, '../../../bin/vigil.js');
let root: string;

function vigil(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [BIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-model-cli-'));
  await writeDataset(path.join(root, 'train'), { normal: 16, anomalous: 6, seed: 11 });
  await writeDataset(path.join(root, 'test'), { normal: 4, anomalous: 4, seed: 900 });
}, 60_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('vigil model', () => {
  it('trains, evaluates with a report, and predicts with a heatmap', async () => {
    const model = path.join(root, 'screen.vgm');
    const trained = await vigil(['model', 'train', path.join(root, 'train'), '--profile', 'screen', '--out', model, '--seed', '5']);
    expect(trained.stderr).toMatch(/features: 22 step\(s\)/);
    expect(trained.code).toBe(0);
    expect(JSON.parse(trained.stdout)).toMatchObject({
      out: model,
      profile: 'screen',
      trainingSet: { normal: 16, anomalous: 6, supervised: true },
    });

    const reportDir = path.join(root, 'report');
    const evaluated = await vigil(['model', 'eval', model, path.join(root, 'test'), '--report-dir', reportDir]);
    expect(evaluated.code).toBe(0);
    expect(evaluated.stdout).toMatch(/image AUROC +│ +\d\.\d{3}/);
    const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'report.json'), 'utf8'));
    for (const key of ['imageAuroc', 'pixelAuroc', 'precision', 'recall', 'f1', 'threshold', 'reviewBand', 'reviewBandShare', 'count'])
      expect(report).toHaveProperty(key);
    expect(report.count).toBe(8);
    const html = fs.readFileSync(path.join(reportDir, 'report.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg/g)).toHaveLength(2);

    const heatmap = path.join(root, 'heat.png');
    const predicted = await vigil(['model', 'predict', model, path.join(root, 'test/anomalous/blob/a0.png'), '--heatmap', heatmap]);
    expect(predicted.code).toBe(0);
    const result = JSON.parse(predicted.stdout);
    expect(result).toMatchObject({
      isAnomalous: expect.any(Boolean),
      confidence: expect.any(Number),
      score: expect.any(Number),
      regions: expect.any(Array),
    });
    expect((await sharp(fs.readFileSync(heatmap)).metadata()).format).toBe('png');
  }, 120_000);

  it('trains on two cores to the same model as on one: a worker thread looks at the flipped views', async () => {
    const train = (cores: string) =>
      vigil([
        'model',
        'train',
        path.join(root, 'train'),
        '--profile',
        'screen',
        '--views',
        '2',
        '--cores',
        cores,
        '--seed',
        '5',
        '--out',
        path.join(root, `c${cores}.vgm`),
      ]);
    const [one, two] = [await train('1'), await train('2')];
    expect([one.code, two.code]).toEqual([0, 0]);
    expect(JSON.parse(two.stdout).version).toBe(JSON.parse(one.stdout).version);
    const said = 'a second backbone on another core looks at the flipped views';
    expect(two.stderr).toContain(said);
    expect(one.stderr).not.toContain(said);
  }, 120_000);

  it.each([
    [
      ['model', 'train', '/no/such/dataset', '--out', '/tmp/x.vgm', '--cores', '3'],
      "'--cores <n>' argument '3' is invalid. expected a whole number from 1 to 2",
    ],
    [['model', 'predict', '/no/such/model.vgm', '/no/such.png'], 'cannot read the model /no/such/model.vgm: ENOENT'],
    [['model', 'train', '/no/such/dataset', '--out', '/tmp/x.vgm'], 'has no normal images'],
    [
      ['model', 'train', '/no/such/dataset', '--out', '/tmp/x.vgm', '--seed', '-1'],
      "'--seed <n>' argument '-1' is invalid. expected a whole number from 0 to 4294967295",
    ],
    [
      ['model', 'train', '/no/such/dataset', '--out', '/tmp/x.vgm', '--views', '7'],
      "'--views <n>' argument '7' is invalid. expected a whole number from 1 to 4",
    ],
  ])('%j fails with a clear message', async (args, message) => {
    const run = await vigil(args);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
  });

  it('says when a model file is corrupt', async () => {
    const bad = path.join(root, 'bad.vgm');
    fs.writeFileSync(bad, 'garbage');
    const run = await vigil(['model', 'predict', bad, path.join(root, 'test/normal/n0.png')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is not a vigil model');
  });
});
