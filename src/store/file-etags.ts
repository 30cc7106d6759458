import type { FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { EtagHasher } from './content-etag.js';

/**
 * The file backend's ETag is the content hash, so head and list would read
 * every byte of every object. Objects are never modified in place (each
 * write renames a new file over the old), so a file's identity (inode, size and
 * mtime in nanoseconds; not ctime, which link/unlink of the temp name move)
 * stands for its content: hashes are cached
 * per path under that identity, bounded in count (200,000 by default, about
 * 250 bytes each: a 100,000-item run has over 100,000 objects, and a cache
 * smaller than the run re-hashes most of it on every listing). The cache is
 * per process; a fresh process hashes each object once.
 */
export class EtagCache {
  private readonly entries = new Map<string, { identity: string; etag: string }>();

  constructor(private readonly maxEntries = 200_000) {}

  /** The ETag of the open file, hashed through the handle (never a newer file at the same path). */
  async etagOf(path: string, handle: FileHandle, stats: BigIntStats): Promise<string> {
    const identity = identityOf(stats);
    const cached = this.entries.get(path);
    if (cached?.identity === identity) return cached.etag;
    const etag = await hashHandle(handle, stats.size);
    this.remember(path, stats, etag);
    return etag;
  }

  remember(path: string, stats: BigIntStats, etag: string): void {
    this.entries.delete(path);
    this.entries.set(path, { identity: identityOf(stats), etag });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  forget(path: string): void {
    this.entries.delete(path);
  }
}

function identityOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}`;
}

const READ_CHUNK = 1024 * 1024;

/** Reads through one buffer no larger than the file (most objects are under 1 KiB; snapshots are GBs). */
async function hashHandle(handle: FileHandle, size: bigint): Promise<string> {
  const hasher = new EtagHasher();
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(READ_CHUNK, Number(size))));
  for (let position = 0; ; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hasher.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hasher.digest();
}
