import { describe, expect, it } from 'vitest';
import { DialPlanner } from '../../src/gossip/dial-planner.js';
import { ManualClock } from '../../src/time/manual-clock.js';

const policy = { minBackoffMs: 500, maxBackoffMs: 2_000, fallbackMs: 10_000 };
const none = new Set<string>();

describe('DialPlanner', () => {
  it('lets the lower peer id dial; the higher one waits', () => {
    const clock = new ManualClock();
    expect(new DialPlanner('B', clock, policy).due(['A', 'C'], none)).toEqual(['C']);
    expect(new DialPlanner('A', clock, policy).due(['B'], none)).toEqual(['B']);
    expect(new DialPlanner('C', clock, policy).due(['A', 'B'], none)).toEqual([]);
  });

  it('backs off per peer, doubling up to the cap, and starts afresh after a connection', async () => {
    const clock = new ManualClock();
    const planner = new DialPlanner('A', clock, policy);
    const attempts: number[] = [];
    for (let t = 0; t <= 8_000; t += 100) {
      if (planner.due(['B'], none).length > 0) attempts.push(clock.monotonic());
      await clock.advance(100);
    }
    expect(attempts).toEqual([0, 500, 1_500, 3_500, 5_500, 7_500]);
    planner.due(['B'], new Set(['B'])); // seen connected: state forgotten
    expect(planner.due(['B'], none)).toEqual(['B']);
  });

  it('makes the higher peer dial too after the fallback time without a connection', async () => {
    const clock = new ManualClock();
    const planner = new DialPlanner('C', clock, policy);
    expect(planner.due(['A'], none)).toEqual([]);
    await clock.advance(9_999);
    expect(planner.due(['A'], none)).toEqual([]);
    await clock.advance(1);
    expect(planner.due(['A'], none)).toEqual(['A']);
  });

  it('dials a peer it refused earlier at once when it becomes a member, whatever the order', () => {
    const planner = new DialPlanner('C', new ManualClock(), policy);
    planner.dialSoon('A');
    expect(planner.due(['A'], none)).toEqual(['A']);
    expect(planner.due(['A'], none)).toEqual([]); // once; then the normal rule again
  });

  it('always dials bootstrap peers and never itself or connected peers', () => {
    const planner = new DialPlanner('C', new ManualClock(), policy);
    expect(planner.due(['A', 'C', 'D'], new Set(['D']), new Set(['A']))).toEqual(['A']);
  });
});
