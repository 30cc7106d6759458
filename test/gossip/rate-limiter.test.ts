import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/gossip/rate-limiter.js';
import { ManualClock } from '../../src/time/manual-clock.js';

const takeN = (limiter: RateLimiter, peer: string, n: number): number =>
  Array.from({ length: n }, () => limiter.take(peer)).filter(Boolean).length;

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate, per peer', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(clock, { perSecond: 10, burst: 5 });
    expect(takeN(limiter, 'p1', 8)).toBe(5);
    expect(takeN(limiter, 'p2', 3)).toBe(3); // another peer has its own bucket
    await clock.advance(300); // 3 tokens back
    expect(takeN(limiter, 'p1', 5)).toBe(3);
    await clock.advance(10_000); // refills to the burst, not beyond
    expect(takeN(limiter, 'p1', 20)).toBe(5);
  });

  it('forgets peers whose buckets are full again once many are tracked', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(clock, { perSecond: 1, burst: 1 });
    for (let i = 0; i < 1024; i++) limiter.take(`old-${i}`);
    await clock.advance(2_000);
    limiter.take('new');
    expect(limiter.trackedPeers).toBe(1);
  });

  it('refuses a limit that would block everything', () => {
    expect(() => new RateLimiter(new ManualClock(), { perSecond: 0, burst: 1 })).toThrow(RangeError);
  });
});
