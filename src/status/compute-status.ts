/**
 * The one computation of a run's status, shared by `replay-node status` and
 * the observer: a pure function of what the reader loaded (RunState),
 * optional gossip peer states and a time. Nothing here does I/O or reads a
 * clock, so it is tested with hand-made states and a ManualClock's numbers.
 */
import type { PeerState } from '../gossip/hints.js';
import { runKeys } from '../layout/keys.js';
import { boundTtl, excessiveTtlMessage } from '../lease/ttl-bound.js';
import { checkContinuity } from './continuity.js';
import { ageOf, isStale } from './freshness.js';
import { cellByte, cellCode, conflictsByItem, itemState, type ItemVerdict } from './item-states.js';
import { runTtlMs } from './lease-states.js';
import { nodeViews, round1 } from './node-views.js';
import type { RunState } from './run-state.js';
import { ITEM_STATES, STATUS_SCHEMA, type FailedItem, type ItemState, type MismatchItem, type RunStatus } from './run-status.js';
import { conflictItem, failedItem, failuresByItem, manifestSummary, percent, recentFailures } from './status-lists.js';

export interface StatusInput {
  /** The reader's clocks now: monotonic for every age, wall only for `generatedAt`. */
  now: { monotonic: number; wall: number };
  /** Latest progress heard on gossip (GossipHints.peerStates()); optional. */
  peers?: readonly PeerState[];
  /** At most this many entries in each list (failed, conflicts, mismatches, breaks, problems); counts stay complete. Default: all. */
  listLimit?: number;
}

export interface RunView {
  status: RunStatus;
  /** One grid code per manifest item, in manifest order (item-states.ts CELL_CODES). */
  cells: string;
}

export function computeRunStatus(state: RunState, input: StatusInput): RunStatus {
  return computeRunView(state, input).status;
}

export function computeRunView(state: RunState, input: StatusInput): RunView {
  const now = input.now.monotonic;
  const limit = input.listLimit ?? Number.POSITIVE_INFINITY;
  const nodes = nodeViews(state, now, input.peers);
  const conflicted = conflictsByItem(state);
  const conflictedItems = new Set(conflicted.keys());
  const failuresOf = failuresByItem(state);
  const progressOf = new Map<string, number>();
  for (const node of nodes.values()) {
    if (node.state === 'dead') continue;
    for (const item of node.items) if (item.headBlock !== null) progressOf.set(item.item, item.headBlock);
  }

  const counts = Object.fromEntries(ITEM_STATES.map((s) => [s, 0])) as Record<ItemState, number>;
  const verdicts = { match: 0, mismatch: 0, unverified: 0, conflict: 0, unread: 0 };
  const failed: FailedItem[] = [];
  const mismatches: MismatchItem[] = [];
  // One byte per item, turned into a string once: 100,000 string appends would allocate far more.
  const cells = Buffer.allocUnsafe(state.items.length);
  let blocksTotal = 0;
  let blocksDone = 0;
  const ttl = runTtlMs(state.manifest);
  // Problems the objects' own content shows (issue 19), beside the reader's (corrupt, foreign).
  const problems = new Map(state.problems);
  for (const entry of state.nodes.values()) {
    const bounded = boundTtl(entry.value?.staleAfterMs, ttl);
    if (bounded.excessive !== undefined) problems.set(entry.key, excessiveTtlMessage(entry.key, 'staleAfterMs', bounded.excessive, bounded.ms));
  }
  const keys = runKeys(state.run);
  for (let index = 0; index < state.items.length; index++) {
    const item = state.items[index]!;
    const v: ItemVerdict = itemState(item, state, conflictedItems, now);
    const lease = v.lease?.value;
    if (lease && !v.hasResult) {
      if (lease.state === 'done' && !state.results.has(item.id)) {
        problems.set(v.lease!.key, `lease says done but there is no result ${keys.result(item.id)}: the item is not complete; nodes claim it again`);
      }
      const bounded = boundTtl(lease.ttlMs, ttl);
      if (bounded.excessive !== undefined) problems.set(v.lease!.key, excessiveTtlMessage(v.lease!.key, 'ttlMs', bounded.excessive, bounded.ms));
    }
    counts[v.state] += 1;
    cells[index] = cellByte(v);
    const span = item.end - item.start;
    blocksTotal += span;
    if (v.hasResult) {
      blocksDone += span;
      if (v.state === 'conflict') verdicts.conflict += 1;
      else if (v.verdict) verdicts[v.verdict] += 1;
      else verdicts.unread += 1;
      if (v.result && v.state === 'done' && v.verdict === 'mismatch' && mismatches.length < limit) {
        mismatches.push({ item: item.id, endHash: v.result.endHash, expectedEndHash: item.interval.expectedEndHash!, node: v.result.node });
      }
    } else if (v.state === 'working') {
      const head = progressOf.get(item.id);
      if (head !== undefined) blocksDone += Math.min(span, Math.max(0, head - item.start));
    } else if (v.state === 'failed' && failed.length < limit) {
      failed.push(failedItem(item.id, v, failuresOf.get(item.id) ?? []));
    }
  }

  const nodeList = [...nodes.values()];
  const blocksPerSecond = round1(nodeList.reduce((sum, n) => sum + n.blocksPerSecond, 0));
  const remaining = blocksTotal - blocksDone;
  const continuity = checkContinuity(state);
  const status: RunStatus = {
    schema: STATUS_SCHEMA,
    run: state.run,
    generatedAt: new Date(input.now.wall).toISOString(),
    complete: state.complete,
    manifest: manifestSummary(state),
    items: { ...counts, total: state.items.length },
    progress: {
      blocksDone,
      blocksTotal,
      percentBlocks: percent(blocksDone, blocksTotal),
      percentItems: percent(counts.done + counts.conflict, state.items.length),
      blocksPerSecond,
      etaSeconds: blocksPerSecond > 0 && remaining > 0 ? Math.round(remaining / blocksPerSecond) : null,
    },
    verdicts,
    continuity: { checked: continuity.checked, breaks: continuity.breaks.slice(0, limit) },
    nodes: nodeList,
    failed,
    conflicts: [...conflicted].slice(0, limit).map(([item, records]) => conflictItem(item, records)),
    mismatches,
    recentFailures: recentFailures(state),
    problems: [...problems].sort(([a], [b]) => (a < b ? -1 : 1)).slice(0, limit).map(([key, problem]) => ({ key, problem })),
    observers: [...state.observers.values()].flatMap((entry) =>
      // Stale-after capped like the nodes cap it (src/node/peer-watch.ts: 10 x max(TTL, 60 s)).
      entry.value ? [{ observer: entry.value.observer, peerId: entry.value.peerId, live: !isStale(ageOf(entry, state.storeClock, now), boundTtl(entry.value.staleAfterMs, Math.max(ttl, 60_000)).ms) }] : [],
    ),
  };
  return { status, cells: cells.toString('latin1') };
}

/**
 * The grid code of one item now, by the same rules as computeRunView: what
 * a live view shows at once for an item a gossip event named, before the
 * next full recompute.
 */
export function itemCell(state: RunState, index: number, input: StatusInput): string | undefined {
  const item = state.items[index];
  if (!item) return undefined;
  const conflicted = new Set(conflictsByItem(state).keys());
  return cellCode(itemState(item, state, conflicted, input.now.monotonic));
}
