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
 *
 * Both rules assume the version is still current. A reader only knows that
 * up to its last sighting (`lastSeenAt`: the last listing or GET that showed
 * the ETag), so `judgeVersion` tells three cases apart: stale already when
 * last seen (known), not stale even now (known), or not stale when last seen
 * but past its limit now if unchanged: unknown until the reader looks again.
 */
import { storeAgeSaysOlder, storeClockOlderAfter, unchangedSaysOlder } from '../lease/expiry.js';
import { storeTimeAt, type StoreClockSample } from '../time/store-time.js';
import type { Sighting } from './run-state.js';

// Re-exported for status's callers; the value is src/lease/expiry.ts's.
export { STORE_CLOCK_MARGIN_MS } from '../lease/expiry.js';

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
  if (unchangedSaysOlder(age.unchangedMs, limitMs)) return true;
  return age.storeAgeMs !== undefined && storeAgeSaysOlder(age.storeAgeMs, limitMs);
}

/**
 * The monotonic time after which the version counts as stale by either rule
 * if it has not changed: `isStale(ageOf(s, clock, t), limit)` exactly when
 * `t > staleFrom(s, clock, limit)` (the same two rules, solved for the time).
 */
export function staleFrom(sighting: Sighting, storeClock: StoreClockSample | undefined, limitMs: number): number {
  const byReader = sighting.firstSeenAt + limitMs;
  if (!storeClock) return byReader;
  // storeTimeAt(storeClock, t) - lastModified > limit + margin, solved for t.
  return Math.min(byReader, storeClockOlderAfter(sighting.lastModified, limitMs) - storeClock.storeDate + storeClock.seenAt);
}

/**
 * What this reader knows now about a version's freshness:
 *   `stale`   it was stale already at its last sighting (it stays so until a
 *             new version appears, which only a new look can show);
 *   `fresh`   it is not stale now, even if it has not changed since;
 *   `unknown` not stale at its last sighting, but past its limit now unless
 *             it changed since, and the reader has not looked since: a
 *             renewal and a lapse look the same from here.
 */
export type VersionFreshness = 'stale' | 'fresh' | 'unknown';

export function judgeVersion(sighting: Sighting, storeClock: StoreClockSample | undefined, nowMonotonic: number, limitMs: number): VersionFreshness {
  const from = staleFrom(sighting, storeClock, limitMs);
  if (sighting.lastSeenAt > from) return 'stale';
  return nowMonotonic > from ? 'unknown' : 'fresh';
}

/** The age to show people: the store's view when known (it survives reader restarts), else our own. */
export function displayAge(age: Age): number {
  return Math.round(Math.max(age.storeAgeMs ?? 0, age.unchangedMs));
}
