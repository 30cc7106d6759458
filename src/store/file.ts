import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Clock } from '../time/clock.js';
import { systemIds, type IdSource } from '../util/ids.js';
import { contentEtag, EtagHasher, toBytes } from './content-etag.js';
import { NotFoundError, PreconditionFailedError } from './errors.js';
import { openRegular, type ForeignKind } from './file-entry.js';
import { translate } from './file-errors.js';
import { EtagCache } from './file-etags.js';
import { emptyBody, ForeignEntries, foreignEtag, stderrReporter, type ForeignReporter } from './file-foreign.js';
import { RootContainment } from './file-inside.js';
import { acquireLock, type HeldLock } from './file-lock.js';
import { fsyncDir, linkNew, renameOver } from './file-place.js';
import { sweepLockLeftovers, sweepTemps } from './file-sweep.js';
import { walkFiles, type WalkedFile } from './file-walk.js';
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
  /** Where foreign entries (a FIFO, a socket, a link at a key: file-foreign.ts) are reported; default one line on stderr. */
  onForeign?: ForeignReporter;
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
 *   (NotSupported); the bucket layout never needs that. An *empty*
 *   directory where an object is written holds nothing and is removed.
 * - Only regular files are objects. A FIFO, socket, device or symbolic
 *   link at a key is a foreign entry: never opened for a blocking read,
 *   read and listed as an empty (corrupt) object, reported once
 *   (file-foreign.ts). Below the root no link is followed (file-inside.ts).
 * - Keys starting with `.replay-store/` are refused (reserved).
 */
export class FileStore implements Store {
  readonly description: string;
  readonly root: string;
  private readonly tmpDir: string;
  private readonly lockDir: string;
  private readonly ids: IdSource;
  private readonly etags = new EtagCache();
  private readonly foreign: ForeignEntries;
  private readonly inside: RootContainment;
  private prepared: Promise<void> | undefined;

  constructor(rootDir: string, private readonly deps: FileStoreDeps) {
    this.root = resolve(rootDir);
    this.description = `file://${this.root}`;
    this.tmpDir = join(this.root, RESERVED_DIR, 'tmp');
    this.lockDir = join(this.root, RESERVED_DIR, 'locks');
    this.ids = deps.ids ?? systemIds;
    this.foreign = new ForeignEntries(deps.onForeign ?? stderrReporter);
    this.inside = new RootContainment(this.root);
  }

  async get(key: string, options?: GetOptions): Promise<StoredObject | NotModified> {
    const path = this.pathOf(key);
    options?.signal?.throwIfAborted();
    const object = await this.openObject(key, path);
    if (object.kind === 'foreign') {
      const etag = foreignEtag(object.stats);
      if (options?.ifNoneMatch !== undefined && options.ifNoneMatch === etag) return { notModified: true as const, etag, storeDate: this.now() };
      return { key, etag, size: 0, lastModified: mtimeOf(object.stats), body: new Uint8Array(0), storeDate: this.now() };
    }
    const { handle, stats } = object;
    try {
      const body = await handle.readFile();
      const etag = contentEtag(body);
      this.etags.remember(path, stats, etag);
      if (options?.ifNoneMatch !== undefined && options.ifNoneMatch === etag) {
        return { notModified: true as const, etag, storeDate: this.now() };
      }
      return { key, etag, size: body.length, lastModified: mtimeOf(stats), body, storeDate: this.now() };
    } finally {
      await handle.close();
    }
  }

  async getStream(key: string, options?: { signal?: AbortSignal }): Promise<StreamedObject> {
    const path = this.pathOf(key);
    options?.signal?.throwIfAborted();
    const object = await this.openObject(key, path);
    if (object.kind === 'foreign') {
      return { key, etag: foreignEtag(object.stats), size: 0, lastModified: mtimeOf(object.stats), body: emptyBody(), storeDate: this.now() };
    }
    const { handle, stats } = object;
    try {
      const info = await this.infoOf(key, path, handle, stats);
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
    const object = await this.openObject(key, path);
    if (object.kind === 'foreign') return { key, etag: foreignEtag(object.stats), size: 0, lastModified: mtimeOf(object.stats), storeDate: this.now() };
    try {
      return { ...(await this.infoOf(key, path, object.handle, object.stats)), storeDate: this.now() };
    } finally {
      await object.handle.close();
    }
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
      if (!(await this.inside.checkDirectoryOf(key))) return; // no directory, no object
      try {
        // A foreign entry goes too: unlink removes a FIFO, a socket or a link itself, never a link's target.
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
    await this.checkListed(options.prefix);
    for await (const file of walkFiles(this.root, options.prefix, options.startAfter, RESERVED_DIR)) {
      if (items.length === limit) return { items, nextStartAfter: items[items.length - 1]!.key };
      const opened = await openRegular(file.path);
      if (opened.kind === 'foreign') {
        // Listed as it reads (an empty object), so a listing and a get never disagree about what exists.
        await this.reportListed(file, opened.what, opened.stats);
        items.push({ key: file.key, etag: foreignEtag(opened.stats), size: 0, lastModified: mtimeOf(opened.stats) });
      }
      if (opened.kind !== 'open') continue; // deleted (or replaced by a directory) since the walk read its directory
      try {
        items.push(await this.infoOf(file.key, file.path, opened.handle, opened.stats));
      } finally {
        await opened.handle.close();
      }
    }
    return { items };
  }

  async close(): Promise<void> {}

  /**
   * The regular file at the key, open; or a foreign entry there (reported);
   * NotFound for nothing, or a directory (a prefix, never an object).
   */
  private async openObject(key: string, path: string) {
    let opened;
    try {
      opened = await openRegular(path);
    } catch (error) {
      throw translate(key, error);
    }
    if (opened.kind === 'open') {
      try {
        await this.inside.checkOpened(key, opened.handle);
      } catch (error) {
        await opened.handle.close();
        throw error;
      }
      return opened;
    }
    if (opened.kind !== 'foreign') throw new NotFoundError(key);
    await this.inside.checkDirectoryOf(key);
    this.foreign.found(key, path, opened.what, opened.stats);
    return opened;
  }

  /** A listing starts in a real directory (no link on its way); below it the walk follows none. */
  private async checkListed(prefix: string): Promise<void> {
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1).replace(/\/$/, '');
    // A malformed prefix is walkFiles' to refuse (InvalidKey) or to find empty.
    if (dirKey.split('/').some((s) => s === '.' || s === '..' || (s === '' && dirKey !== ''))) return;
    await this.inside.checkDirectory(prefix, dirKey || '.');
  }

  /** A foreign entry met in a listing, reported once; a link to a directory also says that nothing under it is listed. */
  private async reportListed(file: WalkedFile, what: ForeignKind, stats: BigIntStats): Promise<void> {
    const target = what === 'symbolic link' ? await stat(file.path).catch(() => undefined) : undefined;
    if (target?.isDirectory()) this.foreign.linkedDirectory(file.key, file.path);
    else this.foreign.found(file.key, file.path, what, stats);
  }

  /** Takes the fsynced temp file to the key according to `mode`; removes it in every case. */
  private async commit(key: string, path: string, tmp: TempFile, mode: PutMode): Promise<PutResult> {
    try {
      if (mode.kind !== 'update') {
        await this.inside.checkDirectoryOf(key); // before mkdir, which would follow a link
        await this.ensureParent(key, path);
      }
      if (mode.kind === 'create') {
        await linkNew(this.foreign, key, tmp.path, path);
      } else {
        await this.withLock(key, async (lock) => {
          // A matching ETag was read through an opened file that was checked to be inside the root.
          if (mode.kind === 'update') {
            const current = await this.currentEtag(key, path);
            if (current !== mode.etag) throw new PreconditionFailedError(key);
          }
          await lock.verify();
          await renameOver(this.foreign, key, tmp.path, path);
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

  /** The key's ETag now: a file's content hash, a foreign entry's identity hash, or undefined. */
  private async currentEtag(key: string, path: string): Promise<string | undefined> {
    let object;
    try {
      object = await this.openObject(key, path);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
    if (object.kind === 'foreign') return foreignEtag(object.stats);
    try {
      return (await this.infoOf(key, path, object.handle, object.stats)).etag;
    } finally {
      await object.handle.close();
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

  private async infoOf(key: string, path: string, handle: FileHandle, stats: BigIntStats): Promise<ObjectInfo> {
    const etag = await this.etags.etagOf(path, handle, stats);
    return { key, etag, size: Number(stats.size), lastModified: mtimeOf(stats) };
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

function mtimeOf(stats: BigIntStats): Date {
  return new Date(Number(stats.mtimeMs));
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

/** A write(2) may take fewer bytes than offered; loop until all are in. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}
