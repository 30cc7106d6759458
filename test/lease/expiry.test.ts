import { describe, expect, it } from 'vitest';
import { ExpiryJudge, STORE_CLOCK_MARGIN_MS, storeAgeSaysOlder, storeClockOlderAfter, storeClockSaysOlder, unchangedSaysOlder } from '../../src/lease/expiry.js';
import type { LeaseSnapshot } from '../../src/lease/lease.js';
import type { LeaseRecord } from '../../src/records/lease-record.js';
import { ManualClock } from '../../src/time/manual-clock.js';

const TTL = 30_000;
const storeEpoch = Date.UTC(2026, 0, 1);

function snapshot(clock: ManualClock, etag: string, opts: { state?: LeaseRecord['state']; storeAgeMs?: number; corrupt?: boolean } = {}): LeaseSnapshot {
  const record: LeaseRecord = {
    schema: 'replay/lease/v1', run: 'r', item: '0000000000-0000000100', holder: 'a', nonce: etag, epoch: 1,
    state: opts.state ?? 'held', ttlMs: TTL, attempts: 1, failedBy: [],
    // A holder's wall clock far in the past: the judge must not care.
    acquiredAt: '2001-01-01T00:00:00.000Z', renewedAt: '2001-01-01T00:00:00.000Z',
  };
  return {
    item: record.item, key: 'runs/r/leases/0000000000-0000000100.json', etag,
    record: opts.corrupt ? undefined : record,
    lastModified: new Date(storeEpoch),
    storeDate: new Date(storeEpoch + (opts.storeAgeMs ?? 0)),
    seenAt: clock.monotonic(),
  };
}

describe('ExpiryJudge', () => {
  it('calls a held lease expired only after its ETag stayed the same for a TTL on the observer clock', async () => {
    const clock = new ManualClock();
    const judge = new ExpiryJudge(clock, { fallbackTtlMs: TTL });
    expect(judge.judge(snapshot(clock, 'e1'))).toEqual({ claimable: false, why: 'held', waitMs: TTL + 1 });
    await clock.advance(TTL);
    expect(judge.judge(snapshot(clock, 'e1')).claimable).toBe(false);
    await clock.advance(1);
    expect(judge.judge(snapshot(clock, 'e1'))).toEqual({ claimable: true, why: 'observer-clock' });
  });

  it('restarts the count when the ETag changes (a renewal)', async () => {
    const clock = new ManualClock();
    const judge = new ExpiryJudge(clock, { fallbackTtlMs: TTL });
    judge.judge(snapshot(clock, 'e1'));
    await clock.advance(TTL - 1000);
    judge.judge(snapshot(clock, 'e2'));
    await clock.advance(TTL - 1000);
    expect(judge.judge(snapshot(clock, 'e2')).claimable).toBe(false);
    await clock.advance(1001);
    expect(judge.judge(snapshot(clock, 'e2')).claimable).toBe(true);
  });

  it('ignores the observer wall clock entirely (skewed by 10 minutes either way)', async () => {
    const clock = new ManualClock();
    const judge = new ExpiryJudge(clock, { fallbackTtlMs: TTL });
    judge.judge(snapshot(clock, 'e1'));
    clock.skewWall(10 * 60_000);
    expect(judge.judge(snapshot(clock, 'e1')).claimable).toBe(false);
    clock.skewWall(-20 * 60_000);
    await clock.advance(TTL + 1);
    expect(judge.judge(snapshot(clock, 'e1')).claimable).toBe(true);
  });

  it('accepts the store clock: Date minus Last-Modified beyond TTL + margin expires at first sight', () => {
    const clock = new ManualClock();
    const judge = new ExpiryJudge(clock, { fallbackTtlMs: TTL, storeClockMarginMs: 1000 });
    expect(judge.judge(snapshot(clock, 'e1', { storeAgeMs: TTL + 1000 })).claimable).toBe(false);
    expect(judge.judge(snapshot(clock, 'e1', { storeAgeMs: TTL + 1001 }))).toEqual({ claimable: true, why: 'store-clock' });
    const strict = new ExpiryJudge(clock, { fallbackTtlMs: TTL, useStoreClock: false });
    expect(strict.judge(snapshot(clock, 'e1', { storeAgeMs: 10 * TTL })).claimable).toBe(false);
  });

  it('released is claimable at once; done and failed never; absent is claimable', async () => {
    const clock = new ManualClock();
    const judge = new ExpiryJudge(clock, { fallbackTtlMs: TTL });
    expect(judge.judge(snapshot(clock, 'e1', { state: 'released' }))).toEqual({ claimable: true, why: 'released' });
    expect(judge.judge(undefined)).toEqual({ claimable: true, why: 'absent' });
    judge.judge(snapshot(clock, 'e2', { state: 'done' }));
    await clock.advance(10 * TTL);
    expect(judge.judge(snapshot(clock, 'e2', { state: 'done', storeAgeMs: 10 * TTL }))).toEqual({ claimable: false, why: 'done' });
    expect(judge.judge(snapshot(clock, 'e3', { state: 'failed' }))).toEqual({ claimable: false, why: 'failed' });
  });

  it('judges a corrupt lease by ETag age with the fallback TTL', async () => {
    const clock = new ManualClock();
    const judge = new ExpiryJudge(clock, { fallbackTtlMs: 5_000 });
    expect(judge.judge(snapshot(clock, 'x', { corrupt: true })).claimable).toBe(false);
    await clock.advance(5_001);
    expect(judge.judge(snapshot(clock, 'x', { corrupt: true })).claimable).toBe(true);
  });

  it('observe() from a listing shares the first-seen memory with judge()', async () => {
    const clock = new ManualClock();
    const judge = new ExpiryJudge(clock, { fallbackTtlMs: TTL });
    const key = 'runs/r/leases/0000000000-0000000100.json';
    expect(judge.observe(key, 'e1')).toBe(0);
    await clock.advance(TTL / 2);
    expect(judge.observe(key, 'e1')).toBe(TTL / 2);
    await clock.advance(TTL / 2 + 1);
    expect(judge.judge(snapshot(clock, 'e1'))).toEqual({ claimable: true, why: 'observer-clock' });
    expect(judge.observe(key, 'e2')).toBe(0);
    judge.forget(key);
    expect(judge.size).toBe(0);
  });
});

describe('the shared staleness rules', () => {
  it('store clock: Date minus Last-Modified must exceed the limit plus the 1 s margin (strictly)', () => {
    expect(STORE_CLOCK_MARGIN_MS).toBe(1_000);
    const lm = new Date(storeEpoch);
    expect(storeClockSaysOlder(new Date(storeEpoch + TTL + 1000), lm, TTL)).toBe(false);
    expect(storeClockSaysOlder(new Date(storeEpoch + TTL + 1001), lm, TTL)).toBe(true);
    expect(storeClockSaysOlder(storeEpoch + TTL + 1, storeEpoch, TTL, 0)).toBe(true);
    expect(storeAgeSaysOlder(TTL + 1000, TTL)).toBe(false);
    expect(storeAgeSaysOlder(TTL + 1001, TTL)).toBe(true);
  });

  it('the solver names the last store time that is not older', () => {
    const after = storeClockOlderAfter(storeEpoch, TTL);
    expect(after).toBe(storeEpoch + TTL + STORE_CLOCK_MARGIN_MS);
    expect(storeClockSaysOlder(after, storeEpoch, TTL)).toBe(false);
    expect(storeClockSaysOlder(after + 1, storeEpoch, TTL)).toBe(true);
  });

  it('first sight: unchanged on the observer clock for longer than the limit (strictly)', async () => {
    const clock = new ManualClock();
    const judge = new ExpiryJudge(clock, { fallbackTtlMs: TTL });
    judge.observe('k', 'e1');
    await clock.advance(TTL);
    expect(unchangedSaysOlder(judge.observe('k', 'e1'), TTL)).toBe(false);
    await clock.advance(1);
    expect(unchangedSaysOlder(judge.observe('k', 'e1'), TTL)).toBe(true);
  });
});
