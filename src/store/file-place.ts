import { link, open, rename, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AlreadyExistsError } from './errors.js';
import { lookAt } from './file-entry.js';
import { directoryInTheWay, translate } from './file-errors.js';
import type { ForeignEntries } from './file-foreign.js';

/**
 * Putting the file store's fsynced temp file at a key's path, with what may
 * be in the way there (file-foreign.ts): a foreign entry is reported (create)
 * or replaced (rename replaces the entry itself, never a link's target); an
 * empty directory, which holds nothing, is removed first; a directory with
 * entries is refused (NotSupported naming it).
 */

/** Create-if-absent in one system call: link() fails if anything already has the name. */
export async function linkNew(foreign: ForeignEntries, key: string, tmpPath: string, path: string): Promise<void> {
  // Rounds: an empty directory removed, or the object deleted between the link and the look.
  for (let round = 0; ; round++) {
    try {
      await link(tmpPath, path);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw translate(key, error);
    }
    const there = await lookAt(path);
    if (round < 2 && there.kind === 'directory') {
      await clearEmptyDirectory(foreign, key, path);
      continue;
    }
    if (round < 2 && there.kind === 'missing') continue;
    if (there.kind === 'foreign') foreign.found(key, path, there.what, there.stats);
    throw new AlreadyExistsError(key);
  }
}

/** rename() over the key (the caller holds the key's lock); rename cannot replace a directory with a file. */
export async function renameOver(foreign: ForeignEntries, key: string, tmpPath: string, path: string): Promise<void> {
  for (let round = 0; ; round++) {
    try {
      await rename(tmpPath, path);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (round > 0 || (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST')) throw translate(key, error);
    }
    await clearEmptyDirectory(foreign, key, path);
  }
}

/**
 * An empty directory holds no object, so one standing where an object is
 * written goes (rmdir refuses a non-empty one atomically: nothing below it
 * can be lost). One with entries is a key below this one: NotSupported.
 */
async function clearEmptyDirectory(foreign: ForeignEntries, key: string, path: string): Promise<void> {
  try {
    await rmdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return; // gone or replaced meanwhile: the next try decides
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw directoryInTheWay(key, path);
    throw translate(key, error);
  }
  await fsyncDir(dirname(path));
  foreign.removedEmptyDirectory(key, path);
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
