import { expect, it } from 'vitest';
import { claimLease } from '../../../src/lease/claim.js';
import { ExpiryJudge } from '../../../src/lease/expiry.js';
import { readLease } from '../../../src/lease/read-lease.js';
import { releaseLease } from '../../../src/lease/release.js';
import type { AcquireContext } from '../../../src/lease/take-over.js';
import type { Store } from '../../../src/store/store.js';
import type { Clock } from '../../../src/time/clock.js';
import { SystemClock, systemClock } from '../../../src/time/system-clock.js';
import { systemIds } from '../../../src/util/ids.js';
import { ITEM, RUN, TTL } from './lease-world.js';

/**
 * The lease protocol on a real shared backend (file, S3), each node with its
 * own store instance, as separate processes have. `openStore` gives a new
 * client of the current test's store; `fresh` (optional) starts an empty one
 * before each case.
 */
export function sharedStoreLeaseSuite(setup: { openStore(): Store; fresh?(): void }): void {
  function node(name: string, clock: Clock = systemClock): AcquireContext {
    // The store's clock is its own (file mtimes, S3 Date headers), whatever the node's wall clock says.
    return { store: setup.openStore(), clock, ids: systemIds, run: RUN, node: name, ttlMs: TTL, judge: new ExpiryJudge(clock, { fallbackTtlMs: TTL }) };
  }

  it('20 concurrent claimers: exactly one holder; after its release, exactly one of the rest re-claims', async () => {
    setup.fresh?.();
    const nodes = Array.from({ length: 20 }, (_, i) => node(`node-${i}`));
    const first = await Promise.all(nodes.map((ctx) => claimLease(ctx, ITEM)));
    const winners = first.flatMap((r, i) => (r.kind === 'won' ? [{ r, i }] : []));
    expect(winners).toHaveLength(1);
    expect(first.filter((r) => r.kind === 'held')).toHaveLength(19);
    const { r: won, i: winner } = winners[0]!;
    expect((await readLease(node('reader'), ITEM))?.record?.holder).toBe(`node-${winner}`);

    if (won.kind !== 'won') throw new Error('unreachable');
    await releaseLease(nodes[winner]!, won.lease);
    const rest = nodes.filter((_, i) => i !== winner);
    const second = await Promise.all(rest.map((ctx) => claimLease(ctx, ITEM)));
    const again = second.filter((r) => r.kind === 'won');
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ how: 'reclaimed', lease: { record: { epoch: 2, attempts: 2 } } });
    expect(second.filter((r) => r.kind === 'lost-race')).toHaveLength(18);
  });

  it('nodes whose wall clocks are 10 minutes off do not take a live lease', async () => {
    setup.fresh?.();
    const won = await claimLease(node('node-a'), ITEM);
    expect(won.kind).toBe('won');
    for (const offset of [10 * 60_000, -10 * 60_000]) {
      const r = await claimLease(node(`skewed${offset}`, new SystemClock(offset)), ITEM);
      expect(r.kind).toBe('held');
    }
    expect((await readLease(node('reader'), ITEM))?.record?.holder).toBe('node-a');
  });
}
