import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotRef } from '../../manifest/manifest.js';
import { NotFoundError } from '../../store/errors.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../time/clock.js';
import { RunnerFailure } from '../runner.js';
import { DecompressError, downloadObject } from './download.js';
import { messageOf } from '../../util/message-of.js';

/**
 * Snapshots streamed from the store into a local cache, decompressed on the
 * fly, verified against the manifest's sha256 when it gives one. One
 * snapshot often serves several consecutive items of a node (replicas, or
 * retries), so the decompressed file is kept and reused; the oldest beyond
 * `keep` are deleted. Concurrent requests for the same snapshot share one
 * download.
 */
export interface SnapshotCacheDeps {
  store: Store;
  clock: Clock;
}

export interface FetchedSnapshot {
  path: string;
  /** False when the cache already had it. */
  downloaded: boolean;
  bytes: number;
}

export class SnapshotCache {
  private readonly inFlight = new Map<string, Promise<FetchedSnapshot>>();
  private readonly inUse = new Map<string, number>();

  constructor(private readonly dir: string, private readonly keep: number, private readonly deps: SnapshotCacheDeps) {}

  /**
   * Resolves to a local decompressed snapshot. Call `release(path)` when the
   * replay no longer needs it, so cache trimming may delete it.
   * @throws RunnerFailure `corrupt-snapshot` (bad archive or sha256 mismatch), `fetch-failed`
   */
  async fetch(ref: SnapshotRef, signal: AbortSignal): Promise<FetchedSnapshot> {
    const id = await this.cacheId(ref);
    const path = join(this.dir, `${id}.bin`);
    this.inUse.set(path, (this.inUse.get(path) ?? 0) + 1);
    try {
      for (;;) {
        if (await exists(path)) {
          const now = new Date(this.deps.clock.now());
          await utimes(path, now, now);
          return { path, downloaded: false, bytes: 0 };
        }
        const shared = this.inFlight.get(path);
        if (!shared) {
          const pending = this.download(ref, path, signal).finally(() => this.inFlight.delete(path));
          this.inFlight.set(path, pending);
          const fetched = await pending;
          await this.trim();
          return fetched;
        }
        // Another item is downloading it: wait, then find the file, or (if only
        // that item was aborted) download it ourselves on the next turn.
        try {
          await untilAborted(shared, signal);
        } catch (error) {
          if (error instanceof RunnerFailure) throw error;
          signal.throwIfAborted();
        }
      }
    } catch (error) {
      this.release(path);
      throw error;
    }
  }

  /** Drops a cached snapshot nodeos refused, unless another item is using it, so a retry fetches it afresh. */
  async discard(path: string): Promise<void> {
    if ((this.inUse.get(path) ?? 0) <= 1) await rm(path, { force: true });
  }

  release(path: string): void {
    const count = (this.inUse.get(path) ?? 1) - 1;
    if (count <= 0) this.inUse.delete(path);
    else this.inUse.set(path, count);
  }

  /** The sha256 names the content; without one, the key and its ETag do. */
  private async cacheId(ref: SnapshotRef): Promise<string> {
    if (ref.sha256) return ref.sha256.toLowerCase();
    try {
      const info = await this.deps.store.head(ref.key);
      return createHash('sha256').update(`${ref.key}\n${info.etag}`).digest('hex');
    } catch (error) {
      if (error instanceof NotFoundError) throw new RunnerFailure('missing-snapshot', `snapshot ${ref.key} is not in the store`);
      throw new RunnerFailure('fetch-failed', `cannot read snapshot ${ref.key}: ${messageOf(error)}`);
    }
  }

  private async download(ref: SnapshotRef, path: string, signal: AbortSignal): Promise<FetchedSnapshot> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${path}.part`;
    let result;
    try {
      result = await downloadObject(this.deps.store, ref.key, tmp, { decompress: ref.key.endsWith('.zst'), signal });
    } catch (error) {
      if (error instanceof DecompressError) {
        throw new RunnerFailure('corrupt-snapshot', `snapshot ${ref.key} does not decompress: ${error.message}`);
      }
      if (signal.aborted) throw error;
      if ((error as Error).cause instanceof NotFoundError) throw new RunnerFailure('missing-snapshot', `snapshot ${ref.key} is not in the store`);
      throw new RunnerFailure('fetch-failed', messageOf(error));
    }
    if (ref.sha256 && result.sha256 !== ref.sha256.toLowerCase()) {
      await rm(tmp, { force: true });
      throw new RunnerFailure('corrupt-snapshot', `snapshot ${ref.key} has sha256 ${result.sha256}, the manifest says ${ref.sha256}`);
    }
    await rename(tmp, path);
    return { path, downloaded: true, bytes: result.bytes };
  }

  /** Deletes the least recently used snapshots beyond `keep`, never one in use or being written. */
  private async trim(): Promise<void> {
    const entries = await readdir(this.dir);
    const files = await Promise.all(
      entries.filter((name) => name.endsWith('.bin')).map(async (name) => {
        const path = join(this.dir, name);
        return { path, mtime: (await stat(path)).mtimeMs };
      }),
    );
    files.sort((a, b) => b.mtime - a.mtime);
    for (const file of files.slice(this.keep)) {
      if (!this.inUse.has(file.path)) await rm(file.path, { force: true });
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts (a waiter stops waiting; the download goes on for the others). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
