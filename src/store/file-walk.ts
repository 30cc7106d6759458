import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidKeyError } from './key-check.js';
import { compareKeys } from './key-order.js';

export interface WalkedFile {
  key: string;
  path: string;
}

/**
 * The file backend's listing: the files under `prefix`, in key byte order,
 * strictly after `startAfter`, without reading directories that hold only
 * keys at or before `startAfter` (so paging through a large prefix stays
 * cheap). `reserved` names a top-level directory that never holds keys (the
 * backend's temp and lock files).
 *
 * Every entry that is not a directory is a key, a FIFO or a symbolic link
 * as much as a file (the store lists those as foreign entries: file-foreign.ts);
 * only real directories are descended, never a link to one (file-inside.ts).
 *
 * Order: sorting a directory's entries by "fragment" (a file's name, a
 * directory's name plus `/`) and descending in that order yields full keys
 * in byte order, because every key below directory `d` starts with `d/`.
 */
export async function* walkFiles(root: string, prefix: string, startAfter: string | undefined, reserved: string): AsyncGenerator<WalkedFile> {
  const cut = prefix.lastIndexOf('/') + 1;
  const dirKey = prefix.slice(0, cut);
  const namePrefix = prefix.slice(cut);
  for (const segment of dirKey.split('/').slice(0, -1)) {
    if (segment === '.' || segment === '..') throw new InvalidKeyError(prefix, `list prefix with a "${segment}" segment`);
    if (segment === '') return; // no key has an empty segment
  }
  if (dirKey.startsWith(`${reserved}/`)) return; // temp and lock files are never keys
  yield* walkDir(root, dirKey, namePrefix, startAfter, reserved);
}

async function* walkDir(
  root: string,
  dirKey: string,
  namePrefix: string,
  startAfter: string | undefined,
  reserved: string,
): AsyncGenerator<WalkedFile> {
  const dirPath = join(root, dirKey);
  let entries;
  try {
    entries = await readdir(dirPath, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return; // nothing under this prefix (or it vanished meanwhile)
    throw error;
  }
  const fragments: Array<{ fragment: string; isDir: boolean }> = [];
  for (const entry of entries) {
    if (!entry.name.startsWith(namePrefix)) continue;
    if (dirKey === '' && entry.name === reserved) continue;
    const isDir = entry.isDirectory();
    fragments.push({ fragment: isDir ? `${entry.name}/` : entry.name, isDir });
  }
  fragments.sort((a, b) => compareKeys(a.fragment, b.fragment));
  for (const { fragment, isDir } of fragments) {
    const key = dirKey + fragment;
    if (isDir) {
      // Every key below starts with `key`: skip the subtree when all of it sorts at or before startAfter.
      if (startAfter !== undefined && compareKeys(key, startAfter) < 0 && !startAfter.startsWith(key)) continue;
      yield* walkDir(root, key, '', startAfter, reserved);
    } else if (startAfter === undefined || compareKeys(key, startAfter) > 0) {
      yield { key, path: join(root, key) };
    }
  }
}
