import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../../manifest/manifest.js';
import { NotFoundError } from '../../store/errors.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../time/clock.js';
import type { Logger } from '../../util/logger.js';
import { RunnerFailure, type Runner, type RunOptions, type RunResult, type WorkItem } from '../runner.js';
import { fetchStrideFile } from './blocks.js';
import { readOverrides, type IniEntry } from './config.js';
import { downloadObject } from './download.js';
import { SnapshotCache } from './fetch-snapshot.js';
import { installNodeos, type InstalledNodeos } from './install.js';
import { NodeosLog } from './log-file.js';
import { DEFAULT_MIN_FREE_DISK, resolveNodeosOptions, type NodeosRunnerOptions, type ResolvedNodeosOptions } from './options.js';
import { DataDirLock } from './data-dir-lock.js';
import { stopLeftoverNodeos } from './leftover.js';
import { NodeosPidFiles } from './nodeos-pid-file.js';
import { checkDataDir, checkSetpriv, checkZstd, diskShortage } from './preflight.js';
import type { NodeosProcess } from './process.js';
import { readOnlyHash } from './read-only-hash.js';
import { runReplay, type ReplayInput } from './replay.js';
import type { NodeosSession } from './session.js';
import { messageOf } from '../../util/message-of.js';

/**
 * The `nodeos` runner (issue 5, docs/runners.md): per item, fetch the
 * snapshot (and optionally a block-log stride file), replay with nodeos to
 * the end block, and read the integrity hashes. Each step is its own file
 * beside this one; this file only sequences them.
 */
export interface NodeosRunnerDeps {
  clock: Clock;
  logger: Logger;
  store?: Store;
  manifest?: Manifest;
}

/** Item directories kept (for their logs) after their item ends. */
const KEEP_ITEM_DIRS = 10;
export const GENESIS_KEY = 'snapshots/genesis.json';

export class NodeosRunner implements Runner {
  readonly name = 'nodeos';
  private readonly options: ResolvedNodeosOptions;
  private preparing: Promise<Prepared> | undefined;
  private snapshots: SnapshotCache | undefined;
  private readonly sessions = new Set<NodeosSession>();
  private lock: DataDirLock | undefined;
  private pidFiles: NodeosPidFiles | undefined;

  constructor(options: NodeosRunnerOptions, private readonly deps: NodeosRunnerDeps) {
    this.options = resolveNodeosOptions(options);
  }

  private get minFreeDisk(): number {
    return this.options.minFreeDiskBytes ?? this.deps.manifest?.defaults.minFreeDiskBytes ?? DEFAULT_MIN_FREE_DISK;
  }

  prepare(): Promise<void> {
    this.preparing ??= this.prepareOnce().catch(async (error: unknown) => {
      this.preparing = undefined;
      // A runner that could not prepare holds no data directory; a retry (store outage) takes the lock again.
      if (this.lock !== this.options.dataDirLock) await this.lock?.release();
      this.lock = undefined;
      throw error;
    });
    return this.preparing.then(() => undefined);
  }

  private async prepareOnce(): Promise<Prepared> {
    const { options, deps } = this;
    await checkSetpriv();
    // Before anything in the data directory is touched (docs/runners.md, "One nodeos per data directory").
    // replay-node join holds it already (src/cli/data-dir.ts): one lock per process.
    this.lock ??= options.dataDirLock ?? (await DataDirLock.acquire(options.dataDir, deps));
    await stopLeftoverNodeos(options.dataDir, { ...deps, killGraceMs: options.killGraceMs });
    this.pidFiles ??= new NodeosPidFiles(options.dataDir, deps.logger);
    await checkDataDir(options.dataDir, this.minFreeDisk);
    const intervals = deps.manifest?.intervals;
    if (!intervals || intervals.some((i) => i.snapshot?.key.endsWith('.zst'))) await checkZstd();
    const installed = await installNodeos({
      nodeosBin: options.nodeosBin,
      artifact: deps.manifest?.nodeos?.artifact,
      expectedVersion: deps.manifest?.nodeos?.version,
      cacheDir: options.cacheDir,
      store: deps.store,
    });
    const overrides = await readOverrides(options.configFile);
    if (deps.store) this.snapshots = new SnapshotCache(join(options.cacheDir, 'snapshots'), options.snapshotCacheCount, { store: deps.store, clock: deps.clock });
    deps.logger.info({ nodeos: installed.bin, version: installed.version }, 'nodeos runner ready');
    return { installed, overrides };
  }

  async run(item: WorkItem, { signal, onProgress }: RunOptions): Promise<RunResult> {
    const { clock } = this.deps;
    const began = clock.monotonic();
    await this.prepare();
    const prepared = await this.preparing!;
    signal.throwIfAborted();
    const shortage = await diskShortage(this.options.dataDir, this.minFreeDisk);
    if (shortage) throw new RunnerFailure('insufficient-disk', shortage);

    const session = await this.openSession(item, prepared);
    let snapshotPath: string | undefined;
    try {
      onProgress({ phase: 'fetching', headBlock: item.start });
      const input: ReplayInput = {};
      if (item.snapshot) {
        if (!this.snapshots) throw new RunnerFailure('fetch-failed', 'the nodeos runner has no store to fetch snapshots from');
        snapshotPath = (await this.snapshots.fetch(item.snapshot, signal)).path;
        input.snapshotPath = snapshotPath;
      } else {
        input.genesisPath = await this.genesis(session, signal);
      }
      if (this.options.blockLogs && this.deps.store) {
        await fetchStrideFile(this.deps.store, this.options.blocksPrefix, item.start, join(session.dataDir, 'blocks'), signal);
      }
      const fetchedAt = clock.monotonic();

      const replay = await runReplay(session, item, input, signal, onProgress);
      const { log } = replay;
      // The end of the replay is nodeos's own word (END reached, exit 0), never a poll seeing END:
      // nodeos quits within milliseconds of END and closes HTTP before it hashes.
      let endHash = replay.reachedEnd ? log.stopHash : undefined;
      const knownId = (replay.lastInfo?.head_block_num === item.end ? replay.lastInfo.head_block_id : undefined) ?? log.blockId(item.end);
      let headBlockId = knownId ?? log.blockIdPrefix(item.end) ?? '';
      if (!endHash) {
        // No stop hash (or no word that END was reached): read it from the state on disk,
        // which also proves that state is at END.
        onProgress({ phase: 'reading-hash', headBlock: log.headBlock ?? item.end });
        const read = await readOnlyHash(session, item, { stopHash: replay.reachedEnd ? undefined : log.stopHash, endBlockId: knownId }, signal);
        headBlockId = read.headBlockId;
        endHash = read.integrityHash;
      }
      const done = clock.monotonic();
      onProgress({ headBlock: item.end, etaSeconds: 0 });
      return {
        startHash: log.startHash,
        endHash,
        headBlock: item.end,
        headBlockId,
        runner: 'nodeos',
        nodeosVersion: prepared.installed.version,
        timings: {
          fetch: fetchedAt - began,
          // From the call (the claim) to the nodeos process running: what a node adds before replay work starts.
          untilStarted: replay.spawnedAt - began,
          start: replay.upAt - replay.spawnedAt,
          replay: replay.endAt - replay.upAt,
          // The stop hash as nodeos exits, plus the read-only restart when one was needed.
          hash: done - replay.endAt,
        },
      };
    } catch (error) {
      if (snapshotPath && error instanceof RunnerFailure && error.reason === 'corrupt-snapshot') await this.snapshots?.discard(snapshotPath);
      throw error;
    } finally {
      if (snapshotPath) this.snapshots?.release(snapshotPath);
      await this.closeSession(session);
    }
  }

  /** Stops any nodeos still running (SIGINT, then SIGKILL), then frees the data directory. Idempotent. */
  async close(): Promise<void> {
    const running: NodeosProcess[] = [...this.sessions].flatMap((s) => [...s.processes]);
    await Promise.all(running.map((p) => p.stop(this.options.killGraceMs, 'runner closing')));
    await this.pidFiles?.settled();
    if (this.lock !== this.options.dataDirLock) await this.lock?.release(); // the caller's lock is the caller's to release
  }

  /** A fresh item directory: the state directory is emptied between items. */
  private async openSession(item: WorkItem, prepared: Prepared): Promise<NodeosSession> {
    const itemsDir = join(this.options.dataDir, 'items');
    const dir = join(itemsDir, item.itemId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'data'), { recursive: true });
    await mkdir(join(dir, 'config'), { recursive: true });
    await this.trimItemDirs(itemsDir);
    const session: NodeosSession = {
      bin: prepared.installed.bin,
      itemId: item.itemId,
      dataDir: join(dir, 'data'),
      configDir: join(dir, 'config'),
      log: new NodeosLog(join(dir, 'nodeos.log'), this.options.logMaxBytes, this.options.logFiles),
      clock: this.deps.clock,
      logger: this.deps.logger,
      options: this.options,
      overrides: prepared.overrides,
      parentDeathSignal: true, // preflight.checkSetpriv
      processes: new Set(),
      onStart: (nodeos) => this.pidFiles?.track(nodeos, prepared.installed.bin, item.itemId),
    };
    this.sessions.add(session);
    return session;
  }

  /** Keeps the item's config and logs for operators; the state and blocks are big and go. */
  private async closeSession(session: NodeosSession): Promise<void> {
    await Promise.all([...session.processes].map((p) => p.stop(this.options.killGraceMs, 'attempt over')));
    session.log.close();
    this.sessions.delete(session);
    await rm(session.dataDir, { recursive: true, force: true });
  }

  private async trimItemDirs(itemsDir: string): Promise<void> {
    const active = new Set([...this.sessions].map((s) => s.itemId));
    const names = (await readdir(itemsDir)).filter((name) => !active.has(name));
    const dated = await Promise.all(names.map(async (name) => ({ name, mtime: (await stat(join(itemsDir, name))).mtimeMs })));
    dated.sort((a, b) => b.mtime - a.mtime);
    for (const old of dated.slice(KEEP_ITEM_DIRS)) await rm(join(itemsDir, old.name), { recursive: true, force: true });
  }

  /** Start block 0 replays from genesis: `--genesis-json` from the options or the store. */
  private async genesis(session: NodeosSession, signal: AbortSignal): Promise<string> {
    if (this.options.genesisJson) return this.options.genesisJson;
    if (!this.deps.store) throw new RunnerFailure('missing-genesis', 'no snapshot and no genesis.json: pass --genesis-json');
    const path = join(session.configDir, 'genesis.json');
    try {
      await downloadObject(this.deps.store, GENESIS_KEY, path, { decompress: false, signal });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const missing = (error as Error).cause instanceof NotFoundError;
      throw new RunnerFailure('missing-genesis', missing ? `no ${GENESIS_KEY} in the store for a genesis item; upload it or pass --genesis-json` : messageOf(error));
    }
    return path;
  }
}

interface Prepared {
  installed: InstalledNodeos;
  overrides: IniEntry[];
}
