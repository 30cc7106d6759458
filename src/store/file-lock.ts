import { hostname } from 'node:os';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import { UnavailableError } from './errors.js';

/**
 * A per-key lock between processes on one host, for the file backend's
 * compare-and-swap, overwrite and delete (create-if-absent needs none: it is
 * a single `link()`, which the kernel makes atomic).
 *
 * Why a lock file, and how a crash cannot wedge a key:
 * - Node has no flock(); the kernel-released locks are out of reach, so the
 *   lock is a file, created by `link()` (which, like O_EXCL, exactly one
 *   process wins, and which makes the file appear complete). It records
 *   pid, host, creation time and a random token.
 * - A holder that dies (kill -9, power cut) leaves the file behind. A waiter
 *   steals it when the recorded pid no longer exists on this host (checked
 *   with `kill(pid, 0)`), at once; or, when the pid cannot be judged (another
 *   host or PID namespace, a recycled pid), once the lock is older than
 *   `staleLockMs`. Critical sections are short (hash check, rename, fsync of
 *   the directory; the body is written to a temp file before locking), so a
 *   live holder never comes near that age.
 * - Stealing renames the stale file to a unique name first: of several
 *   waiters stealing at once, only one rename succeeds. A waiter that read
 *   the stale lock and renames only after another has already replaced it
 *   could move a live lock away; that holder notices, because `verify()`
 *   re-reads the token right before its commit and fails the operation as
 *   retryable (the window left is the microseconds between verify and
 *   rename, and only during a double steal of a dead holder's lock).
 * - Waiting polls with a small growing pause on the injected clock and gives
 *   up after `lockWaitMs` with UnavailableError (retryable).
 */
export interface FileLockOptions {
  clock: Clock;
  ids: IdSource;
  /** A lock whose owner cannot be judged alive or dead is stolen after this age. */
  staleLockMs: number;
  /** How long to wait for a live holder before answering Unavailable. */
  lockWaitMs: number;
}

export interface LockRecord {
  pid: number;
  host: string;
  createdAt: number;
  token: string;
}

export interface HeldLock {
  /** Throws UnavailableError if the lock file is no longer ours (it was stolen). */
  verify(): Promise<void>;
  release(): Promise<void>;
}

const thisHost = hostname();

export async function acquireLock(path: string, options: FileLockOptions): Promise<HeldLock> {
  const started = options.clock.monotonic();
  let pause = 1;
  for (;;) {
    const record: LockRecord = { pid: process.pid, host: thisHost, createdAt: options.clock.now(), token: options.ids.ulid() };
    if (await tryCreate(path, record)) return held(path, record);
    const existing = await readRecord(path);
    if (existing === 'missing') continue;
    if (await isStale(path, existing, options)) {
      await steal(path, options);
      continue;
    }
    if (options.clock.monotonic() - started > options.lockWaitMs) {
      throw new UnavailableError(`lock ${path} held by pid ${existing === 'unreadable' ? '?' : existing.pid} for too long; retry later`);
    }
    await options.clock.sleep(pause);
    pause = Math.min(pause * 2, 20);
  }
}

/**
 * The record is written to a side file and hard-linked into place, so the
 * lock appears atomically with its content: no reader ever sees an empty
 * lock, and a crash cannot leave one.
 */
async function tryCreate(path: string, record: LockRecord): Promise<boolean> {
  const side = `${path}.${record.token}.new`;
  await writeFile(side, JSON.stringify(record), { flag: 'wx' });
  try {
    await link(side, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(side).catch(() => {});
  }
}

/** 'unreadable': the file exists but is not a lock record (garbage, not ours). */
async function readRecord(path: string): Promise<LockRecord | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const record = JSON.parse(text) as LockRecord;
    return typeof record.pid === 'number' && typeof record.token === 'string' ? record : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

async function isStale(path: string, record: LockRecord | 'unreadable', options: FileLockOptions): Promise<boolean> {
  if (record === 'unreadable') {
    const info = await stat(path).catch(() => undefined);
    return info !== undefined && options.clock.now() - info.mtimeMs > options.staleLockMs;
  }
  if (record.host === thisHost && record.pid !== process.pid && !processExists(record.pid)) return true;
  return options.clock.now() - record.createdAt > options.staleLockMs;
}

/** Whether a process with this pid exists on this host (EPERM: it does, owned by another user). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function steal(path: string, options: FileLockOptions): Promise<void> {
  const grave = `${path}.stale-${options.ids.ulid()}`;
  try {
    await rename(path, grave);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // another waiter stole it first
    throw error;
  }
  // If what we moved was not the stale lock but a fresh one, its holder's verify() fails its operation (retryable).
  await unlink(grave).catch(() => {});
}

function held(path: string, record: LockRecord): HeldLock {
  return {
    async verify() {
      const current = await readRecord(path);
      if (current === 'missing' || current === 'unreadable' || current.token !== record.token) {
        throw new UnavailableError(`lock ${path} was taken over while held (judged stale); the write was not made, retry`);
      }
    },
    async release() {
      // Only remove our own lock: if it was stolen, the file is someone else's now.
      const current = await readRecord(path);
      if (current !== 'missing' && current !== 'unreadable' && current.token === record.token) {
        await unlink(path).catch(() => {});
      }
    },
  };
}
