/**
 * A runner turns one work item into the integrity hashes of its end state
 * (design §5). Implementations: `sim.ts` (a simulated chain for tests, demos
 * and scale simulation) and `nodeos/` (the real thing).
 */
import type { SnapshotRef } from '../manifest/manifest.js';

export interface WorkItem {
  run: string;
  /** `<start>-<end>` or `<start>-<end>.r<k>` (src/layout/keys.ts). */
  itemId: string;
  start: number;
  end: number;
  replica?: number;
  snapshot: SnapshotRef | null;
  chainId?: string;
  expectedEndHash?: string;
  /** 1-based number of this attempt at the item across the cluster (failure records + 1), when the caller knows it. */
  attempt?: number;
}

/**
 * What an attempt is doing, in order (docs/runners.md): `fetching` the
 * snapshot and block logs, `loading` it into nodeos (and computing the start
 * hash), `replaying` blocks to the end, `hashing` the end state as nodeos
 * stops, `reading-hash` from a read-only restart when nodeos logged no stop
 * hash. Each phase is judged by what progresses in it.
 */
export type RunnerPhase = 'fetching' | 'loading' | 'replaying' | 'hashing' | 'reading-hash';

export interface RunnerProgress {
  /** Absent from runners that have no phases to tell (sim). */
  phase?: RunnerPhase;
  headBlock: number;
  /** Recent replay speed. */
  blocksPerSecond?: number;
  /** Estimated seconds to `end` at the current speed. */
  etaSeconds?: number;
}

export interface RunResult {
  /** Integrity hash of the state loaded at `start` (absent when unknown, e.g. genesis). */
  startHash?: string;
  /** Integrity hash of the state at `end`. */
  endHash: string;
  headBlock: number;
  headBlockId: string;
  /** Runner name and version, e.g. `sim/1` or `nodeos`. */
  runner: string;
  nodeosVersion?: string;
  /** Milliseconds spent in each phase (fetch, start, replay, hash). */
  timings: Record<string, number>;
}

export interface RunOptions {
  /** Aborted when the lease is lost or the node stops: the runner must stop promptly. */
  signal: AbortSignal;
  onProgress(progress: RunnerProgress): void;
}

export interface Runner {
  readonly name: string;
  /** Checks and one-time setup before any item (tools present, binary installed). Idempotent. */
  prepare(): Promise<void>;
  /** @throws RunnerFailure when the attempt fails; rejects with the signal's reason when aborted. */
  run(item: WorkItem, options: RunOptions): Promise<RunResult>;
  /** Releases anything prepare() set up. Idempotent. */
  close(): Promise<void>;
}

/** A failed attempt: recorded under `failures/<item>/` and retried, not a crash. */
export class RunnerFailure extends Error {
  override readonly name = 'RunnerFailure';
  constructor(
    /** Short machine-friendly reason, e.g. `crashed`, `stalled`, `corrupt-snapshot`, `hash-unavailable`. */
    readonly reason: string,
    message: string,
    readonly details: { exitCode?: number | null; signal?: string | null; logTail?: string[] } = {},
  ) {
    super(message);
  }
}
