import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Database, openDatabase } from '../../src/db/database';

// The embedded database has one owner at a time. These tests open a real PGlite folder, so they share one temporary
// DATA_DIR (creating a database takes seconds) and run in order; each test closes what it opened.
const ROOT = path.resolve(__dirname, '../..');
/** Short for the test; every process opening the folder must use the same value (the default is 15 s). */
const STALE_MS = 5000;

let dataDir: string;
let dbDir: string;
const opened: Database[] = [];

async function open(onLockLost?: (err: Error) => void): Promise<Database> {
  const db = await openDatabase({ kind: 'pglite', dataDir: dbDir }, { lockStaleMs: STALE_MS, onLockLost });
  opened.push(db);
  return db;
}

async function close(db: Database): Promise<void> {
  opened.splice(opened.indexOf(db), 1);
  await db.close();
}

const lockDir = () => `${fs.realpathSync(dbDir)}.lock`;
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const children: ChildProcess[] = [];

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lock-'));
  dbDir = path.join(dataDir, 'db');
});
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
  for (const child of children.splice(0)) child.kill('SIGKILL');
  fs.rmSync(path.join(dataDir, 'vigil.lock'), { force: true });
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

/** Runs openDatabase from the build (npm test builds first, as for the other process tests) in another node process; resolves once it is open. */
function openInChild() {
  const built = path.join(ROOT, 'dist/src/db/database.js');
  if (!fs.existsSync(built)) throw new Error('dist/ is missing: run `npm run build` (npm test does) before these tests');
  const script = `
    Promise.resolve(require(${JSON.stringify(built)}))
      .then((m) => m.openDatabase({ kind: 'pglite', dataDir: process.env.LOCK_TEST_DIR }, { lockStaleMs: ${STALE_MS} }))
      .then(() => console.log('open'), (err) => { console.error(err); process.exit(1); });
    setInterval(() => undefined, 60_000);`;
  const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, LOCK_TEST_DIR: dbDir } });
  children.push(child);
  let output = '';
  return new Promise<typeof child>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('open\n')) resolve(child);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => reject(new Error(`the child exited with ${code ?? signal}: ${output}`)));
  });
}

describe('the embedded database folder lock', () => {
  it.each(['own', '1'])('is not blocked by a vigil.lock pid file of an older version naming a live PID (%s)', async (which) => {
    const pid = which === 'own' ? String(process.pid) : which;
    fs.mkdirSync(dbDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'vigil.lock'), pid);
    const db = await open();
    await expect(db.ping()).resolves.toBeUndefined();
    // It meant nothing, so it is gone.
    expect(fs.existsSync(path.join(dataDir, 'vigil.lock'))).toBe(false);
    await close(db);
  });

  it('refuses a second open of a folder that is open, then opens it once the first is closed', async () => {
    const first = await open();
    await expect(open()).rejects.toThrow(
      new RegExp(
        `embedded database in ${escaped(dbDir)} is in use by another process.*stop that process or set DATA_DIR to another folder`,
      ),
    );
    await close(first);
    const again = await open();
    await expect(again.ping()).resolves.toBeUndefined();
    await close(again);
    expect(fs.existsSync(lockDir())).toBe(false);
  });

  it('says so when the lock is lost while the database is open', async () => {
    let lost: (err: Error) => void = () => undefined;
    const reported = new Promise<Error>((resolve) => (lost = resolve));
    const db = await open((err) => lost(err));
    fs.rmSync(lockDir(), { recursive: true });
    // Noticed at the next refresh, a fifth of the stale period.
    const err = await reported;
    expect(err.message).toMatch(
      new RegExp(`lost the lock on the embedded database in ${escaped(dbDir)}.*another process may now use the folder`),
    );
    await close(db);
  });

  it('takes over the lock of a process killed with SIGKILL within the stale period', async () => {
    const child = await openInChild();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // The killed process could not release its lock.
    expect(fs.statSync(lockDir()).isDirectory()).toBe(true);
    const started = Date.now();
    const db = await open();
    // The stale period, plus opening PGlite on a busy machine.
    expect(Date.now() - started).toBeLessThan(STALE_MS + 15_000);
    await expect(db.ping()).resolves.toBeUndefined();
    await close(db);
  }, 120_000);
});
