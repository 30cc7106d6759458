import { describe, expect, it } from 'vitest';
import { claimLease } from '../../src/lease/claim.js';
import { LeaseKeeper } from '../../src/lease/lease-keeper.js';
import { readLease } from '../../src/lease/read-lease.js';
import { giveBackLease, withLease } from '../../src/lease/with-lease.js';
import { ITEM, LeaseWorld, TTL, claimed } from './support/lease-world.js';

describe('withLease', () => {
  it('keeps the lease renewed while the body runs, and the body decides how it ends', async () => {
    const world = new LeaseWorld();
    const { ctx, lease } = await claimed(world, 'node-a');
    const keeper = new LeaseKeeper(ctx, lease);
    const result = await withLease(keeper, async (signal, scoped) => {
      await world.advance(2 * TTL);
      expect(signal.aborted).toBe(false);
      expect((await claimLease(world.node('node-b'), ITEM)).kind).toBe('held');
      await scoped.stop({ state: 'done', reason: 'result written' });
      return 'finished';
    });
    expect(result).toBe('finished');
    expect((await readLease(ctx, ITEM))?.record).toMatchObject({ state: 'done', holder: 'node-a' });
  });

  it('a body that throws still stops the keeper: no renewals after it, and the lease expires (nothing released without a decision)', async () => {
    const world = new LeaseWorld();
    const { ctx, lease } = await claimed(world, 'node-a');
    const keeper = new LeaseKeeper(ctx, lease);
    await expect(withLease(keeper, async () => {
      throw new Error('runner blew up');
    })).rejects.toThrow('runner blew up');
    expect(keeper.signal.aborted).toBe(true);
    const before = await readLease(ctx, ITEM);
    expect(before?.record?.state).toBe('held');
    await world.advance(TTL + 1_000);
    const after = await readLease(ctx, ITEM);
    expect(after?.etag).toBe(before?.etag); // no renewal landed after the body ended
    const b = world.node('node-b');
    await readLease(b, ITEM); // b starts its observer clock
    await world.advance(TTL + 1);
    expect((await claimLease(b, ITEM)).kind).not.toBe('held');
  });

  it('giveBackLease releases a lease nobody will work on, at once, for anyone to claim', async () => {
    const world = new LeaseWorld();
    const { ctx, lease } = await claimed(world, 'node-a');
    await giveBackLease(ctx, lease, 'stopping');
    expect((await readLease(ctx, ITEM))?.record).toMatchObject({ state: 'released', reason: 'stopping' });
    expect((await claimLease(world.node('node-b'), ITEM)).kind).toBe('won');
  });
});
