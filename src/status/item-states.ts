/**
 * The state of every item (run-status.ts lists them) and its one-character
 * grid code, decided from the reader's state and the node views:
 *
 *   conflict record(s)                -> conflict
 *   a result (listed; read or not)    -> done (`m` in the grid when its hash mismatches)
 *   no lease                          -> pending
 *   lease released / failed / done    -> released / failed / done
 *   lease held, holder's record stale -> expired
 *   lease held, holder has no usable record (or stopped) and the lease itself is stale
 *                                     -> expired
 *   lease held otherwise              -> working
 *
 * A held lease is judged by its holder's heartbeat first, because node
 * records are re-read every few seconds while a long-running reader lists
 * leases less often; the lease's own age is the fallback (a corrupt lease,
 * or a holder that never wrote a record).
 */
import type { LeaseRecord } from '../lease/lease.js';
import type { ManifestItem } from '../manifest/items.js';
import type { ConflictRecord } from '../node/conflict-record.js';
import type { Verdict } from '../node/result-record.js';
import { ageOf, isStale } from './freshness.js';
import type { Entry, ResultSummary, RunState } from './run-state.js';
import type { ItemState, NodeStatus } from './run-status.js';

export const CELL_CODES: Record<ItemState | 'mismatch', string> = {
  pending: '.',
  working: 'w',
  expired: 'x',
  released: 'r',
  done: 'd',
  mismatch: 'm',
  failed: 'f',
  conflict: 'c',
};

export interface ItemVerdict {
  state: ItemState;
  /** Its result is listed (and not corrupt); `result` is undefined until the body has been read. */
  hasResult: boolean;
  result: ResultSummary | undefined;
  lease: Entry<LeaseRecord> | undefined;
  /** For items with a result: the end hash against the manifest's expected one. */
  verdict: Verdict | undefined;
}

export function conflictsByItem(state: RunState): Map<string, ConflictRecord[]> {
  const byItem = new Map<string, ConflictRecord[]>();
  for (const entry of state.conflicts.values()) {
    if (!entry.value) continue;
    const list = byItem.get(entry.value.item) ?? [];
    list.push(entry.value);
    byItem.set(entry.value.item, list);
  }
  return byItem;
}

export function itemState(
  item: ManifestItem,
  state: RunState,
  nodes: ReadonlyMap<string, NodeStatus>,
  conflicted: ReadonlySet<string>,
  nowMonotonic: number,
): ItemVerdict {
  const entry = state.results.get(item.id);
  const lease = state.leases.get(item.id);
  // Same-shaped objects (no spreads): this runs for every item on every recompute.
  if (entry && entry.problem === undefined) {
    const result = entry.value;
    return { state: conflicted.has(item.id) ? 'conflict' : 'done', hasResult: true, result, verdict: result?.verdict, lease };
  }
  if (conflicted.has(item.id)) return { state: 'conflict', hasResult: false, result: undefined, verdict: undefined, lease };
  if (!lease) return { state: 'pending', hasResult: false, result: undefined, verdict: undefined, lease: undefined };
  const record = lease.value;
  if (record && record.state !== 'held') return { state: record.state, hasResult: false, result: undefined, verdict: undefined, lease };
  const holder = record ? nodes.get(record.holder) : undefined;
  if (holder && holder.state !== 'stopped') return { state: holder.state === 'dead' ? 'expired' : 'working', hasResult: false, result: undefined, verdict: undefined, lease };
  const ttlMs = record?.ttlMs ?? state.manifest?.defaults.leaseTtlMs ?? 60_000;
  return { state: isStale(ageOf(lease, state.storeClock, nowMonotonic), ttlMs) ? 'expired' : 'working', hasResult: false, result: undefined, verdict: undefined, lease };
}

export function cellCode(verdict: ItemVerdict): string {
  return verdict.state === 'done' && verdict.verdict === 'mismatch' ? CELL_CODES.mismatch : CELL_CODES[verdict.state];
}

const CELL_BYTES = Object.fromEntries(Object.entries(CELL_CODES).map(([k, v]) => [k, v.charCodeAt(0)])) as Record<ItemState | 'mismatch', number>;

/** cellCode as a byte, for building the grid string. */
export function cellByte(verdict: ItemVerdict): number {
  return verdict.state === 'done' && verdict.verdict === 'mismatch' ? CELL_BYTES.mismatch : CELL_BYTES[verdict.state];
}
