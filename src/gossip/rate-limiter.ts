import type { Clock } from '../time/clock.js';

export interface RateLimit {
  /** Sustained messages per second allowed from one peer. */
  perSecond: number;
  /** Messages a peer may send at once after being quiet. */
  burst: number;
}

/**
 * Per-peer token buckets on the injected monotonic clock. A peer that floods
 * (a bug or an attack) has its excess messages dropped instead of being
 * validated, delivered and forwarded. Buckets of peers quiet long enough to
 * be full again are forgotten, so memory follows active peers only.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly clock: Clock, private readonly limit: RateLimit) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError('rate limit needs perSecond > 0 and burst >= 1');
  }

  /** Takes one token for `peer`; false when the peer is over its limit. */
  take(peer: string): boolean {
    const now = this.clock.monotonic();
    const bucket = this.buckets.get(peer) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(peer, bucket);
    if (this.buckets.size > 1024) this.forgetFull(now);
    return allowed;
  }

  get trackedPeers(): number {
    return this.buckets.size;
  }

  private forgetFull(now: number): void {
    for (const [peer, bucket] of this.buckets) {
      const tokens = bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond;
      if (tokens >= this.limit.burst) this.buckets.delete(peer);
    }
  }
}
