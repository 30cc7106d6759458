import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Clock } from '../../time/clock.js';
import type { Logger } from '../../util/logger.js';
import { RunnerConfigError } from '../runner-config-error.js';
import { readPidFiles, type NodeosPidRecord } from './nodeos-pid-file.js';
import { isRunning } from './process-identity.js';
import { messageOf } from '../../util/message-of.js';

/**
 * A nodeos that outlived its replay-node (killed where the parent-death
 * signal could not be set) keeps replaying into the data directory. The
 * runner's prepare calls this once it holds the data directory lock
 * (data-dir-lock.ts: so no live replay-node owns these processes) and before
 * anything there is wiped or started: it stops every nodeos that the pid
 * files (nodeos-pid-file.ts) name.
 *
 * A process is only signalled when its pid and /proc start time both match
 * the record: a pid reused by an unrelated process is never touched, and
 * nothing is ever looked up by name.
 */
export interface LeftoverDeps {
  clock: Clock;
  logger: Logger;
  /** After SIGINT, how long the leftover may take before SIGKILL (the runner's killGraceMs). */
  killGraceMs: number;
}

/** After SIGKILL, how long a process may take to vanish (uninterruptible I/O delays it) before prepare gives up. */
const VANISH_AFTER_KILL_MS = 60_000;
const POLL_MS = 50;

export async function stopLeftoverNodeos(dataDir: string, deps: LeftoverDeps): Promise<void> {
  for (const { path, record } of await readPidFiles(dataDir)) {
    // Another host's pid means nothing here (most likely this machine's container, recreated: its processes died with it).
    if (record && record.hostname === hostname() && (await isRunning(record))) await stopLeftover(record, dataDir, deps);
    await rm(path, { force: true });
  }
}

async function stopLeftover(record: NodeosPidRecord, dataDir: string, deps: LeftoverDeps): Promise<void> {
  const what = `a leftover nodeos (pid ${record.pid}, item ${record.itemId}) of an earlier replay-node on ${dataDir}`;
  await signal(record, 'SIGINT', what);
  if (!(await vanishes(record, deps.killGraceMs, deps.clock))) {
    await signal(record, 'SIGKILL', what);
    if (!(await vanishes(record, VANISH_AFTER_KILL_MS, deps.clock))) {
      throw new RunnerConfigError(`${what} survived SIGKILL for ${VANISH_AFTER_KILL_MS / 1000} s; stop it, then start replay-node again`);
    }
  }
  deps.logger.warn({ pid: record.pid, item: record.itemId, bin: record.bin, dataDir }, `stopped ${what}`);
}

async function signal(record: NodeosPidRecord, name: NodeJS.Signals, what: string): Promise<void> {
  // Checked again right before the signal: it may have exited and its pid gone to another process meanwhile.
  if (!(await isRunning(record))) return;
  try {
    process.kill(record.pid, name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return;
    throw new RunnerConfigError(`cannot stop ${what} (${name}: ${code ?? messageOf(error)}); stop it, then start replay-node again`);
  }
}

async function vanishes(record: NodeosPidRecord, withinMs: number, clock: Clock): Promise<boolean> {
  const deadline = clock.monotonic() + withinMs;
  for (;;) {
    if (!(await isRunning(record))) return true;
    if (clock.monotonic() >= deadline) return false;
    await clock.sleep(POLL_MS);
  }
}
