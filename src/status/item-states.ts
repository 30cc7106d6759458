/**
 * The state of every item (run-status.ts lists them) and its one-character
 * grid code, decided from what the reader holds of the store's objects:
 *
 *   conflict record(s)                   -> conflict
 *   a result (listed, not known corrupt) -> done (`m` in the grid when its hash mismatches)
 *   no lease                             -> pending
 *   otherwise the lease's own state (lease-states.ts):
 *     changed since read / never read    -> unknown ("changed, not read yet")
 *     released / failed                  -> released / failed (as read at its current ETag)
 *     done, but no result                -> released: `done` counts only with a result beside
 *                                           it; nodes claim the item again (docs/protocol.md §3.1)
 *     done, and the result is unusable   -> pending: not complete until the operator deletes
 *                                           the result (listed under problems), then replayed
 *     held, stale by its own version age -> expired: held, not renewed for longer than its TTL;
 *                                           claimable by take-over
 *     held, not stale                    -> working
 *     held, not stale when last seen but past its TTL now if unchanged
 *                                        -> unknown (the reader has not looked since)
 *
 * "Stale" is docs/protocol.md §4 on the lease's own version (freshness.ts):
 * store-clock age of its lastModified over ttlMs + 1 s, or its ETag unchanged
 * on this reader's monotonic clock for longer than ttlMs. The holder's node
 * record never decides: a live node whose keeper gave the lease up leaves an
 * expired lease, and a node whose record writes fail while its renewals land
 * holds a working one. The node list shows the holder's own state beside it.
 */
import type { LeaseRecord } from '../records/lease-record.js';
import type { ManifestItem } from '../manifest/items.js';
import type { ConflictRecord } from '../records/conflict-record.js';
import type { Verdict } from '../records/result-record.js';
import { leaseState } from './lease-states.js';
import type { Entry, ResultSummary, RunState } from './run-state.js';
import type { ItemState } from './run-status.js';

export const CELL_CODES: Record<ItemState | 'mismatch', string> = {
  pending: '.',
  working: 'w',
  expired: 'x',
  released: 'r',
  done: 'd',
  mismatch: 'm',
  failed: 'f',
  conflict: 'c',
  unknown: '?',
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

export function itemState(item: ManifestItem, state: RunState, conflicted: ReadonlySet<string>, nowMonotonic: number): ItemVerdict {
  const entry = state.results.get(item.id);
  const lease = state.leases.get(item.id);
  // Same-shaped objects (no spreads): this runs for every item on every recompute.
  if (entry && entry.problem === undefined) {
    const result = entry.value;
    return { state: conflicted.has(item.id) ? 'conflict' : 'done', hasResult: true, result, verdict: result?.verdict, lease };
  }
  if (conflicted.has(item.id)) return { state: 'conflict', hasResult: false, result: undefined, verdict: undefined, lease };
  if (!lease) return { state: 'pending', hasResult: false, result: undefined, verdict: undefined, lease: undefined };
  let leased: ItemState = leaseState(lease, state.manifest, state.storeClock, nowMonotonic);
  if (leased === 'done') leased = entry ? 'pending' : 'released';
  return { state: leased, hasResult: false, result: undefined, verdict: undefined, lease };
}

export function cellCode(verdict: ItemVerdict): string {
  return verdict.state === 'done' && verdict.verdict === 'mismatch' ? CELL_CODES.mismatch : CELL_CODES[verdict.state];
}

const CELL_BYTES = Object.fromEntries(Object.entries(CELL_CODES).map(([k, v]) => [k, v.charCodeAt(0)])) as Record<ItemState | 'mismatch', number>;

/** cellCode as a byte, for building the grid string. */
export function cellByte(verdict: ItemVerdict): number {
  return verdict.state === 'done' && verdict.verdict === 'mismatch' ? CELL_BYTES.mismatch : CELL_BYTES[verdict.state];
}
