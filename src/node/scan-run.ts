import { itemIdFromKey, runKeys } from '../layout/keys.js';
import { listAll, listAllSeen, type ObjectInfo, type SeenObjectInfo, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';

export interface RunListing {
  /** Items that have a result object. */
  resultIds: Set<string>;
  /** The same, with what the listing said of each (result-check.ts verifies them by ETag). */
  results: Map<string, ObjectInfo>;
  /** Monotonic time before the results listing was sent: a result known before this and not listed is gone. */
  startedAt: number;
  /** Items that have a lease object, with what the listing said of it and when its page arrived. */
  leases: Map<string, SeenObjectInfo>;
  /** Keys under results/ and leases/ that are not items of this run (reported, skipped). */
  foreign: string[];
}

/**
 * One look at a run's results/ and leases/ prefixes: paged listings, one
 * request per thousand objects, no GETs. Results are listed first so that
 * an item finished between the two listings shows as done rather than as
 * free.
 */
export async function scanRun(store: Pick<Store, 'list'>, clock: Pick<Clock, 'monotonic'>, run: string, items: { has(id: string): boolean }): Promise<RunListing> {
  const keys = runKeys(run);
  const foreign: string[] = [];
  const results = new Map<string, ObjectInfo>();
  const startedAt = clock.monotonic();
  for await (const info of listAll(store, keys.resultsPrefix)) {
    const id = itemIdFromKey(info.key, keys.resultsPrefix);
    if (id !== undefined && items.has(id) && info.key === keys.result(id)) results.set(id, info);
    else foreign.push(info.key);
  }
  const leases = new Map<string, SeenObjectInfo>();
  for await (const info of listAllSeen(store, clock, keys.leasesPrefix)) {
    const id = itemIdFromKey(info.key, keys.leasesPrefix);
    if (id !== undefined && items.has(id) && info.key === keys.lease(id)) leases.set(id, info);
    else foreign.push(info.key);
  }
  return { resultIds: new Set(results.keys()), results, startedAt, leases, foreign };
}
