import { access, constants, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataDirLock, LOCK_FILE, type DataDirLockDeps } from '../runner/nodeos/data-dir-lock.js';
import { RunnerConfigError } from '../runner/runner-config-error.js';
import { UserError } from './describe-error.js';
import { messageOf } from '../util/message-of.js';

/**
 * The node's data directory (`--data-dir`: gossip identity, the nodeos
 * runner's item directories, logs and caches), taken at the very start of
 * `replay-node join`, before the store or anything in the directory is
 * touched (issue 19):
 *
 * - made (mkdir -p), every way that can fail told in one line naming the
 *   path, the cause and the fix (exit 2), never a bare `ENOSPC ... write`;
 * - locked with DataDirLock (`<dir>/replay-node.lock`, pid + /proc start
 *   time + host). One lock per process: join takes it and hands it to the
 *   nodeos runner, which then neither takes nor releases it (the runner
 *   takes its own only when used without join, as in its tests). So a
 *   second join on the same directory (the same `--node` with the default
 *   one) refuses to start, naming the first, before it writes a node record
 *   or reads the gossip key; a lock left by a killed process is taken over.
 */
export async function takeDataDir(dir: string, deps: DataDirLockDeps): Promise<DataDirLock> {
  try {
    await mkdir(dir, { recursive: true });
    // mkdir -p accepts an existing directory, and a link to one; anything else it refuses (EEXIST).
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
  } catch (error) {
    throw new UserError(await dataDirProblem(dir, error, 'creating it'));
  }
  try {
    return await DataDirLock.acquire(dir, deps);
  } catch (error) {
    if (error instanceof RunnerConfigError) throw new UserError(error.message);
    if (errnoOf(error)) throw new UserError(await dataDirProblem(dir, error, `writing ${LOCK_FILE} in it`));
    throw error;
  }
}

/** One line: the path, the cause (with the errno, for searching) and the fix. */
export async function dataDirProblem(dir: string, error: unknown, doing: string): Promise<string> {
  const code = errnoOf(error);
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `the data directory ${dir} is on a full file system (${code} ${doing}); free space there or give --data-dir a directory on another volume`;
    case 'EROFS':
      return `the data directory ${dir} is on a read-only file system (EROFS ${doing}); give --data-dir a directory on a writable volume`;
    case 'EACCES':
    case 'EPERM':
      return `the data directory ${dir} is not writable by this user (${code} ${doing}); fix its permissions or give --data-dir a directory of your own`;
    case 'EEXIST':
    case 'ENOTDIR': {
      const blocker = await firstNonDirectory(dir);
      if (blocker === dir) return `the data directory ${dir} is a ${await kindOf(dir)}, not a directory; give --data-dir a directory (it is made when missing), or move the file away`;
      if (blocker) return `the data directory ${dir} cannot be made: ${blocker} is a ${await kindOf(blocker)}, not a directory; give --data-dir another path, or move ${blocker} away`;
      break;
    }
    case 'ENOENT': {
      // mkdir -p answers ENOENT for a parent it could not make: the cause is where the path starts to be missing.
      const cause = await whyNotWritable(await nearestExisting(dir));
      if (cause && errnoOf(cause) !== 'ENOENT') return dataDirProblem(dir, cause, doing);
      break;
    }
    default:
      // Any other errno: the general line below, with the code for searching.
      break;
  }
  return `cannot use the data directory ${dir} (${code ?? 'error'} ${doing}: ${messageOf(error)}); check the path, or give --data-dir another directory`;
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/** The first path from `dir` upwards that exists; `dir` itself when it does (or `/`). */
async function nearestExisting(dir: string): Promise<string> {
  for (let path = dir; ; path = dirname(path)) {
    if ((await stat(path).catch(() => undefined)) || dirname(path) === path) return path;
  }
}

/** The nearest existing path at or above `dir`, when it is not a directory. */
async function firstNonDirectory(dir: string): Promise<string | undefined> {
  for (let path = dir; ; path = dirname(path)) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOTDIR' ? 'below-a-file' : undefined));
    if (info !== undefined && info !== 'below-a-file') return info.isDirectory() ? undefined : path;
    if (dirname(path) === path) return undefined;
  }
}

async function kindOf(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 'file';
  if (info.isFIFO()) return 'FIFO';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'device';
  return 'regular file';
}

/** access(W_OK) names the cause mkdir hid: EROFS, EACCES. Undefined when the directory is writable. */
async function whyNotWritable(path: string): Promise<unknown> {
  try {
    await access(path, constants.W_OK);
    return undefined;
  } catch (error) {
    return error;
  }
}
