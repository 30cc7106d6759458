import { mkdir, statfs } from 'node:fs/promises';
import { execa } from 'execa';
import { RunnerConfigError } from '../runner-config-error.js';

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
    throw new RunnerConfigError(`cannot create the nodeos data directory ${dir}: ${(error as Error).message}`);
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

/** `setpriv --pdeathsig` makes the kernel kill nodeos if replay-node dies, even by SIGKILL. */
export async function hasSetpriv(): Promise<boolean> {
  const result = await execa('setpriv', ['--help'], { reject: false });
  return !result.failed && String(result.stdout).includes('--pdeathsig');
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
