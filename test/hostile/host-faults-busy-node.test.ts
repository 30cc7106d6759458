import { describe, expect, it } from 'vitest';
import { TTL, World } from './store-objects-world.js';

/**
 * Found on the way (issue 19): a node whose every slot was busy on an item
 * longer than its idle-scan period (TTL/2; a real replay takes hours) woke
 * its main loop with a zero wait over and over, because the due rescan can
 * only happen once a slot frees. On the system clock that spun a CPU core
 * for the whole replay; on the manual clock it never returned. Now it
 * waits for the item's end (which pokes it) or an idle-scan period.
 */
describe('a busy node', () => {
  it('does not spin while its only slot works on a long item', async () => {
    const w = await new World({ items: 2 }).publish();
    let zeroSleeps = 0;
    const sleep = w.clock.sleep.bind(w.clock);
    w.clock.sleep = (ms, signal) => {
      // A runaway loop is stopped here (it would never yield to the test otherwise).
      if (ms <= 0 && ++zeroSleeps > 10_000) return Promise.reject(new Error('spinning'));
      return sleep(ms, signal);
    };
    // Items of 60 s: six idle-scan periods each.
    const a = w.join('a', { faults: { slow: { blocksPerSecond: 100 / 60 } } });
    await w.until(() => a.exit() !== undefined, 20 * TTL);
    expect(a.exit()?.reason).toBe('run complete');
    expect(zeroSleeps).toBeLessThan(100);
    expect((await w.results()).size).toBe(2);
  });
});
