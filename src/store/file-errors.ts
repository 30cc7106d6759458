import { NotSupportedError } from './errors.js';
import { quote } from './file-foreign.js';
import { InvalidKeyError } from './key-check.js';

/** How the file store names what the file system refused, as the store's typed errors. */
export function translate(key: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') return conflictWithDirectory(key, error);
  if (code === 'ENAMETOOLONG') return new InvalidKeyError(key, 'a path segment is too long for this file system');
  if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') {
    return new NotSupportedError(`file store: ${code} writing ${key}; the directory must be on a local file system with hard links (ext4, xfs, btrfs, apfs)`, { cause: error });
  }
  return error;
}

/** A directory with entries (keys below `key`) stands where `key`'s file is to go. */
export function directoryInTheWay(key: string, path: string): NotSupportedError {
  return new NotSupportedError(
    `file store: ${path} is a directory with entries where the object ${key} is written, and a path is either a file or a directory: move it away (mv ${quote(path)} ${quote(`${path}.moved`)})`,
  );
}

export function conflictWithDirectory(key: string, cause?: unknown): NotSupportedError {
  return new NotSupportedError(
    `file store cannot hold both "${key}" and keys below it, or a key below an existing object (a path is either a file or a directory)`,
    { cause },
  );
}
