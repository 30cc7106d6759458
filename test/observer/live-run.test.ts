import { describe, expect, it } from 'vitest';
import { LiveRun } from '../../src/observer/live-run.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { RunFixture } from '../status/support/run-fixture.js';

describe('observer view of leases between listings', () => {
  it('re-reads held leases that would turn unknown: a renewed one stays working, a lapsed one turns expired while its holder beats on', async () => {
    const clock = new ManualClock();
    const store = createMemoryStore({ clock });
    const run = new RunFixture(store, 'r1');
    await run.publish({ count: 2 });
    const [item] = run.itemIds();
    await run.node('n1', { staleAfterMs: 600_000, items: [{ item: item!, epoch: 1, startedAt: 'x' }] });
    await run.lease(item!, { holder: 'n1', ttlMs: 10_000 });
    // Listings far apart: between them only the node tick (every 2 s) looks at anything.
    const live = new LiveRun({ store, clock, run: 'r1', logger: silentLogger, observer: 'obs-1', resyncMs: 600_000, nodesMs: 2_000, throttleMs: 10 });
    live.start();
    await live.loaded();
    const shown = new Set<string>();
    for (let second = 1; second <= 30; second++) {
      await clock.advance(1_000);
      if (second % 3 === 1) await run.lease(item!, { holder: 'n1', ttlMs: 10_000 }); // renewed every 3 s
      shown.add(live.current()!.cells[0]!);
    }
    expect([...shown]).toEqual(['w']);
    store.resetCounters();
    // The keeper gives the lease up (last renewal at 28 s); the node record stays live.
    for (let second = 31; second <= 44; second++) await clock.advance(1_000);
    const view = live.current()!;
    expect(view.cells[0]).toBe('x');
    expect(view.status.nodes[0]).toMatchObject({ node: 'n1', state: 'working' });
    // No listing of leases/ for it: a few conditional GETs of that one lease.
    expect(store.counters.list).toBe(2 * 7); // the node ticks' nodes/ and observers/ listings
    expect(store.counters.get).toBeLessThanOrEqual(14);
    await live.stop();
  });
});
