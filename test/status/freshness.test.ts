import { describe, expect, it } from 'vitest';
import { ageOf, isStale, judgeVersion, staleFrom, STORE_CLOCK_MARGIN_MS } from '../../src/status/freshness.js';
import type { Sighting } from '../../src/status/run-state.js';

const WALL = Date.UTC(2026, 0, 1);
const sighting = (over: Partial<Sighting> = {}): Sighting => ({ key: 'k', etag: 'e1', lastModified: WALL, firstSeenAt: 0, lastSeenAt: 0, ...over });

describe('freshness', () => {
  it('staleFrom is isStale solved for the time: stale exactly after it, by either rule', () => {
    const cases: Array<{ s: Sighting; clock?: { storeDate: number; seenAt: number } }> = [
      { s: sighting() },
      { s: sighting(), clock: { storeDate: WALL, seenAt: 0 } },
      { s: sighting({ firstSeenAt: 20_000 }), clock: { storeDate: WALL + 25_000, seenAt: 20_000 } }, // first seen old: the store rule comes first
      { s: sighting({ firstSeenAt: 3_000 }), clock: { storeDate: WALL - 60_000, seenAt: 0 } }, // a store clock behind: the reader's rule comes first
    ];
    for (const { s, clock } of cases) {
      const from = staleFrom(s, clock, 10_000);
      expect(isStale(ageOf(s, clock, from), 10_000)).toBe(false);
      expect(isStale(ageOf(s, clock, from + 1), 10_000)).toBe(true);
    }
    expect(staleFrom(sighting(), { storeDate: WALL, seenAt: 0 }, 10_000)).toBe(10_000);
    expect(staleFrom(sighting({ firstSeenAt: 50_000 }), { storeDate: WALL, seenAt: 0 }, 10_000)).toBe(10_000 + STORE_CLOCK_MARGIN_MS);
  });

  it('judgeVersion: stale only if stale when last seen; fresh only if fresh now; unknown between', () => {
    const clock = { storeDate: WALL, seenAt: 0 };
    expect(judgeVersion(sighting({ lastSeenAt: 5_000 }), clock, 9_000, 10_000)).toBe('fresh');
    expect(judgeVersion(sighting({ lastSeenAt: 5_000 }), clock, 10_001, 10_000)).toBe('unknown');
    expect(judgeVersion(sighting({ lastSeenAt: 10_001 }), clock, 10_001, 10_000)).toBe('stale');
    expect(judgeVersion(sighting({ lastSeenAt: 10_001 }), clock, 500_000, 10_000)).toBe('stale');
  });
});
