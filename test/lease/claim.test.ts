import { describe, expect, it } from 'vitest';
import { claimLease } from '../../src/lease/claim.js';
import { readLease } from '../../src/lease/read-lease.js';
import { releaseLease } from '../../src/lease/release.js';
import { ITEM, LeaseWorld, TTL, drive, claimed } from './support/lease-world.js';

describe('claimLease', () => {
  it('creates the lease when none exists, with epoch 1 and attempt 1', async () => {
    const world = new LeaseWorld();
    const a = world.node('node-a');
    const r = await claimLease(a, ITEM);
    expect(r.kind).toBe('won');
    if (r.kind !== 'won') return;
    expect(r.how).toBe('created');
    expect(r.lease.record).toMatchObject({ schema: 'replay/lease/v1', holder: 'node-a', epoch: 1, attempts: 1, state: 'held', ttlMs: TTL });
    const stored = await readLease(a, ITEM);
    expect(stored?.etag).toBe(r.lease.etag);
    expect(stored?.record?.nonce).toBe(r.lease.record.nonce);
    expect(world.store.puts).toBe(1);
  });

  it('lets exactly one of 20 concurrent claimers win', async () => {
    const world = new LeaseWorld();
    const nodes = Array.from({ length: 20 }, (_, i) => world.node(`node-${i}`));
    const results = await Promise.all(nodes.map((ctx) => claimLease(ctx, ITEM)));
    const winners = results.filter((r) => r.kind === 'won');
    expect(winners).toHaveLength(1);
    const holder = (await readLease(nodes[0]!, ITEM))?.record?.holder;
    expect(winners[0]!.kind === 'won' && winners[0]!.lease.record.holder).toBe(holder);
    // Losers see the live lease and how long until it could expire.
    for (const r of results.filter((x) => x.kind !== 'won')) {
      expect(r).toMatchObject({ kind: 'held', failedWrites: 1 });
    }
  });

  it('with store latency (requests truly interleave), 20 claimers of 5 items: exactly one winner each', async () => {
    let n = 0;
    const world = new LeaseWorld({ latencyMs: () => 5 + ((n++ * 7) % 13) });
    const items = ['0000000000-0000000100', '0000000100-0000000200', '0000000200-0000000300', '0000000300-0000000400', '0000000400-0000000500'];
    const nodes = Array.from({ length: 20 }, (_, i) => world.node(`node-${i}`));
    const claims = nodes.flatMap((ctx) => items.map((item) => claimLease(ctx, item).then((r) => ({ item, r, node: ctx.node }))));
    const results = await drive(world, Promise.all(claims), 5);
    for (const item of items) {
      const winners = results.filter((x) => x.item === item && x.r.kind === 'won');
      expect(winners).toHaveLength(1);
      expect((await drive(world, readLease(nodes[0]!, item), 5))?.record?.holder).toBe(winners[0]!.node);
    }
  });

  it('reports a live lease as held and does not write over it', async () => {
    const world = new LeaseWorld();
    await claimLease(world.node('node-a'), ITEM);
    const b = world.node('node-b');
    await world.advance(TTL - 1);
    const r = await claimLease(b, ITEM);
    expect(r.kind).toBe('held');
    expect((await readLease(b, ITEM))?.record?.holder).toBe('node-a');
  });

  it('re-claims a released lease at once, raising epoch and attempts and keeping failedBy', async () => {
    const world = new LeaseWorld();
    const { ctx: a, lease: held } = await claimed(world, 'node-a');
    await releaseLease(a, held, { failed: true, reason: 'runner-failed: crashed' });
    const r = await claimLease(world.node('node-b'), ITEM);
    expect(r).toMatchObject({ kind: 'won', how: 'reclaimed' });
    if (r.kind !== 'won') return;
    expect(r.lease.record).toMatchObject({ holder: 'node-b', epoch: 2, attempts: 2, failedBy: ['node-a'], state: 'held' });
    expect(r.lease.record.reason).toBeUndefined();
  });

  it('never claims a done or failed lease', async () => {
    const world = new LeaseWorld();
    const { ctx: a, lease: held } = await claimed(world, 'node-a');
    await releaseLease(a, held, { state: 'done' });
    await world.advance(10 * TTL);
    const r = await claimLease(world.node('node-b'), ITEM);
    expect(r).toMatchObject({ kind: 'finished', state: 'done' });
    expect((await readLease(a, ITEM))?.record?.holder).toBe('node-a');
  });

  it('with a known snapshot, goes straight to the CAS (no doomed create)', async () => {
    const world = new LeaseWorld();
    const { ctx: a, lease: held } = await claimed(world, 'node-a');
    await releaseLease(a, held);
    const b = world.node('node-b');
    const known = await readLease(b, ITEM);
    const putsBefore = world.store.puts;
    const r = await claimLease(b, ITEM, { known });
    expect(r).toMatchObject({ kind: 'won', how: 'reclaimed', failedWrites: 0 });
    expect(world.store.puts - putsBefore).toBe(1);
  });

  it('two nodes racing for a released lease: one wins, the other lost-race', async () => {
    const world = new LeaseWorld();
    const { ctx: a, lease: held } = await claimed(world, 'node-a');
    await releaseLease(a, held);
    const b = world.node('node-b');
    const c = world.node('node-c');
    const known = await readLease(b, ITEM);
    const [rb, rc] = await Promise.all([claimLease(b, ITEM, { known }), claimLease(c, ITEM, { known })]);
    expect([rb.kind, rc.kind].sort()).toEqual(['lost-race', 'won']);
  });
});
