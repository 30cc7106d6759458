import { runKeys } from '../layout/keys.js';
import { CorruptObjectError } from '../layout/schema.js';
import { getIfExists } from '../store/get-if-exists.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import { type LeaseSnapshot } from './lease.js';
import { decodeLease, type LeaseRecord } from '../records/lease-record.js';

export interface ReadLeaseContext {
  store: Pick<Store, 'get'>;
  clock: Pick<Clock, 'monotonic'>;
  run: string;
}

/**
 * One GET of an item's lease. Undefined when there is none (the item was
 * never claimed). A corrupt object comes back with `record: undefined` and a
 * `problem`, so callers report it and judge it by ETag age alone (it can be
 * taken over once expired, which heals it) instead of crashing.
 *
 * Store errors (Unavailable...) propagate; the callers retry.
 */
export async function readLease(ctx: ReadLeaseContext, item: string): Promise<LeaseSnapshot | undefined> {
  const key = runKeys(ctx.run).lease(item);
  const got = await getIfExists(ctx.store, key);
  if (!got) return undefined;
  const seenAt = ctx.clock.monotonic();
  let record: LeaseRecord | undefined;
  let problem: string | undefined;
  try {
    record = decodeLease(key, got.body);
    if (record.item !== item || record.run !== ctx.run) {
      record = undefined;
      problem = `corrupt object ${key}: names another run or item`;
    }
  } catch (error) {
    if (!(error instanceof CorruptObjectError)) throw error;
    problem = error.message;
  }
  return {
    item,
    key,
    etag: got.etag,
    record,
    ...(problem ? { problem } : {}),
    lastModified: got.lastModified,
    storeDate: got.storeDate,
    seenAt,
  };
}
