import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../support/cli.js';

/**
 * Issue 19: `replay-node join --data-dir` on a path it cannot use says so in
 * one line naming the path, the cause and the fix, exit 2: a regular file
 * (it said "move the gossip key away"), a read-only file system (it said
 * `ENOENT ... mkdir`), a full one (a bare `ENOSPC ... write`).
 *
 * The file systems are real: a read-only bind mount and a 64 KiB tmpfs
 * filled up, mounted here (we run as root, where chmod 0555 stops nothing).
 * Where mounting is impossible those cases are skipped, and say why.
 */
const mountable = ((): string | undefined => {
  if (process.getuid?.() !== 0) return 'not root';
  const probe = mkdtempSync(join(tmpdir(), 'data-dir-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'mount refused here';
  } finally {
    rmdirSync(probe);
  }
})();

let dir: string;
let store: string;
const mounted: string[] = [];

async function mount(args: string[], at: string): Promise<void> {
  await mkdir(at, { recursive: true });
  execFileSync('mount', [...args, at]);
  mounted.push(at);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'data-dir-errors-'));
  store = join(dir, 'store');
  const spacing = join(dir, 'spacing.tsv');
  await writeFile(spacing, '0\t100\t100\n');
  const published = await runBuiltCli('replay-manifest', ['publish', '--store', `file://${store}`, '--run', 'r', '--spacing', spacing]);
  expect(published.exitCode, published.stderr).toBe(0);
});
afterAll(async () => {
  for (const at of mounted.reverse()) execFileSync('umount', [at]);
  await rm(dir, { recursive: true, force: true });
});

const joinWith = (dataDir: string) => runBuiltCli('replay-node', [
  'join', '--store', `file://${store}`, '--run', 'r', '--node', 'n1', '--runner', 'sim', '--sim-speed', '0', '--exit-when-done', '--data-dir', dataDir,
]);

/** One line on stderr, exit 2, nothing written to the store by this node. */
async function expectRefusal(dataDir: string, line: string): Promise<void> {
  const outcome = await joinWith(dataDir);
  expect([outcome.exitCode, outcome.stderr]).toEqual([2, `replay-node: ${line}`]);
  expect(await readdir(join(store, 'runs', 'r'))).toEqual(['manifest.json']);
}

describe('replay-node join --data-dir it cannot use', () => {
  it('a regular file: names it and says to give a directory', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await expectRefusal(file, `the data directory ${file} is a regular file, not a directory; give --data-dir a directory (it is made when missing), or move the file away`);
    await expectRefusal(join(file, 'below'), `the data directory ${join(file, 'below')} cannot be made: ${file} is a regular file, not a directory; give --data-dir another path, or move ${file} away`);
  });

  it.skipIf(mountable !== undefined)(`a read-only file system (bind mount remounted ro) names EROFS, not ENOENT${mountable ? ` [skipped: ${mountable}]` : ''}`, async () => {
    const readOnly = join(dir, 'ro');
    await mkdir(join(readOnly, 'existing'), { recursive: true });
    await mount(['--bind', readOnly], readOnly);
    execFileSync('mount', ['-o', 'remount,ro,bind', readOnly]);
    const missing = join(readOnly, 'nodes', 'n1');
    await expectRefusal(missing, `the data directory ${missing} is on a read-only file system (EROFS creating it); give --data-dir a directory on a writable volume`);
    const existing = join(readOnly, 'existing');
    await expectRefusal(existing, `the data directory ${existing} is on a read-only file system (EROFS writing replay-node.lock in it); give --data-dir a directory on a writable volume`);
  });

  it.skipIf(mountable !== undefined)(`a full file system (64 KiB tmpfs, filled) names ENOSPC and the path${mountable ? ` [skipped: ${mountable}]` : ''}`, async () => {
    const full = join(dir, 'full');
    await mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs'], full);
    await mkdir(join(full, 'existing'));
    // Fill it: writes until the file system refuses.
    await writeFile(join(full, 'filler'), Buffer.alloc(1024 * 1024)).catch((error: NodeJS.ErrnoException) => expect(error.code).toBe('ENOSPC'));
    const existing = join(full, 'existing');
    await expectRefusal(existing, `the data directory ${existing} is on a full file system (ENOSPC writing replay-node.lock in it); free space there or give --data-dir a directory on another volume`);
  });

  it('a usable one afterwards: the same node joins and finishes', async () => {
    const outcome = await joinWith(join(dir, 'good'));
    expect(outcome.exitCode, outcome.stderr).toBe(0);
  });
});
