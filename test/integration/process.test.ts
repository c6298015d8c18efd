import { type ChildProcessWithoutNullStreams, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database';
import { MAIN, spawnServer } from '../support/server-process';

// The built entry points, as `npm start` and `npx vigil` run them (npm test builds first).
const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/vigil.js');

let dataDir: string;
let tdb: TestDatabase;
beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does) before these tests');
  tdb = await createTestDatabase();
});
afterAll(() => tdb.drop());
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-proc-'));
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function env(extra: Record<string, string> = {}) {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' };
  if (tdb.config.kind === 'postgres') base.DATABASE_URL = tdb.config.url;
  return { ...base, ...extra };
}

function cli(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: env(extra), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the server and resolves with it and its URL once it logs that it listens. */
const startServer = (extra: Record<string, string> = {}) => spawnServer(env(extra));

const exited = (child: ChildProcessWithoutNullStreams) => new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

describe('the vigil process', () => {
  it('explains every command with --help', () => {
    const top = cli(['--help']);
    expect(top.status).toBe(0);
    for (const command of ['serve', 'migrate', 'api-key']) expect(top.stdout).toContain(command);
    for (const args of [
      ['migrate', '--help'],
      ['serve', '--help'],
      ['api-key', 'create', '--help'],
    ]) {
      const r = cli(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Usage: vigil /);
    }
    expect(cli(['api-key', 'create', '--help']).stdout).toContain('--role <role>');
  });

  it('exits 1 naming the variable when the configuration is wrong', () => {
    const r = spawnSync(process.execPath, [MAIN], { env: env({ PORT: 'eighty', DATABASE_URL: 'mysql://x' }), encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('PORT="eighty": expected a whole number');
    expect(r.stderr).toContain('DATABASE_URL="mysql://x": expected a postgresql://');
  });

  it('says how to get an API key when none exists', async () => {
    const { child, lines } = await startServer();
    child.kill('SIGTERM');
    await exited(child);
    // This runs before any test of this file creates a key, on PostgreSQL too.
    const hint = lines.filter((l) => l.includes('VIGIL_ADMIN_API_KEY'));
    expect(hint).toHaveLength(1);
    expect(JSON.parse(hint[0]).msg).toMatch(/restart with VIGIL_ADMIN_API_KEY=/);
  });

  it('migrates, creates a key from the command line, serves with it and stops cleanly on SIGTERM', async () => {
    const migrated = cli(['migrate']);
    expect(migrated.status).toBe(0);
    const created = cli(['api-key', 'create', '--name', 'ci bot', '--role', 'OPERATOR']);
    expect(created.status).toBe(0);
    const { secret, role } = JSON.parse(created.stdout);
    expect(role).toBe('OPERATOR');

    const { child, url, lines } = await startServer();
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: '{ viewer { name role } }' }),
    });
    expect(await res.json()).toEqual({ data: { viewer: { name: 'ci bot', role: 'OPERATOR' } } });

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(lines.join('\n')).toContain('vigil stopped');
    const requestLog = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request');
    expect(requestLog).toMatchObject({ method: 'POST', url: '/graphql', status: 200, reqId: expect.any(String) });
    expect(JSON.stringify(lines)).not.toContain(secret);
  });

  // They used to hang: the CLI opened the Redis event bus and closed only the database.
  it('runs migrate and api-key create to the end when REDIS_URL is set (the CLI opens no event bus)', () => {
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };
    const migrated = spawnSync(process.execPath, [BIN, 'migrate'], { env: env(redis), encoding: 'utf8', timeout: 90_000 });
    expect([migrated.status, migrated.signal]).toEqual([0, null]);
    const created = spawnSync(process.execPath, [BIN, 'api-key', 'create', '--name', 'redis bot', '--role', 'INTEGRATOR'], {
      env: env(redis),
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect([created.status, created.signal]).toEqual([0, null]);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'redis bot', role: 'INTEGRATOR' });
  }, 200_000);

  // Only the embedded database has a single owner; a PostgreSQL server takes many instances.
  (serverUrl ? it.skip : it)('refuses a second server on the same embedded database folder', async () => {
    const first = await startServer();
    const second = spawnSync(process.execPath, [MAIN], { env: env(), encoding: 'utf8', timeout: 60_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(
      /embedded database in \S+ is in use by another process.*stop that process or set DATA_DIR to another folder/,
    );
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);
  });
});
