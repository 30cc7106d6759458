import type { Clock } from '../time/clock.js';
import type { Logger } from '../util/logger.js';
import type { LeaseSnapshot } from './lease.js';
import { boundTtl, excessiveTtlMessage } from './ttl-bound.js';

/**
 * The one-second margin the store-clock rule waits beyond a limit: S3 stamps
 * (`Date`, `Last-Modified`) have one-second resolution, so an age computed
 * from them can exceed the real one by up to a second. Every judge of
 * staleness (leases here, node and observer records in src/node, status in
 * src/status) uses this one value through the functions below.
 */
export const STORE_CLOCK_MARGIN_MS = 1_000;

/**
 * Rule 1 (first-sight dating): a version this observer has seen unchanged
 * for `unchangedMs` on its monotonic clock (from its first sighting) is
 * older than `limitMs`. Strictly greater: at exactly the limit it is not.
 */
export function unchangedSaysOlder(unchangedMs: number, limitMs: number): boolean {
  return unchangedMs > limitMs;
}

/**
 * Rule 2 (store clock), from an age already measured on the store's clock
 * (`Date` minus `Last-Modified`, or an estimate of the store's now minus
 * `Last-Modified`): older than `limitMs` once it exceeds the limit plus the
 * margin. Strictly greater.
 */
export function storeAgeSaysOlder(storeAgeMs: number, limitMs: number, marginMs = STORE_CLOCK_MARGIN_MS): boolean {
  return storeAgeMs > limitMs + marginMs;
}

/** Rule 2 from one response: the store's `Date` minus the object's `Last-Modified` (Dates or epoch ms). */
export function storeClockSaysOlder(storeDate: Date | number, lastModified: Date | number, limitMs: number, marginMs = STORE_CLOCK_MARGIN_MS): boolean {
  return storeAgeSaysOlder(epochMs(storeDate) - epochMs(lastModified), limitMs, marginMs);
}

/**
 * Rule 2 solved for the time: the store-clock time (epoch ms) after which a
 * version last modified at `lastModifiedMs` is older than `limitMs`, i.e.
 * `storeAgeSaysOlder(t - lastModifiedMs, limitMs, marginMs)` exactly when
 * `t > storeClockOlderAfter(lastModifiedMs, limitMs, marginMs)`.
 */
export function storeClockOlderAfter(lastModifiedMs: number, limitMs: number, marginMs = STORE_CLOCK_MARGIN_MS): number {
  return lastModifiedMs + limitMs + marginMs;
}

function epochMs(t: Date | number): number {
  return typeof t === 'number' ? t : t.getTime();
}

/**
 * The expiry judge (design §3, "no clock sync needed"). A `held` lease is
 * expired only when
 *   1. its ETag has not changed for longer than its TTL, measured on THIS
 *      observer's monotonic clock from the first time it saw that ETag (the
 *      DynamoDB lock client rule), or
 *   2. the store's own clock says so: the response's `storeDate` minus the
 *      object's `lastModified` exceeds the TTL plus a margin (both stamps
 *      come from the store, so no client clock is involved; the margin
 *      covers S3's one-second timestamp resolution and gateways whose clocks
 *      differ slightly).
 * The holder's wall-clock fields (`renewedAt`...) are never consulted. A
 * `released` lease is claimable at once; `done` and `failed` never are.
 *
 * The TTL is the lease's own `ttlMs`, capped at 10 x the run's (ttl-bound.ts):
 * a lease claiming `1e15` or Infinity would otherwise never expire. Such a
 * lease is reported once per version.
 *
 * One judge per node, kept across reads: rule 1 needs memory. It holds one
 * small entry per lease key seen.
 */
export interface ExpiryOptions {
  /** The run's lease TTL: used for a lease whose record is unreadable (corrupt), and the base of the cap on what a lease may claim. */
  fallbackTtlMs: number;
  /** Where a lease claiming too long a TTL is reported (once per version). */
  logger?: Pick<Logger, 'warn'>;
  /** Extra time the store-clock rule waits beyond the TTL. Default `STORE_CLOCK_MARGIN_MS` (S3 stamps have one-second resolution). */
  storeClockMarginMs?: number;
  /**
   * False: only rule 1 applies. For tests only (they isolate rule 1 with it):
   * no configuration reaches it, and the other judges of staleness
   * (src/node, src/status) always apply both rules, so a deployment cannot
   * turn rule 2 off (docs/protocol.md §4). Default true.
   */
  useStoreClock?: boolean;
}

export type ExpiryVerdict =
  | { claimable: true; why: 'absent' | 'released' | 'observer-clock' | 'store-clock' }
  /** `waitMs`: how long, on this observer's clock, until rule 1 would call it expired if the ETag stays the same. */
  | { claimable: false; why: 'held'; waitMs: number }
  | { claimable: false; why: 'done' | 'failed' };

export class ExpiryJudge {
  private readonly firstSeen = new Map<string, { etag: string; at: number }>();
  /** `key etag` of lease versions already reported for an excessive TTL. */
  private readonly reported = new Set<string>();
  private readonly marginMs: number;
  private readonly useStoreClock: boolean;

  constructor(
    private readonly clock: Pick<Clock, 'monotonic'>,
    private readonly options: ExpiryOptions,
  ) {
    this.marginMs = options.storeClockMarginMs ?? STORE_CLOCK_MARGIN_MS;
    this.useStoreClock = options.useStoreClock ?? true;
  }

  /** Records what a read showed and says whether the lease may be acquired now. */
  judge(snapshot: LeaseSnapshot | undefined): ExpiryVerdict {
    if (!snapshot) return { claimable: true, why: 'absent' };
    const state = snapshot.record?.state ?? 'held';
    if (state === 'released') return { claimable: true, why: 'released' };
    if (state === 'done' || state === 'failed') return { claimable: false, why: state };

    const ttlMs = this.ttlOf(snapshot);
    const unchangedFor = this.observe(snapshot.key, snapshot.etag, snapshot.seenAt);
    if (unchangedSaysOlder(unchangedFor, ttlMs)) return { claimable: true, why: 'observer-clock' };
    if (this.useStoreClock && storeClockSaysOlder(snapshot.storeDate, snapshot.lastModified, ttlMs, this.marginMs)) return { claimable: true, why: 'store-clock' };
    return { claimable: false, why: 'held', waitMs: ttlMs - unchangedFor + 1 };
  }

  /** The TTL this judge applies to a lease version: its own, capped (ttl-bound.ts). */
  ttlOf(snapshot: Pick<LeaseSnapshot, 'key' | 'etag' | 'record'>): number {
    const bounded = boundTtl(snapshot.record?.ttlMs, this.options.fallbackTtlMs);
    if (bounded.excessive !== undefined && !this.reported.has(`${snapshot.key} ${snapshot.etag}`)) {
      this.reported.add(`${snapshot.key} ${snapshot.etag}`);
      this.options.logger?.warn({ key: snapshot.key, ttlMs: bounded.excessive, usedTtlMs: bounded.ms }, excessiveTtlMessage(snapshot.key, 'ttlMs', bounded.excessive, bounded.ms));
    }
    return bounded.ms;
  }

  /**
   * Records a sighting of a key's ETag (from a read, or from a listing, which
   * is one request per thousand leases) and returns for how long this observer
   * has seen it unchanged. A scheduler can list `leases/`, call this for each,
   * and read (then judge) only the leases that have gone quiet for a TTL.
   * `seenAt`: this clock's monotonic time when the response arrived.
   */
  observe(key: string, etag: string, seenAt = this.clock.monotonic()): number {
    let seen = this.firstSeen.get(key);
    if (!seen || seen.etag !== etag) {
      // The version cannot have landed later than the response that showed it.
      seen = { etag, at: seenAt };
      this.firstSeen.set(key, seen);
    }
    return this.clock.monotonic() - seen.at;
  }

  /** Drops what was remembered about a key (the item is finished or no longer watched). */
  forget(key: string): void {
    this.firstSeen.delete(key);
    for (const reported of this.reported) if (reported.startsWith(`${key} `)) this.reported.delete(reported);
  }

  /** Number of keys remembered (for tests and metrics). */
  get size(): number {
    return this.firstSeen.size;
  }
}
