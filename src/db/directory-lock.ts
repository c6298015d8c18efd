import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LockOptions, lock } from 'proper-lockfile';

export interface DirectoryLock {
  release(): Promise<void>;
}

export interface DirectoryLockOptions {
  /**
   * A lock whose mtime was not refreshed for this long was left by a dead process and is taken over (at least 2 s).
   * The holder refreshes it every fifth of this, so every process opening the folder must use the same value.
   */
  staleMs?: number;
  /** Called when the lock is lost while held (removed, or taken over after a long stall). Default: throw the error. */
  onLost?: (err: Error) => void;
}

const DEFAULT_LOCK_STALE_MS = 15_000;

/** How often a process waiting for a lock looks at it. */
const POLL_MS = 250;

/** How often the holder refreshes its lock: several times per stale period. */
const refreshMs = (staleMs: number) => Math.max(1000, Math.round(staleMs / 5));

/**
 * Locks a folder for this process with proper-lockfile: a `<folder>.lock` directory next to it whose mtime the holder
 * keeps fresh. A lock left by a dead process is taken over once stale; one that is refreshed while we wait has a live
 * holder, and is refused. No PID is involved, so a reused PID (PID 1 in a container) cannot block start-up.
 */
export async function acquireDirectoryLock(dir: string, options: DirectoryLockOptions = {}): Promise<DirectoryLock> {
  const staleMs = Math.max(options.staleMs ?? DEFAULT_LOCK_STALE_MS, 2000);
  const lockPath = `${fs.realpathSync(dir)}.lock`;
  const lockOptions: LockOptions = {
    lockfilePath: lockPath,
    stale: staleMs,
    update: refreshMs(staleMs),
    onCompromised: (cause) => {
      const err = new Error(
        `lost the lock on the embedded database in ${dir} (${cause.message}): another process may now use the folder; stop this process`,
        { cause },
      );
      if (options.onLost) options.onLost(err);
      else throw err;
    },
  };
  const release = await lockWhenFree(dir, lockPath, lockOptions, staleMs);
  removeLegacyPidFile(dir);
  return {
    async release() {
      await release().catch((err: NodeJS.ErrnoException) => {
        // Already lost (onLost said so) or released: nothing left to release.
        if (err.code !== 'ERELEASED' && err.code !== 'ENOTACQUIRED') throw err;
      });
    },
  };
}

/** Tries to lock; while the lock is held, waits for it to go stale unless its holder shows it is alive by refreshing it. */
async function lockWhenFree(dir: string, lockPath: string, options: LockOptions, staleMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + staleMs + 2 * refreshMs(staleMs) + 1000;
  let seenMtime: number | undefined;
  for (;;) {
    try {
      return await lock(dir, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    }
    const mtime = fs.statSync(lockPath, { throwIfNoEntry: false })?.mtimeMs;
    if (mtime !== undefined && seenMtime !== undefined && mtime !== seenMtime) {
      throw new Error(
        `the embedded database in ${dir} is in use by another process (its lock ${lockPath} is kept fresh); stop that process or set DATA_DIR to another folder`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the embedded database in ${dir} is locked by ${lockPath}, which is neither refreshed nor old enough to be stale (is the clock right?); ` +
          'if no vigil uses the folder, remove that directory, or set DATA_DIR to another folder',
      );
    }
    seenMtime = mtime ?? seenMtime;
    await sleep(POLL_MS);
  }
}

/** Older versions kept a pid file, `vigil.lock`, next to the folder; it means nothing now, whatever PID it names. */
function removeLegacyPidFile(dir: string): void {
  const file = path.join(dir, '..', 'vigil.lock');
  if (fs.statSync(file, { throwIfNoEntry: false })?.isFile()) fs.rmSync(file, { force: true });
}
