import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Puts a foreign entry (something the file store never writes) at a path,
 * for the issue 19 tests of the file store: what an operator's stray
 * `mkdir`, `mkfifo`, `ln -s` or a crashed program's socket leaves behind.
 */
export type ForeignKind = 'directory' | 'FIFO' | 'symbolic link' | 'socket';

export const FOREIGN_KINDS: readonly ForeignKind[] = ['directory', 'FIFO', 'symbolic link', 'socket'];

/** `linkTarget`: where a symbolic link points (a file outside the store, to prove it is never read or written). */
export async function placeForeign(kind: ForeignKind, path: string, linkTarget: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  switch (kind) {
    case 'directory':
      await mkdir(path);
      return;
    case 'FIFO':
      execFileSync('mkfifo', [path]);
      return;
    case 'symbolic link':
      await writeFile(linkTarget, 'outside the store\n', { flag: 'a' });
      await symlink(linkTarget, path);
      return;
    case 'socket':
      // A process that exits without closing its server leaves the socket file (close() would unlink it).
      execFileSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
      return;
  }
}
