import { lstat, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NotSupportedError } from './errors.js';

/**
 * Below its root the file store follows no symbolic links (issue 19). The
 * root itself may be one (`/srv/replay -> /data/replay`): it is resolved
 * once. A link at a key is a foreign entry (file-foreign.ts); a link in a
 * key's directories would let a read or a write land outside the root, so
 * an access through one is refused with NotSupported naming the link.
 *
 * How it is checked without a system call per path segment: a file that
 * was opened is asked where it is (Linux: /proc/self/fd/N, one readlink),
 * and a directory about to be written into is resolved (realpath). Either
 * must be the root's real path plus the key. Listings check where they
 * start and never descend into links (file-walk.ts).
 */
export class RootContainment {
  private realRoot: string | undefined;
  /** False once /proc/self/fd turned out to be missing (not Linux): fall back to realpath. */
  private procFd = true;

  constructor(private readonly root: string) {}

  /** For a file opened at `root/key`. */
  async checkOpened(key: string, handle: FileHandle): Promise<void> {
    if (this.procFd) {
      let resolved: string | undefined;
      try {
        resolved = await readlink(`/proc/self/fd/${handle.fd}`);
      } catch {
        this.procFd = false;
      }
      if (resolved !== undefined) {
        // A file replaced (renamed over) since it was opened is still the one at this key.
        if (resolved.replace(/ \(deleted\)$/, '') !== join(await this.real(), key)) throw await this.linked(key);
        return;
      }
    }
    await this.checkDirectoryOf(key);
  }

  /** For the directory that holds (or is to hold) `key`. @returns false when it does not exist */
  async checkDirectoryOf(key: string): Promise<boolean> {
    return this.checkDirectory(key, dirname(key));
  }

  /**
   * For the directory `dirKey` (`.` is the root, else `a/b`). When it does
   * not exist, its nearest existing ancestor is checked instead (a write
   * creates the rest with mkdir, which would follow a link there).
   * @returns false when it does not exist
   */
  async checkDirectory(key: string, dirKey: string): Promise<boolean> {
    let resolved: string;
    try {
      resolved = await realpath(join(this.root, dirKey));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      if (dirKey !== '.' && dirKey !== '') await this.checkDirectory(key, dirname(dirKey));
      return false;
    }
    if (resolved !== join(await this.real(), dirKey)) throw await this.linked(key);
    return true;
  }

  private async real(): Promise<string> {
    this.realRoot ??= await realpath(this.root);
    return this.realRoot;
  }

  /** Names the first link on the way from the root to `key` (there is one, or the root moved). */
  private async linked(key: string): Promise<NotSupportedError> {
    const segments = key.split('/');
    let link: string | undefined;
    for (let i = 1; i <= segments.length && !link; i++) {
      const path = join(this.root, ...segments.slice(0, i));
      if ((await lstat(path).catch(() => undefined))?.isSymbolicLink()) link = path;
    }
    const what = link ? `${link} is a symbolic link` : `the store root ${this.root} now resolves elsewhere`;
    return new NotSupportedError(
      `file store: ${what}; the store follows no links below its root (nothing is read or written outside it, ${key} included): replace the link with the directory itself, or give --store the real path`,
    );
  }
}
