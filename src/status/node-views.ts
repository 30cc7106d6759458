/**
 * Each node as others see it: its record's state, or `dead` when the record
 * went stale (freshness.ts); its current items with head block and speed
 * from the record, or from gossip when gossip was heard within the node's
 * stale-after time (fresher: progress is published every few seconds,
 * records are rewritten less often).
 */
import type { PeerState } from '../gossip/hints.js';
import { NODE_STATES, type NodeCounts, type NodeRecord, type NodeState } from '../records/node-record.js';
import { boundTtl } from '../lease/ttl-bound.js';
import { ageOf, displayAge, isStale } from './freshness.js';
import { runTtlMs } from './lease-states.js';
import type { Entry, RunState } from './run-state.js';
import type { NodeItemStatus, NodeStatus } from './run-status.js';

const STATES: ReadonlySet<string> = new Set(NODE_STATES);

export function nodeViews(state: RunState, nowMonotonic: number, peers: readonly PeerState[] = []): Map<string, NodeStatus> {
  const heard = new Map(peers.map((peer) => [peer.node, peer]));
  const views = new Map<string, NodeStatus>();
  const ids = [...state.nodes.keys()].sort();
  for (const id of ids) {
    const entry = state.nodes.get(id)!;
    if (!entry.value) continue; // unreadable: listed under problems
    views.set(id, nodeView(entry as Entry<NodeRecord> & { value: NodeRecord }, state, nowMonotonic, heard.get(id)));
  }
  return views;
}

function nodeView(entry: Entry<NodeRecord> & { value: NodeRecord }, state: RunState, now: number, peer: PeerState | undefined): NodeStatus {
  const record = entry.value;
  const age = ageOf(entry, state.storeClock, now);
  // The record's own stale-after, capped as nodes cap it (src/lease/ttl-bound.ts): 1e15 would keep a dead node "working".
  const staleAfterMs = boundTtl(record.staleAfterMs, runTtlMs(state.manifest)).ms;
  // A stopped node said goodbye: its record stops changing on purpose.
  const dead = record.state !== 'stopped' && isStale(age, staleAfterMs);
  const epochs = new Map(record.items.map((i) => [i.item, i.epoch]));
  const fromGossip = !dead && peer !== undefined && now - peer.heardAt <= staleAfterMs;
  const items: NodeItemStatus[] = fromGossip
    ? peer.items.map((i) => ({ item: i.item, epoch: epochs.get(i.item) ?? null, headBlock: i.headBlock, blocksPerSecond: i.blocksPerSecond }))
    : record.items.map((i) => ({ item: i.item, epoch: i.epoch ?? null, headBlock: numberOrNull(i.headBlock), blocksPerSecond: numberOrNull(i.blocksPerSecond) }));
  const view: NodeState | 'dead' = dead ? 'dead' : fromGossip && STATES.has(peer.state) ? (peer.state as NodeState) : record.state;
  // A loop, not Math.max(...heads): a spread of a long list overflows the stack (issue 19).
  let headBlock: number | null = null;
  for (const i of items) if (i.headBlock !== null && (headBlock === null || i.headBlock > headBlock)) headBlock = i.headBlock;
  return {
    node: record.node,
    state: view,
    recordState: record.state,
    // A dead node's items are what its last record named (their leases decide their states, item-states.ts); a stopped one released them.
    items: view === 'stopped' ? [] : items,
    headBlock,
    blocksPerSecond: dead ? 0 : round1(items.reduce((sum, i) => sum + (i.blocksPerSecond ?? 0), 0)),
    heartbeatAgeMs: displayAge(age),
    staleAfterMs,
    peerId: record.peerId ?? null,
    host: String(record.host ?? ''),
    version: String(record.version ?? ''),
    runner: String(record.runner ?? ''),
    concurrency: Number(record.concurrency ?? 1),
    counts: countsOf(record),
    reason: record.reason ?? null,
    storeUnavailableSince: typeof record.storeUnavailableSince === 'string' ? record.storeUnavailableSince : null,
    progressFrom: fromGossip ? 'gossip' : 'store',
  };
}

/** The record's counters; a record from an older writer may lack some. */
function countsOf(record: NodeRecord): NodeCounts {
  const c = (record.counts ?? {}) as Partial<NodeCounts>;
  return { done: c.done ?? 0, confirmed: c.confirmed ?? 0, conflicts: c.conflicts ?? 0, failed: c.failed ?? 0 };
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
