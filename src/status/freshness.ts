/**
 * Staleness without trusting wall clocks (docs/protocol.md §4), for node
 * records, observer records and leases as a status reader sees them.
 *
 * A version is stale when either
 *   - the store's clock says it is older than its limit plus a 1 s margin
 *     (S3 stamps have one-second resolution). The store's "now" is the last
 *     response's `storeDate`, carried forward on this reader's monotonic
 *     clock, so a long-running reader need not re-read an object to age it;
 *     a one-shot reader has just read it, so this is plain
 *     `storeDate - lastModified`; or
 *   - this reader has seen the same ETag for longer than the limit on its own
 *     monotonic clock (only a long-running reader gets there).
 * Neither rule reads a writer's wall-clock fields (`heartbeatAt`...).
 */
import { storeTimeAt, type StoreClockSample } from '../time/store-time.js';
import type { Sighting } from './run-state.js';

export const STORE_CLOCK_MARGIN_MS = 1_000;

export interface Age {
  /** By the store's clock; undefined when no response has shown the store's clock yet. */
  storeAgeMs: number | undefined;
  /** Since this reader first saw this ETag, on its monotonic clock. */
  unchangedMs: number;
}

export function ageOf(sighting: Sighting, storeClock: StoreClockSample | undefined, nowMonotonic: number): Age {
  const unchangedMs = Math.max(0, nowMonotonic - sighting.firstSeenAt);
  if (!storeClock) return { storeAgeMs: undefined, unchangedMs };
  return { storeAgeMs: Math.max(0, storeTimeAt(storeClock, nowMonotonic) - sighting.lastModified), unchangedMs };
}

export function isStale(age: Age, limitMs: number): boolean {
  if (age.unchangedMs > limitMs) return true;
  return age.storeAgeMs !== undefined && age.storeAgeMs > limitMs + STORE_CLOCK_MARGIN_MS;
}

/** The age to show people: the store's view when known (it survives reader restarts), else our own. */
export function displayAge(age: Age): number {
  return Math.round(Math.max(age.storeAgeMs ?? 0, age.unchangedMs));
}
