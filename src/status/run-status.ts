/**
 * A run's status as `replay-node status --json`, the observer's pages and
 * its JSON API show it (schema `replay/status/v1`, documented in
 * docs/status.md). One code path computes it (compute-status.ts) from what
 * the reader loaded from the store (run-state.ts), plus optional gossip.
 *
 * Stable: fields are only ever added within v1; a breaking change is v2.
 */
import type { NodeCounts, NodeState } from '../records/node-record.js';

export const STATUS_SCHEMA = 'replay/status/v1';

/**
 * Every item is in exactly one state (the rules: item-states.ts):
 * `pending` no lease yet; `working` lease held and renewed within its TTL;
 * `expired` lease held but not renewed for longer than its TTL (by the
 * lease's own version age), claimable by take-over; `released` free to
 * claim; `done` has its canonical result; `failed` out of attempts;
 * `conflict` a second, different result was recorded (nondeterminism);
 * `unknown` the reader cannot tell without a new look: the lease changed
 * since it was read and the new version is not read yet, or it was held when
 * last seen and could have lapsed since. Added last so the older states keep
 * their order.
 */
export const ITEM_STATES = ['pending', 'working', 'expired', 'released', 'done', 'failed', 'conflict', 'unknown'] as const;
export type ItemState = (typeof ITEM_STATES)[number];

/** A node as others see it: its own state, or `dead` when its record went stale. */
export type NodeView = NodeState | 'dead';

export interface RunStatus {
  schema: typeof STATUS_SCHEMA;
  run: string;
  /** The reader's wall clock when computed, ISO; for people. */
  generatedAt: string;
  /** False while the manifest is missing or some listed objects could not be read yet. */
  complete: boolean;
  manifest: ManifestSummary | null;
  /** Items per state; `total` is the manifest's item count. */
  items: Record<ItemState, number> & { total: number };
  progress: Progress;
  /**
   * Items with a result by hash verdict; an item with a conflict counts only
   * as `conflict`; `unread`: results listed whose body has not been read yet
   * (a large run's first seconds).
   */
  verdicts: { match: number; mismatch: number; unverified: number; conflict: number; unread: number };
  continuity: { checked: number; breaks: ContinuityBreak[] };
  nodes: NodeStatus[];
  failed: FailedItem[];
  conflicts: ConflictItem[];
  mismatches: MismatchItem[];
  /** The latest failed attempts (any item), newest first. */
  recentFailures: FailureSummary[];
  /** Objects that could not be used: corrupt JSON, foreign keys, records naming another run. */
  problems: Problem[];
  observers: ObserverStatus[];
}

export interface ManifestSummary {
  createdAt: string;
  intervals: number;
  items: number;
  replicas: number;
  firstBlock: number;
  lastBlock: number;
  leaseTtlMs: number;
  maxAttempts: number;
  nodeosVersion: string | null;
}

export interface Progress {
  /** Blocks of done items plus replayed blocks of working ones (each replica counts). */
  blocksDone: number;
  blocksTotal: number;
  /** 0-100, one decimal. */
  percentBlocks: number;
  percentItems: number;
  /** Sum over live nodes. */
  blocksPerSecond: number;
  /** Remaining blocks at the current speed; null when nothing is moving or all is done. */
  etaSeconds: number | null;
}

export interface ContinuityBreak {
  /** The block where interval i ends and interval i+1 starts. */
  block: number;
  endItem: string;
  endHash: string;
  startItem: string;
  startHash: string;
}

export interface NodeItemStatus {
  item: string;
  epoch: number | null;
  headBlock: number | null;
  blocksPerSecond: number | null;
}

export interface NodeStatus {
  node: string;
  state: NodeView;
  /** What the record says, even when the node is judged dead. */
  recordState: NodeState;
  items: NodeItemStatus[];
  /** Highest head block among its items, null when idle. */
  headBlock: number | null;
  blocksPerSecond: number;
  /** How long its record has gone unchanged (store clock, or this reader's monotonic clock). */
  heartbeatAgeMs: number;
  staleAfterMs: number;
  peerId: string | null;
  host: string;
  version: string;
  runner: string;
  concurrency: number;
  counts: NodeCounts;
  reason: string | null;
  /** When the node found the store unavailable (its wall clock, ISO), as its last record says; null while the store answers it. */
  storeUnavailableSince: string | null;
  /** `gossip` when its items and speed come from gossip heard within its stale-after time. */
  progressFrom: 'store' | 'gossip';
}

export interface FailedItem {
  item: string;
  attempts: number;
  failedBy: string[];
  /** From the newest failure record, when there is one. */
  reason: string | null;
  message: string | null;
  node: string | null;
  at: string | null;
  failureRecords: number;
}

export interface ConflictItem {
  item: string;
  canonical: OutcomeSummary;
  found: Array<OutcomeSummary & { detectedAt: string }>;
}

export interface OutcomeSummary {
  node: string;
  epoch: number;
  endHash: string;
  startHash: string | null;
}

export interface MismatchItem {
  item: string;
  endHash: string;
  expectedEndHash: string;
  node: string;
}

export interface FailureSummary {
  item: string;
  node: string;
  attempt: number;
  reason: string;
  message: string;
  final: boolean;
  at: string;
  key: string;
}

export interface Problem {
  key: string;
  problem: string;
}

export interface ObserverStatus {
  observer: string;
  peerId: string;
  live: boolean;
}
