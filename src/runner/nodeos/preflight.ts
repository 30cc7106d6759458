import { mkdir, statfs } from 'node:fs/promises';
import { execa } from 'execa';
import { RunnerConfigError } from '../runner-config-error.js';
import { messageOf } from '../../util/message-of.js';

/**
 * Checks before any work, each with an error naming what is missing and
 * what to do, instead of a failure deep inside a replay.
 */
export async function freeDiskBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

/** @returns a message when the directory has less than `needBytes` free, else undefined */
export async function diskShortage(dir: string, needBytes: number): Promise<string | undefined> {
  const free = await freeDiskBytes(dir);
  if (free >= needBytes) return undefined;
  return `only ${gib(free)} free on ${dir}, the run needs ${gib(needBytes)}; free space or use --data-dir on a bigger volume`;
}

export async function checkDataDir(dir: string, needBytes: number): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new RunnerConfigError(`cannot create the nodeos data directory ${dir}: ${messageOf(error)}`);
  }
  const shortage = await diskShortage(dir, needBytes);
  if (shortage) throw new RunnerConfigError(shortage);
}

/** `zstd` must be on PATH when any snapshot is compressed. */
export async function checkZstd(): Promise<void> {
  const result = await execa('zstd', ['--version'], { reject: false });
  if (result.failed) {
    throw new RunnerConfigError('the run has .zst snapshots but the zstd tool is not on PATH; install it (Debian: apt-get install zstd)');
  }
}

/**
 * `setpriv --pdeathsig KILL` has the kernel kill nodeos when replay-node
 * dies, even by SIGKILL; without it an orphaned nodeos replays on alone
 * (issue 13), so it is required, not optional. It is tried for real, not
 * just found: a sandbox may refuse the prctl behind it.
 */
export async function checkSetpriv(): Promise<void> {
  const help = await execa('setpriv', ['--help'], { reject: false });
  if (help.failed || !String(help.stdout).includes('--pdeathsig')) {
    throw new RunnerConfigError('setpriv with --pdeathsig not found; install util-linux (Debian: apt-get install util-linux) so nodeos dies with replay-node');
  }
  const trial = await execa('setpriv', ['--pdeathsig', 'KILL', '--', process.execPath, '-e', ''], { reject: false });
  if (trial.failed) {
    const why = String(trial.stderr).trim().split('\n')[0] || trial.shortMessage;
    throw new RunnerConfigError(`setpriv --pdeathsig KILL fails here (${why}); run replay-node where the parent-death signal can be set, so nodeos dies with replay-node`);
  }
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
