import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { processExists } from './file-lock.js';

/**
 * Lock side files (`<lock>.<token>.new`, `<lock>.stale-<id>`) exist for
 * microseconds; one older than the stale-lock age was left by a crash.
 */
export async function sweepLockLeftovers(lockDir: string, olderThanMs: number): Promise<void> {
  for (const name of await readdir(lockDir)) {
    if (!name.includes('.')) continue; // a lock itself: judged by its waiters, not here
    const info = await stat(join(lockDir, name)).catch(() => undefined);
    if (info && info.mtimeMs < olderThanMs) await unlink(join(lockDir, name)).catch(() => {});
  }
}

/** Temp files are named `<pid>.<ulid>.tmp`; those of processes no longer alive are garbage. */
export async function sweepTemps(tmpDir: string): Promise<void> {
  for (const name of await readdir(tmpDir)) {
    const pid = Number(name.split('.')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || processExists(pid)) continue;
    await unlink(join(tmpDir, name)).catch(() => {});
  }
}
