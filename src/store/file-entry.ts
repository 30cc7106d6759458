import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';

/**
 * What a key's path names on disk, judged without following a symbolic
 * link and without opening anything that could block.
 *
 * The file store only ever puts regular files at keys (link or rename of a
 * fsynced temp file). Anything else at a key's path (a FIFO, a socket, a
 * device, a symbolic link) was put there by someone else: a *foreign
 * entry*. Opening a FIFO for reading blocks until a writer comes, which
 * once hung a node past its SIGTERM (issue 19), so a path is lstat'ed
 * before it is opened, and opened with O_NONBLOCK and O_NOFOLLOW for the
 * race where it is replaced between the two; fstat then decides.
 * A directory is a prefix (keys below it), never an object.
 */
export type ForeignKind = 'FIFO' | 'socket' | 'symbolic link' | 'block device' | 'character device' | 'special file';

export type Entry =
  | { kind: 'missing' }
  | { kind: 'file'; stats: BigIntStats }
  | { kind: 'directory'; stats: BigIntStats }
  | { kind: 'foreign'; what: ForeignKind; stats: BigIntStats };

export type Opened = { kind: 'open'; handle: FileHandle; stats: BigIntStats } | Exclude<Entry, { kind: 'file' }>;

// Not defined on Windows, where there are no FIFOs to block on and links are rare: 0 is "no flag".
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

export function classify(stats: BigIntStats): Entry {
  if (stats.isFile()) return { kind: 'file', stats };
  if (stats.isDirectory()) return { kind: 'directory', stats };
  return { kind: 'foreign', what: foreignKind(stats), stats };
}

/** lstat: a missing path (or one below a file) is `missing`; other errors propagate. */
export async function lookAt(path: string): Promise<Entry> {
  try {
    return classify(await lstat(path, { bigint: true }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    throw error;
  }
}

/**
 * Opens the regular file at `path` for reading; anything else comes back as
 * what it is, unopened (or opened without blocking and closed again).
 */
export async function openRegular(path: string): Promise<Opened> {
  // A path replaced between the look and the open is looked at again; twice is plenty.
  for (let round = 0; ; round++) {
    const seen = await lookAt(path);
    if (seen.kind !== 'file') return seen;
    let handle: FileHandle;
    try {
      handle = await open(path, READ_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
      // ELOOP: a symbolic link now (O_NOFOLLOW); ENXIO: a socket now. Look again to say which.
      if ((code === 'ELOOP' || code === 'ENXIO') && round < 2) continue;
      throw error;
    }
    const stats = await handle.stat({ bigint: true });
    if (stats.isFile()) return { kind: 'open', handle, stats };
    await handle.close();
    const now = classify(stats);
    if (now.kind !== 'file') return now;
  }
}

function foreignKind(stats: BigIntStats): ForeignKind {
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  if (stats.isSymbolicLink()) return 'symbolic link';
  if (stats.isBlockDevice()) return 'block device';
  if (stats.isCharacterDevice()) return 'character device';
  return 'special file';
}
