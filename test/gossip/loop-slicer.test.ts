import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { LoopSlicer } from '../../src/gossip/loop-slicer.js';
import { systemClock } from '../../src/time/system-clock.js';
import { wallInterval, wallMonotonic } from '../support/wall-clock.js';

/** Burns `ms` of CPU without yielding. */
function busy(ms: number): void {
  const end = wallMonotonic() + ms;
  while (wallMonotonic() < end) {
    // spin
  }
}

describe('LoopSlicer', () => {
  it('lets timers run during a long run of microtasks', async () => {
    const slicer = new LoopSlicer(systemClock, 10);
    let ticks = 0;
    const timer = wallInterval(() => {
      ticks += 1;
    }, 5);
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    // 200 x 2 ms of work chained by awaits (microtasks only): without the pauses, no timer would fire for 400 ms.
    for (let i = 0; i < 200; i++) {
      const pause = slicer.pause();
      if (pause) await pause;
      busy(2);
      await Promise.resolve();
    }
    delay.disable();
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(10);
    // Slices of 10 ms, two turns apart: far below the 400 ms of the whole run (generous for a loaded machine).
    expect(delay.percentile(50) / 1e6).toBeLessThan(60);
  });

  it('costs nothing while a slice lasts', () => {
    const slicer = new LoopSlicer({ monotonic: () => 0 }, 10);
    expect(slicer.pause()).toBeUndefined();
    expect(slicer.pause()).toBeUndefined();
  });
});
