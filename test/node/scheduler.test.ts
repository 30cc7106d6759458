import { describe, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import { ExpiryJudge } from '../../src/lease/expiry.js';
import { releaseLease } from '../../src/lease/release.js';
import { buildManifest } from '../../src/manifest/build-manifest.js';
import { manifestItems } from '../../src/manifest/items.js';
import type { NodeContext } from '../../src/node/node-context.js';
import { PeerWatch } from '../../src/node/peer-watch.js';
import { scanRun } from '../../src/node/scan-run.js';
import { Scheduler } from '../../src/node/scheduler.js';
import { resolveNodeSettings } from '../../src/node/settings.js';
import { StoreClock } from '../../src/node/store-clock.js';
import { WorkView } from '../../src/node/work-view.js';
import { decodeLease } from '../../src/records/lease-record.js';
import { MemoryStore } from '../../src/store/memory.js';
import { listAll } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { seededIds } from '../../src/util/ids.js';
import { silentLogger } from '../../src/util/logger.js';
import { testRandom } from '../support/wall-clock.js';

/**
 * The scheduler alone, many of them in one process on one memory store
 * (with a little latency so that claims truly interleave): every item is
 * claimed exactly once, and few conditional writes are wasted.
 */
const RUN = 'sched';

function nodeContext(store: MemoryStore, node: string, seed: number, items: number): NodeContext {
  const manifest = buildManifest({
    run: RUN, createdAt: '2026-01-01T00:00:00Z',
    intervals: Array.from({ length: items }, (_, i) => ({ start: i, end: i + 1 })),
    defaults: { leaseTtlMs: 30_000 },
  });
  const ids = seededIds(seed, () => systemClock.now());
  const judge = new ExpiryJudge(systemClock, { fallbackTtlMs: 30_000 });
  return {
    store, clock: systemClock, ids, logger: silentLogger, run: RUN, node, manifest, items: manifestItems(manifest),
    settings: resolveNodeSettings(30_000, false), judge, storeClock: new StoreClock(systemClock),
    lease: { store, clock: systemClock, ids, run: RUN, node, ttlMs: 30_000, judge },
  };
}

/** One node's loop without a runner: claim, finish at once (release as done), rescan when asked, until nothing is left. */
async function drain(ctx: NodeContext): Promise<{ claimed: string[]; wasted: number }> {
  const view = new WorkView(ctx.items);
  const peers = new PeerWatch({ store: ctx.store, clock: ctx.clock, logger: ctx.logger, run: RUN, self: ctx.node, storeClock: ctx.storeClock, fallbackStaleAfterMs: 30_000 });
  const scheduler = new Scheduler({ ctx, view, peers, isLocal: () => false });
  const rescan = async () => {
    const listing = await scanRun(ctx.store, ctx.clock, RUN, view.byId);
    view.applyListings(listing.resultIds, listing.leases);
    scheduler.scanned();
  };
  await rescan();
  const claimed: string[] = [];
  for (;;) {
    const got = await scheduler.claimNext();
    if (got) {
      claimed.push(got.item.id);
      await releaseLease(ctx.lease, got.lease, { state: 'done' });
      view.markDone(got.item.id);
      continue;
    }
    if (!scheduler.wantsScan && view.counts().free === 0) return { claimed, wasted: scheduler.stats.failedWrites };
    await rescan();
  }
}

describe('scheduler', () => {
  it('8 nodes over 400 items: each item claimed exactly once, under 0.1 wasted writes per claim', async () => {
    const store = new MemoryStore({ clock: systemClock, latencyMs: () => testRandom() * 2 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => drain(nodeContext(store, `n${i}`, i + 1, 400))));
    const all = results.flatMap((r) => r.claimed);
    expect(all).toHaveLength(400);
    expect(new Set(all).size).toBe(400);
    const wasted = results.reduce((sum, r) => sum + r.wasted, 0);
    expect(wasted / 400).toBeLessThan(0.1);
    // Every node got a share: nobody starved while others worked.
    for (const r of results) expect(r.claimed.length).toBeGreaterThan(10);
    for await (const info of listAll(store, runKeys(RUN).leasesPrefix)) {
      const got = await store.get(info.key);
      expect(decodeLease(info.key, (got as { body: Uint8Array }).body).state).toBe('done');
    }
  });

  it('a node walks forward from its cursor in block order, so its claims are mostly neighbours', async () => {
    const store = new MemoryStore({ clock: systemClock });
    const { claimed } = await drain(nodeContext(store, 'solo', 7, 50));
    const index = (id: string) => Number(id.slice(0, 10));
    const steps = claimed.slice(1).map((id, i) => (index(id) - index(claimed[i]!) + 50) % 50);
    expect(steps.filter((s) => s === 1).length).toBe(49);
  });
});
