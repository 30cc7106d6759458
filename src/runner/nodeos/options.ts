import { join } from 'node:path';
import type { DataDirLock } from './data-dir-lock.js';

/**
 * Settings of the nodeos runner: one defaults object, resolved once
 * (docs/runners.md lists them with the CLI flags that set them).
 */
export interface NodeosRunnerOptions {
  /** Working directory: per-item state and config, logs, caches. */
  dataDir: string;
  /** Use this nodeos instead of installing the manifest's artifact. */
  nodeosBin?: string;
  /** Installed artifacts and decompressed snapshots; default `<dataDir>/cache`. */
  cacheDir?: string;
  /** A config.ini whose keys replace the template's (every line of a key it names). */
  configFile?: string;
  /** `p2p-peer-address` entries, `host:port`. Default none (blocks come from block logs). */
  p2pPeers?: string[];
  /** Fetch the block-log stride file covering the start block from the store. Default false. */
  blockLogs?: boolean;
  /** Store prefix of block-log files named `blocks-<first>-<last>.log[.zst]` (+ `.index`). Default `blocks/`. */
  blocksPrefix?: string;
  /** genesis.json for items starting at genesis; default: the store's `snapshots/genesis.json`. */
  genesisJson?: string;
  blocksLogStride?: number;
  /** Free disk required on dataDir; default the manifest's `minFreeDiskBytes`, else 40 GiB. */
  minFreeDiskBytes?: number;
  /** get_info polling period. Default 5 s. */
  progressIntervalMs?: number;
  /** Replaying phase: no head progress for this long kills nodeos and fails the attempt (`stalled`). Default 20 min. */
  stallTimeoutMs?: number;
  /**
   * Loading phase: how long nodeos may stay silent while it reads the
   * snapshot and computes the start hash (tens of GB of state on mainnet).
   * Default 2 h.
   */
  loadTimeoutMs?: number;
  /**
   * Hashing phase: how long nodeos may stay silent after reaching END while
   * it computes the stop hash (about 6 min on mainnet, spring#1271). Default 1 h.
   */
  stopHashTimeoutMs?: number;
  /** After SIGINT, how long nodeos may take before SIGKILL. Default 30 s. */
  killGraceMs?: number;
  /** Read-only restart: how long nodeos may take to open its HTTP port. Default 15 min. */
  startupTimeoutMs?: number;
  /** `get_integrity_hash` timeout (minutes on mainnet state). Default 20 min. */
  hashTimeoutMs?: number;
  /** Decompressed snapshots kept in the cache. Default 2. */
  snapshotCacheCount?: number;
  /** Log rotation: bytes per file and files kept. Default 64 MiB x 3. */
  logMaxBytes?: number;
  logFiles?: number;
  /** Extra nodeos command-line arguments. */
  extraArgs?: string[];
  /** Extra environment for nodeos (tests use it to steer the fake). */
  env?: Record<string, string>;
  /**
   * The data directory's lock, already held by the caller (replay-node join
   * takes it first thing): the runner then neither takes nor releases it.
   */
  dataDirLock?: DataDirLock;
}

export type ResolvedNodeosOptions = Required<Omit<NodeosRunnerOptions, 'nodeosBin' | 'configFile' | 'genesisJson' | 'minFreeDiskBytes' | 'dataDirLock'>> &
  Pick<NodeosRunnerOptions, 'nodeosBin' | 'configFile' | 'genesisJson' | 'minFreeDiskBytes' | 'dataDirLock'>;

export const DEFAULT_MIN_FREE_DISK = 40 * 1024 ** 3;

export function resolveNodeosOptions(options: NodeosRunnerOptions): ResolvedNodeosOptions {
  return {
    cacheDir: join(options.dataDir, 'cache'),
    p2pPeers: [],
    blockLogs: false,
    blocksPrefix: 'blocks/',
    blocksLogStride: 2_000_000,
    progressIntervalMs: 5_000,
    stallTimeoutMs: 20 * 60_000,
    loadTimeoutMs: 2 * 60 * 60_000,
    stopHashTimeoutMs: 60 * 60_000,
    killGraceMs: 30_000,
    startupTimeoutMs: 15 * 60_000,
    hashTimeoutMs: 20 * 60_000,
    snapshotCacheCount: 2,
    logMaxBytes: 64 * 1024 ** 2,
    logFiles: 3,
    extraArgs: [],
    env: {},
    ...definedOnly(options),
  };
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
