import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { link, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Clock } from '../time/clock.js';
import { systemIds, type IdSource } from '../util/ids.js';
import { contentEtag, EtagHasher, toBytes } from './content-etag.js';
import { AlreadyExistsError, NotFoundError, NotSupportedError, PreconditionFailedError } from './errors.js';
import { EtagCache } from './file-etags.js';
import { acquireLock, processExists, type HeldLock } from './file-lock.js';
import { walkFiles } from './file-walk.js';
import { checkKey, InvalidKeyError } from './key-check.js';
import type {
  GetOptions,
  ListOptions,
  ListPage,
  NotModified,
  ObjectInfo,
  PutMode,
  PutResult,
  ResponseInfo,
  Store,
  StoredObject,
  StreamedObject,
} from './store.js';

export interface FileStoreDeps {
  /** The store's clock: storeDate comes from it (lastModified is the file's mtime). */
  clock: Clock;
  ids?: IdSource;
  /** A lock whose holder cannot be judged dead is stolen after this age (see file-lock.ts). Default 30 s. */
  staleLockMs?: number;
  /** How long a write waits for a key's lock before answering Unavailable. Default 30 s. */
  lockWaitMs?: number;
  /** Called while a key's lock is held, before the commit: lets crash tests kill a writer holding it. */
  onLockHeld?: (key: string) => Promise<void>;
}

/** Top-level directory of temp and lock files; never a key, never listed. */
export const RESERVED_DIR = '.replay-store';

/**
 * The embedded default backend: a directory, key `a/b/c` at `<root>/a/b/c`,
 * so the tree can be inspected with ordinary tools.
 *
 * - create-if-absent: the body goes to a temp file (fsynced), then `link()`
 *   puts it at the key; link fails with EEXIST if anything is there, so of
 *   any number of processes exactly one wins, without a lock.
 * - update (CAS), overwrite, delete: under the key's lock (file-lock.ts):
 *   check the current content hash, then `rename()` the fsynced temp file
 *   over the key. Readers never lock: rename swaps whole files atomically,
 *   and a reader holding the old file keeps reading the old content.
 * - crash safety: a key only ever names a complete, fsynced file, and the
 *   directory is fsynced after each change; a crashed writer leaves at most
 *   a temp file (swept by the next writer) and a lock that is stolen.
 * - ETag: sha256 of the content (32 hex digits), cached per file identity.
 * - A key and a key below it (`a` and `a/b`) cannot both exist here
 *   (NotSupported); the bucket layout never needs that.
 * - Keys starting with `.replay-store/` are refused (reserved).
 */
export class FileStore implements Store {
  readonly description: string;
  readonly root: string;
  private readonly tmpDir: string;
  private readonly lockDir: string;
  private readonly ids: IdSource;
  private readonly etags = new EtagCache();
  private prepared: Promise<void> | undefined;

  constructor(rootDir: string, private readonly deps: FileStoreDeps) {
    this.root = resolve(rootDir);
    this.description = `file://${this.root}`;
    this.tmpDir = join(this.root, RESERVED_DIR, 'tmp');
    this.lockDir = join(this.root, RESERVED_DIR, 'locks');
    this.ids = deps.ids ?? systemIds;
  }

  async get(key: string, options?: GetOptions): Promise<StoredObject | NotModified> {
    const path = this.pathOf(key);
    options?.signal?.throwIfAborted();
    return this.withFile(key, path, async (handle) => {
      const stats = await handle.stat({ bigint: true });
      const body = await handle.readFile();
      const etag = contentEtag(body);
      this.etags.remember(path, stats, etag);
      if (options?.ifNoneMatch !== undefined && options.ifNoneMatch === etag) {
        return { notModified: true as const, etag, storeDate: this.now() };
      }
      return { key, etag, size: body.length, lastModified: new Date(Number(stats.mtimeMs)), body, storeDate: this.now() };
    });
  }

  async getStream(key: string, options?: { signal?: AbortSignal }): Promise<StreamedObject> {
    const path = this.pathOf(key);
    options?.signal?.throwIfAborted();
    const handle = await this.openExisting(key, path);
    try {
      const info = await this.infoOf(key, path, handle);
      // The stream reads the opened file: a concurrent replace cannot mix versions.
      const body = handle.createReadStream({ start: 0, autoClose: true, ...(options?.signal ? { signal: options.signal } : {}) });
      return { ...info, body, storeDate: this.now() };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async head(key: string): Promise<ObjectInfo & ResponseInfo> {
    const path = this.pathOf(key);
    return this.withFile(key, path, async (handle) => ({ ...(await this.infoOf(key, path, handle)), storeDate: this.now() }));
  }

  async put(key: string, body: Uint8Array | string, mode: PutMode): Promise<PutResult> {
    const path = this.pathOf(key);
    const bytes = toBytes(body);
    const tmp = await this.writeTemp(async (handle) => {
      await handle.writeFile(bytes);
      return contentEtag(bytes);
    });
    return this.commit(key, path, tmp, mode);
  }

  async putStream(key: string, body: Readable, mode: PutMode): Promise<PutResult> {
    const path = this.pathOf(key);
    const tmp = await this.writeTemp(async (handle) => {
      const hasher = new EtagHasher();
      for await (const chunk of body) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        hasher.update(bytes);
        await writeAll(handle, bytes);
      }
      return hasher.digest();
    });
    return this.commit(key, path, tmp, mode);
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await this.withLock(key, async (lock) => {
      await lock.verify();
      try {
        await unlink(path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        if (code === 'EISDIR' || code === 'EPERM') return; // a directory is not an object
        throw error;
      }
      this.etags.forget(path);
      await fsyncDir(dirname(path));
    });
  }

  async list(options: ListOptions): Promise<ListPage> {
    const limit = Math.max(1, options.limit ?? 1000);
    const items: ObjectInfo[] = [];
    for await (const file of walkFiles(this.root, options.prefix, options.startAfter, RESERVED_DIR)) {
      if (items.length === limit) return { items, nextStartAfter: items[items.length - 1]!.key };
      const handle = await open(file.path, 'r').catch(() => undefined); // deleted since the walk read its directory
      if (!handle) continue;
      try {
        items.push(await this.infoOf(file.key, file.path, handle));
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error; // replaced by a directory meanwhile
      } finally {
        await handle.close();
      }
    }
    return { items };
  }

  async close(): Promise<void> {}

  /** Takes the fsynced temp file to the key according to `mode`; removes it in every case. */
  private async commit(key: string, path: string, tmp: TempFile, mode: PutMode): Promise<PutResult> {
    try {
      if (mode.kind !== 'update') await this.ensureParent(key, path);
      if (mode.kind === 'create') {
        await linkNew(key, tmp.path, path);
      } else {
        await this.withLock(key, async (lock) => {
          if (mode.kind === 'update') {
            const current = await this.currentEtag(key, path);
            if (current !== mode.etag) throw new PreconditionFailedError(key);
          }
          await lock.verify();
          await rename(tmp.path, path).catch((error: unknown) => {
            throw translate(key, error);
          });
        });
      }
      await fsyncDir(dirname(path));
      // The temp file's own stats: rename and link keep inode and mtime, and another writer cannot have touched it.
      this.etags.remember(path, tmp.stats, tmp.etag);
      return { etag: tmp.etag, storeDate: this.now() };
    } finally {
      await unlink(tmp.path).catch(() => {});
    }
  }

  private async currentEtag(key: string, path: string): Promise<string | undefined> {
    const handle = await open(path, 'r').catch(() => undefined);
    if (!handle) return undefined;
    try {
      return (await this.infoOf(key, path, handle)).etag;
    } finally {
      await handle.close();
    }
  }

  private async withLock<T>(key: string, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
    await this.prepare();
    const lockPath = join(this.lockDir, lockFileName(key));
    const lock = await acquireLock(lockPath, {
      clock: this.deps.clock,
      ids: this.ids,
      staleLockMs: this.deps.staleLockMs ?? 30_000,
      lockWaitMs: this.deps.lockWaitMs ?? 30_000,
    });
    try {
      await this.deps.onLockHeld?.(key);
      return await fn(lock);
    } finally {
      await lock.release();
    }
  }

  private async writeTemp(write: (handle: FileHandle) => Promise<string>): Promise<TempFile> {
    await this.prepare();
    const path = join(this.tmpDir, `${process.pid}.${this.ids.ulid()}.tmp`);
    const handle = await open(path, 'wx');
    try {
      const etag = await write(handle);
      await handle.sync();
      return { path, etag, stats: await handle.stat({ bigint: true }) };
    } catch (error) {
      await unlink(path).catch(() => {});
      throw error;
    } finally {
      await handle.close();
    }
  }

  /** Creates the reserved directories once per store and sweeps temp files of dead writers. */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await mkdir(this.tmpDir, { recursive: true });
      await mkdir(this.lockDir, { recursive: true });
      await sweepTemps(this.tmpDir);
      await sweepLockLeftovers(this.lockDir, this.deps.clock.now() - (this.deps.staleLockMs ?? 30_000));
    })();
    return this.prepared;
  }

  private async ensureParent(key: string, path: string): Promise<void> {
    const parent = dirname(path);
    let created: string | undefined;
    try {
      created = await mkdir(parent, { recursive: true });
    } catch (error) {
      throw translate(key, error);
    }
    // New directories are durable only once their parents are fsynced.
    for (let dir = parent; created !== undefined && dir.length >= created.length; dir = dirname(dir)) {
      await fsyncDir(dirname(dir));
    }
  }

  private async infoOf(key: string, path: string, handle: FileHandle): Promise<ObjectInfo> {
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) throw new NotFoundError(key);
    const etag = await this.etags.etagOf(path, handle, stats);
    return { key, etag, size: Number(stats.size), lastModified: new Date(Number(stats.mtimeMs)) };
  }

  private async withFile<T>(key: string, path: string, fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    const handle = await this.openExisting(key, path);
    try {
      return await fn(handle);
    } finally {
      await handle.close();
    }
  }

  private async openExisting(key: string, path: string): Promise<FileHandle> {
    try {
      const handle = await open(path, 'r');
      const stats = await handle.stat();
      if (stats.isFile()) return handle;
      await handle.close();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw translate(key, error);
    }
    throw new NotFoundError(key);
  }

  private pathOf(key: string): string {
    checkKey(key);
    if (key === RESERVED_DIR || key.startsWith(`${RESERVED_DIR}/`)) throw new InvalidKeyError(key, `"${RESERVED_DIR}/" is reserved by the file store`);
    return join(this.root, key);
  }

  private now(): Date {
    return new Date(this.deps.clock.now());
  }
}

/** The key's lock file under `<root>/.replay-store/locks/` (a hash: keys may be long and nested). */
export function lockFileName(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

interface TempFile {
  path: string;
  etag: string;
  stats: BigIntStats;
}

export function createFileStore(rootDir: string, deps: FileStoreDeps): FileStore {
  return new FileStore(rootDir, deps);
}

/** Create-if-absent in one system call: link() fails if anything already has the name. */
async function linkNew(key: string, tmpPath: string, path: string): Promise<void> {
  try {
    await link(tmpPath, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const existing = await open(path, 'r').then(async (h) => {
        const s = await h.stat();
        await h.close();
        return s;
      }, () => undefined);
      if (existing?.isDirectory()) throw conflictWithDirectory(key);
      throw new AlreadyExistsError(key);
    }
    throw translate(key, error);
  }
}

function translate(key: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') return conflictWithDirectory(key, error);
  if (code === 'ENAMETOOLONG') return new InvalidKeyError(key, 'a path segment is too long for this file system');
  if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') {
    return new NotSupportedError(`file store: ${code} writing ${key}; the directory must be on a local file system with hard links (ext4, xfs, btrfs, apfs)`, { cause: error });
  }
  return error;
}

function conflictWithDirectory(key: string, cause?: unknown): NotSupportedError {
  return new NotSupportedError(
    `file store cannot hold both "${key}" and keys below it, or a key below an existing object (a path is either a file or a directory)`,
    { cause },
  );
}

/** A write(2) may take fewer bytes than offered; loop until all are in. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Lock side files (`<lock>.<token>.new`, `<lock>.stale-<id>`) exist for
 * microseconds; one older than the stale-lock age was left by a crash.
 */
async function sweepLockLeftovers(lockDir: string, olderThanMs: number): Promise<void> {
  for (const name of await readdir(lockDir)) {
    if (!name.includes('.')) continue; // a lock itself: judged by its waiters, not here
    const info = await stat(join(lockDir, name)).catch(() => undefined);
    if (info && info.mtimeMs < olderThanMs) await unlink(join(lockDir, name)).catch(() => {});
  }
}

/** Temp files are named `<pid>.<ulid>.tmp`; those of processes no longer alive are garbage. */
async function sweepTemps(tmpDir: string): Promise<void> {
  for (const name of await readdir(tmpDir)) {
    const pid = Number(name.split('.')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || processExists(pid)) continue;
    await unlink(join(tmpDir, name)).catch(() => {});
  }
}

