import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../util/logger.js';
import type { NodeosExit } from './process.js';
import { parseProcessRecord, processStartTime, type ProcessIdentity } from './process-identity.js';

/**
 * Every nodeos the runner starts is recorded in `<dataDir>/nodeos-<pid>.pid`
 * until it exits, so a later replay-node on the same data directory can
 * find a nodeos that outlived its replay-node (no parent-death signal; see
 * leftover.ts) by its identity, never by its name. One file per process
 * because a node works on `--concurrency` items at once.
 */
export interface NodeosPidRecord extends ProcessIdentity {
  hostname: string;
  bin: string;
  itemId: string;
}

const PREFIX = 'nodeos-';
const SUFFIX = '.pid';

export function pidFilePath(dataDir: string, pid: number): string {
  return join(dataDir, `${PREFIX}${pid}${SUFFIX}`);
}

/** The pid files in `dataDir`; `record` undefined for one that does not parse. */
export async function readPidFiles(dataDir: string): Promise<Array<{ path: string; record?: NodeosPidRecord }>> {
  const names = (await readdir(dataDir)).filter((name) => name.startsWith(PREFIX) && name.endsWith(SUFFIX));
  return Promise.all(names.map(async (name) => {
    const path = join(dataDir, name);
    const record = parseRecord(await readFile(path, 'utf8').catch(() => ''));
    return record ? { path, record } : { path };
  }));
}

/** Writes the record atomically (a crash mid-write leaves a temporary file, not a half record). */
export async function writePidFile(dataDir: string, record: NodeosPidRecord): Promise<string> {
  const path = pidFilePath(dataDir, record.pid);
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record)}\n`);
  await rename(temporary, path);
  return path;
}

/** A started nodeos, as far as its pid file is concerned. */
export interface TrackedNodeos {
  readonly pid: number | undefined;
  readonly exited: Promise<NodeosExit>;
}

/** Records each started nodeos and removes its record once it has exited. */
export class NodeosPidFiles {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly dataDir: string, private readonly logger: Logger) {}

  track(nodeos: TrackedNodeos, bin: string, itemId: string): void {
    const { pid } = nodeos;
    if (pid === undefined) return; // never started: nothing can be left behind
    const work = this.record(pid, bin, itemId)
      .then(async (path) => {
        await nodeos.exited;
        if (path) await rm(path, { force: true });
      })
      .catch((error: unknown) => this.logger.warn({ err: error, pid }, 'could not remove the nodeos pid file'));
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Resolves when the records of every nodeos that has exited are gone (runner close). */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }

  private async record(pid: number, bin: string, itemId: string): Promise<string | undefined> {
    // The start time does not change when setpriv execs nodeos, so reading it right after the spawn is right.
    const startTime = await processStartTime(pid);
    if (startTime === undefined) return undefined; // already exited
    try {
      return await writePidFile(this.dataDir, { pid, startTime, hostname: hostname(), bin, itemId });
    } catch (error) {
      // Only the second line of defence (after the parent-death signal): the replay goes on without it.
      this.logger.warn({ err: error, pid, dataDir: this.dataDir }, 'could not write the nodeos pid file');
      return undefined;
    }
  }
}

function parseRecord(raw: string): NodeosPidRecord | undefined {
  return parseProcessRecord<NodeosPidRecord>(raw, ['bin', 'itemId']);
}
