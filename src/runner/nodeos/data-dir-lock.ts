import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../time/clock.js';
import type { Logger } from '../../util/logger.js';
import { RunnerConfigError } from '../runner-config-error.js';
import { isRunning, parseProcessRecord, processStartTime } from './process-identity.js';
import { messageOf } from '../../util/message-of.js';

/**
 * One replay-node per data directory (issue 13): a second one on the same
 * `--data-dir` would wipe the item directories under a running nodeos and
 * start another beside it. `replay-node join` takes `<dataDir>/replay-node.lock`
 * at its start, before anything there (the gossip key, items) or in the store
 * is touched, and hands it to the nodeos runner (src/cli/data-dir.ts); a
 * runner used without join takes it in prepare and releases it on close.
 *
 * The lock names its owner by pid and /proc start time, so a lock left by a
 * replay-node that died (SIGKILL, power loss) is recognised as stale even
 * when its pid has been reused, and taken over without an operator.
 */
export const LOCK_FILE = 'replay-node.lock';

export interface LockOwner {
  pid: number;
  hostname: string;
  /** When the owner took the lock (ISO; for the operator reading the refusal). */
  startedAt: string;
  /** The owner's /proc start time (process-identity.ts). */
  startTime: number;
  /** Tells apart two holders in one process (runners in tests) and proves a takeover was ours. */
  token: string;
}

export interface DataDirLockDeps {
  clock: Clock;
  logger: Logger;
  /** Overrides for tests; default this process and this host. */
  pid?: number;
  hostname?: string;
}

/** Rounds of create / judge / take over before giving up on a lock that keeps changing hands. */
const ROUNDS = 3;

export class DataDirLock {
  private released: Promise<void> | undefined;

  private constructor(readonly path: string, readonly owner: LockOwner) {}

  /** Takes the lock or throws RunnerConfigError naming the live owner. */
  static async acquire(dataDir: string, deps: DataDirLockDeps): Promise<DataDirLock> {
    try {
      await mkdir(dataDir, { recursive: true });
    } catch (error) {
      throw new RunnerConfigError(`cannot create the nodeos data directory ${dataDir}: ${messageOf(error)}`);
    }
    const pid = deps.pid ?? process.pid;
    const startTime = await processStartTime(pid);
    if (startTime === undefined) throw new RunnerConfigError(`cannot read /proc/${pid}/stat; the data directory lock needs Linux /proc`);
    const owner: LockOwner = {
      pid, hostname: deps.hostname ?? hostname(), startedAt: new Date(deps.clock.now()).toISOString(), startTime, token: randomUUID(),
    };
    const path = join(dataDir, LOCK_FILE);
    const text = `${JSON.stringify(owner)}\n`;
    for (let round = 0; round < ROUNDS; round++) {
      if (await createExclusive(path, text)) return new DataDirLock(path, owner);
      const seen = await readLock(path);
      if (!seen) continue; // released meanwhile: try creating it again
      const holder = seen.owner;
      if (holder && holder.hostname === owner.hostname && (await isRunning(holder))) {
        throw new RunnerConfigError(`the data directory ${dataDir} is in use by replay-node pid ${holder.pid} on host ${holder.hostname} (since ${holder.startedAt}); stop it or give this node another --data-dir`);
      }
      if (await takeOver(path, text, seen.raw, owner.token)) {
        deps.logger.warn({ dataDir, previous: holder ?? null }, `took over the lock of the data directory ${dataDir}: ${staleBecause(holder, owner.hostname)}`);
        return new DataDirLock(path, owner);
      }
    }
    throw new RunnerConfigError(`the lock ${path} keeps changing hands: several replay-node processes are starting on ${dataDir}; give each node its own --data-dir`);
  }

  /** Deletes the lock file if it is still ours. Idempotent. */
  release(): Promise<void> {
    this.released ??= (async () => {
      const current = await readLock(this.path);
      if (current?.owner?.token === this.owner.token) await rm(this.path, { force: true });
    })();
    return this.released;
  }
}

function staleBecause(holder: LockOwner | undefined, host: string): string {
  if (!holder) return 'its lock file was unreadable';
  const who = `replay-node pid ${holder.pid} (since ${holder.startedAt})`;
  // Another hostname is most often the same machine's container recreated; its processes cannot be checked from here.
  if (holder.hostname !== host) return `it was held by ${who} on host ${holder.hostname}, not this host ${host}`;
  return `${who} is gone`;
}

/**
 * Written in full under a temporary name, then linked into place: link
 * fails if the lock exists, and nobody ever reads a half-written lock
 * (which would look corrupt, hence stale).
 */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, text);
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * Replaces a stale lock. Not a compare-and-swap (POSIX files have none):
 * the lock is re-read just before the rename (someone else may have taken
 * it meanwhile) and after it (to confirm ours is the one that stayed), which
 * leaves only two replay-nodes taking over within the same instant.
 */
async function takeOver(path: string, text: string, staleRaw: string, token: string): Promise<boolean> {
  if ((await readLock(path))?.raw !== staleRaw) return false;
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
  return (await readLock(path))?.owner?.token === token;
}

/** @returns undefined when there is no lock; `owner` undefined when its content is not a lock */
async function readLock(path: string): Promise<{ raw: string; owner?: LockOwner } | undefined> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const owner = parseOwner(raw);
  return owner ? { raw, owner } : { raw };
}

function parseOwner(raw: string): LockOwner | undefined {
  return parseProcessRecord<LockOwner>(raw, ['startedAt', 'token']);
}
