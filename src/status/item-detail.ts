/**
 * Everything known about one item, for the observer's item page and API:
 * its interval, state, lease (read fresh), full result, conflicts and every
 * failed attempt with its log tail. Costs a handful of requests
 * (RunReader.refreshItem plus the full lease and result), so it is read on
 * demand, never for all items.
 */
import { checkRecordBounds } from '../layout/record-bounds.js';
import { CorruptObjectError } from '../layout/schema.js';
import type { LeaseSnapshot } from '../lease/lease.js';
import type { LeaseRecord } from '../records/lease-record.js';
import { readLease } from '../lease/read-lease.js';
import type { ConflictRecord } from '../records/conflict-record.js';
import type { FailureRecord } from '../records/failure-record.js';
import { decodeResult, type ResultRecord, type Verdict } from '../records/result-record.js';
import { NotFoundError } from '../store/errors.js';
import { isNotModified, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import { ageOf, displayAge } from './freshness.js';
import { cellCode, conflictsByItem, itemState } from './item-states.js';
import { nodeViews } from './node-views.js';
import type { RunReader } from './run-reader.js';
import type { ItemState, NodeStatus } from './run-status.js';
import { failuresByItem } from './status-lists.js';
import type { StatusInput } from './compute-status.js';

export interface ItemDetail {
  run: string;
  item: string;
  /** Position in the manifest (the grid cell). */
  index: number;
  start: number;
  end: number;
  replica: number | null;
  state: ItemState;
  cell: string;
  verdict: Verdict | null;
  expectedEndHash: string | null;
  snapshot: string | null;
  lease: (LeaseRecord & { etag: string; ageMs: number }) | null;
  /** Why the lease object could not be used, when it exists but is corrupt. */
  leaseProblem: string | null;
  result: ResultRecord | null;
  conflicts: ConflictRecord[];
  /** Oldest first. */
  failures: FailureRecord[];
  /** The holder's node as others see it, for a held lease: shown beside the lease's state, never deciding it. */
  holder: NodeStatus | null;
}

export async function readItemDetail(
  reader: RunReader,
  store: Pick<Store, 'get'>,
  clock: Pick<Clock, 'monotonic'>,
  item: string,
  input: StatusInput,
): Promise<ItemDetail | undefined> {
  let state = reader.state();
  const index = state.items.findIndex((i) => i.id === item);
  if (index === -1) return undefined;
  state = await reader.refreshItem(item);
  const manifestItem = state.items[index]!;
  const [lease, result] = await Promise.all([readLease({ store, clock, run: state.run }, item).then(bounded), readResult(store, reader, item)]);
  // Judged as of now, after the reads (their sightings are later than `input.now`).
  const now = Math.max(input.now.monotonic, clock.monotonic());
  const nodes = nodeViews(state, now, input.peers);
  const conflicts = conflictsByItem(state).get(item) ?? [];
  const verdict = itemState(manifestItem, state, new Set(conflicts.length > 0 ? [item] : []), now);
  const holder = lease?.record?.state === 'held' ? nodes.get(lease.record.holder) ?? null : null;
  const sighting = lease && { key: lease.key, etag: lease.etag, lastModified: lease.lastModified.getTime(), firstSeenAt: lease.seenAt, lastSeenAt: lease.seenAt };
  return {
    run: state.run,
    item,
    index,
    start: manifestItem.start,
    end: manifestItem.end,
    replica: manifestItem.replica ?? null,
    state: verdict.state,
    cell: cellCode(verdict),
    verdict: verdict.verdict ?? null,
    expectedEndHash: manifestItem.interval.expectedEndHash ?? null,
    snapshot: manifestItem.interval.snapshot?.key ?? null,
    lease: lease?.record && sighting
      ? { ...lease.record, etag: lease.etag, ageMs: displayAge(ageOf(sighting, { storeDate: lease.storeDate.getTime(), seenAt: lease.seenAt }, lease.seenAt)) }
      : null,
    leaseProblem: lease?.problem ?? null,
    result,
    conflicts,
    failures: failuresByItem(state).get(item) ?? [],
    holder,
  };
}

async function readResult(store: Pick<Store, 'get'>, reader: RunReader, item: string): Promise<ResultRecord | null> {
  const key = reader.keys.result(item);
  try {
    const got = await store.get(key);
    if (isNotModified(got)) return null;
    const record = decodeResult(key, got.body);
    checkRecordBounds(key, record);
    return record;
  } catch (error) {
    // Missing, or corrupt (then it is listed under the run's problems).
    if (error instanceof NotFoundError || (error as Error).name === 'CorruptObject') return null;
    throw error;
  }
}

/** A lease over the small-record bounds is shown as its problem, like any corrupt lease (record-bounds.ts). */
function bounded(lease: LeaseSnapshot | undefined): LeaseSnapshot | undefined {
  if (!lease?.record) return lease;
  try {
    checkRecordBounds(lease.key, lease.record);
    return lease;
  } catch (error) {
    if (!(error instanceof CorruptObjectError)) throw error;
    return { ...lease, record: undefined, problem: error.message };
  }
}
