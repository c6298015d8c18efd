import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ok, startTestApp, type TestApp } from '../support/app';
import { offset, photo } from '../support/images';

const BIN = path.join(__dirname, '../../bin/vigil.js');
const BASE = { latitude: 48.2, longitude: 16.37 };
let t: TestApp;
let key: string;
let folder: string;

function vigil(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [BIN, ...args], { env: { ...process.env, VIGIL_API_KEY: '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const write = (name: string, bytes: Buffer | string) => {
  fs.mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
  fs.writeFileSync(path.join(folder, name), bytes);
};

beforeAll(async () => {
  t = await startTestApp();
  key = await t.keyFor('OPERATOR');
  for (const [externalId, at] of [
    ['tower-1', BASE],
    ['tower-2', offset(BASE.latitude, BASE.longitude, 300, 0)],
  ] as const) {
    ok(
      await t.gql(
        `mutation($e: String!, $lat: Float!, $lon: Float!) { createDevice(input: { externalId: $e, name: $e, type: "insulator", latitude: $lat, longitude: $lon }) { id } }`,
        { e: externalId, lat: at.latitude, lon: at.longitude },
      ),
    );
  }
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ingest-'));
  write('DJI_0001.JPG', await photo({ ...offset(BASE.latitude, BASE.longitude, 5, 0), seed: 1 }));
  write('day2/DJI_0002.JPG', await photo({ ...offset(BASE.latitude, BASE.longitude, 290, 0), seed: 2 }));
  write('DJI_0003.jpg', await photo({ seed: 3 }));
  const good = await photo({ seed: 4 });
  write('broken.jpg', good.subarray(0, Math.floor(good.length / 2)));
  write('readme-really.jpg', 'this is not a photograph\n');
  write('flight-log.txt', 'altitude 40 m\n');
  write('.DS_Store', 'x');
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(folder, { recursive: true, force: true });
});

describe('vigil ingest', () => {
  it('uploads a survey folder, matches by GPS, reports progress and every failure, and exits non-zero', async () => {
    const run = await vigil(['ingest', folder, '--match-gps', '--url', t.app.url, '--api-key', key, '--concurrency', '3']);
    expect(run.code).toBe(1);
    // Not a terminal: one plain progress line per file, with counts, MB, rate and ETA.
    const progress = run.stdout.split('\n').filter((l) => /^\[\d\/5\]/.test(l));
    expect(progress).toHaveLength(5);
    for (const line of progress) expect(line).toMatch(/^\[\d\/5\] +\d+% [\d.]+\/[\d.]+ MB [\d.]+ files\/s ETA \S+ {2}\S+: /);
    expect(run.stdout).toMatch(/DJI_0001\.JPG: accepted → tower-1 \(5 m\)/);
    expect(run.stdout).toMatch(/day2\/DJI_0002\.JPG: accepted → tower-2 \(10 m\)/);
    expect(run.stdout).toMatch(/│ accepted +│ +2 │/);
    expect(run.stdout).toMatch(/│ unassigned: NO_GPS +│ +1 │/);
    expect(run.stdout).toMatch(/│ rejected: CORRUPT +│ +1 │/);
    expect(run.stdout).toMatch(/│ rejected: UNSUPPORTED_TYPE +│ +1 │/);
    expect(run.stdout).toContain('1 other file(s) ignored (not an image name): flight-log.txt');
    expect(run.stdout).toContain('2 file(s) failed:');
    expect(run.stdout).toMatch(/ {2}broken\.jpg: rejected CORRUPT: /);
    expect(run.stdout).toMatch(/ {2}readme-really\.jpg: rejected UNSUPPORTED_TYPE: /);
    expect(run.stdout).not.toContain('.DS_Store');

    const images = await t.app.db.prisma.image.findMany({ orderBy: { filename: 'asc' } });
    expect(images.map((i) => [i.filename, i.status, i.deviceMatch])).toEqual([
      ['DJI_0001.JPG', 'READY', 'MATCHED'],
      ['DJI_0002.JPG', 'READY', 'MATCHED'],
      ['DJI_0003.jpg', 'READY', 'NO_GPS'],
      ['broken.jpg', 'REJECTED', 'PENDING'],
    ]);
  });

  it('resumes: a second run sends only new files and creates nothing twice', async () => {
    write('DJI_0005.JPG', await photo({ ...offset(BASE.latitude, BASE.longitude, 0, 4), seed: 5 }));
    const run = await vigil(['ingest', folder, '--match-gps', '--url', t.app.url], { VIGIL_API_KEY: key });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/DJI_0001\.JPG: already uploaded, accepted → tower-1/);
    expect(run.stdout).toMatch(/DJI_0005\.JPG: accepted → tower-1 \(4 m\)/);
    expect(run.stdout).toMatch(/│ accepted \(uploaded by an earlier run\) +│ +2 │/);
    expect(run.stdout).toMatch(/│ accepted +│ +1 │/);
    expect(await t.app.db.prisma.survey.count()).toBe(1);
    expect(await t.app.db.prisma.image.count()).toBe(5);
    // One inspection per device and survey, however many runs.
    expect(await t.app.db.prisma.inspection.count()).toBe(2);
  });

  it('puts every file into one inspection of a device named by external id, and exits 0 when all went in', async () => {
    const clean = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ingest-clean-'));
    try {
      for (const i of [1, 2, 3]) fs.writeFileSync(path.join(clean, `IMG_${i}.jpg`), await photo({ seed: 10 + i }));
      const run = await vigil(['ingest', clean, '--device', 'tower-2', '--source', 'VEHICLE', '--url', t.app.url, '--api-key', key]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/│ accepted +│ +3 │/);
      const inspection = await t.app.db.prisma.inspection.findFirstOrThrow({
        where: { source: 'VEHICLE' },
        include: { images: true, device: true },
      });
      expect(inspection.device.externalId).toBe('tower-2');
      expect(inspection.images).toHaveLength(3);
    } finally {
      fs.rmSync(clean, { recursive: true, force: true });
    }
  });

  it.each([
    [['--match-gps', '--device', 'tower-1'], 'choose one of --device <id> or --match-gps'],
    [[], 'choose one of --device <id> or --match-gps'],
    [['--match-gps', '--api-key', ''], 'an API key is needed'],
    [['--device', 'no-such-tower', '--api-key', 'KEY'], 'no device has the id or external id "no-such-tower"'],
    [['--match-gps', '--api-key', 'vgl_wrong'], 'unknown or revoked API key'],
    [['--match-gps', '--api-key', 'KEY', '--concurrency', '0'], 'expected a whole number from 1 to 64'],
  ])('refuses %j with a clear message', async (args, message) => {
    const run = await vigil(['ingest', folder, '--url', t.app.url, ...args.map((a) => (a === 'KEY' ? key : a))]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
  });

  it('says so when the server cannot be reached', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const run = await vigil(['ingest', folder, '--match-gps', '--url', `http://127.0.0.1:${port}`, '--api-key', key]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);
  });
});
