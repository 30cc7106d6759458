/**
 * A lease's state as the store holds it (docs/status.md, "Lease states"),
 * decided from the lease object alone, never from its holder's node record:
 *
 *   changed since read, or never read   -> unknown (the listing's knowledge: "changed, not read yet")
 *   released / failed / done            -> that state (as read at its current ETag)
 *   held (or corrupt), stale already at
 *     the reader's last sighting         -> expired: not renewed for longer than its TTL, claimable by take-over
 *   held, not stale even now             -> working
 *   held, not stale at the last sighting
 *     but past its TTL now if unchanged   -> unknown, until the reader looks again
 *
 * "Stale" is docs/protocol.md §4 applied to the lease's own version
 * (freshness.ts): its ETag unchanged on this reader's monotonic clock for
 * longer than `ttlMs` (capped at 10 x the run's TTL, as nodes cap it), or
 * its store-clock age over `ttlMs` + 1 s. A corrupt
 * lease is judged by its ETag age alone with the run's TTL, as take-over
 * judges it (protocol §5.10).
 */
import type { LeaseRecord } from '../records/lease-record.js';
import type { Manifest } from '../manifest/manifest.js';
import { boundTtl } from '../lease/ttl-bound.js';
import { judgeVersion, staleFrom } from './freshness.js';
import type { Entry, StoreClockSample } from './run-state.js';

/** An item state (run-status.ts) that a lease decides. */
export type LeaseState = Exclude<LeaseRecord['state'], 'held'> | 'working' | 'expired' | 'unknown';

/** The TTL a status reader applies when neither the lease nor the manifest gives one. */
const DEFAULT_TTL_MS = 60_000;

/** The run's lease TTL, which also bounds what any object of the run may claim (src/lease/ttl-bound.ts). */
export function runTtlMs(manifest: Manifest | undefined): number {
  return manifest?.defaults.leaseTtlMs ?? DEFAULT_TTL_MS;
}

/** The lease's own TTL, capped at 10 x the run's as nodes cap it: a lease claiming 1e15 or Infinity is not "working" forever. */
export function leaseTtlMs(entry: Entry<LeaseRecord>, manifest: Manifest | undefined): number {
  return boundTtl(entry.value?.ttlMs, runTtlMs(manifest)).ms;
}

/** The entry says nothing about the lease's current version: a listing showed a version not read (yet). */
export function versionUnread(entry: Entry<LeaseRecord>): boolean {
  return entry.outdated === true || (entry.value === undefined && entry.problem === undefined);
}

export function leaseState(entry: Entry<LeaseRecord>, manifest: Manifest | undefined, storeClock: StoreClockSample | undefined, nowMonotonic: number): LeaseState {
  if (versionUnread(entry)) return 'unknown';
  const record = entry.value;
  if (record && record.state !== 'held') return record.state;
  const freshness = judgeVersion(entry, storeClock, nowMonotonic, leaseTtlMs(entry, manifest));
  return freshness === 'stale' ? 'expired' : freshness === 'fresh' ? 'working' : 'unknown';
}

/**
 * Whether a long-running reader should look at this lease again before
 * `until` (monotonic) instead of waiting for its next listing: its current
 * version is unread, or it is held and would turn `unknown` by then. A lease
 * already expired at its last sighting stays expired until it changes, which
 * the next listing shows.
 */
export function leaseNeedsLook(entry: Entry<LeaseRecord>, manifest: Manifest | undefined, storeClock: StoreClockSample | undefined, until: number): boolean {
  if (versionUnread(entry)) return true;
  if (entry.value && entry.value.state !== 'held') return false;
  const from = staleFrom(entry, storeClock, leaseTtlMs(entry, manifest));
  return entry.lastSeenAt <= from && from < until;
}
