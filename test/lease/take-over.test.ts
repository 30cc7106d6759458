import { describe, expect, it } from 'vitest';
import { claimLease } from '../../src/lease/claim.js';
import { readLease } from '../../src/lease/read-lease.js';
import { renewLease } from '../../src/lease/renew.js';
import { takeOverLease } from '../../src/lease/take-over.js';
import { runKeys } from '../../src/layout/keys.js';
import { overwrite } from '../../src/store/store.js';
import { ITEM, LeaseWorld, RUN, TTL, skewedClock, claimed } from './support/lease-world.js';

describe('takeOverLease', () => {
  it('takes over a lease unchanged for a TTL on the observer clock: epoch + 1, previous holder in failedBy', async () => {
    const world = new LeaseWorld();
    await claimed(world, 'node-a');
    const b = world.node('node-b', {});
    const first = await readLease(b, ITEM);
    expect((await takeOverLease(b, first!)).kind).toBe('held');
    await world.advance(TTL + 1);
    const r = await takeOverLease(b, (await readLease(b, ITEM))!);
    expect(r).toMatchObject({ kind: 'won', how: 'took-over' });
    if (r.kind !== 'won') return;
    expect(r.lease.record).toMatchObject({ holder: 'node-b', epoch: 2, attempts: 2, failedBy: ['node-a'], state: 'held' });
  });

  it('takes over at first sight when the store clock says the lease is old', async () => {
    const world = new LeaseWorld();
    await claimed(world, 'node-a');
    await world.advance(TTL + 1001);
    // node-b starts now and has never seen this lease: only the store's stamps can tell.
    const r = await claimLease(world.node('node-b'), ITEM);
    expect(r).toMatchObject({ kind: 'won', how: 'took-over' });
  });

  it('a renewal between the judgement and the CAS makes the take-over a lost race, not a second holder', async () => {
    const world = new LeaseWorld();
    const { ctx: a, lease } = await claimed(world, 'node-a');
    const b = world.node('node-b');
    await readLease(b, ITEM).then((s) => b.judge.judge(s));
    await world.advance(TTL + 1);
    const seen = (await readLease(b, ITEM))!;
    await renewLease(a, lease); // lands after b's read
    const r = await takeOverLease(b, seen);
    expect(r.kind).toBe('lost-race');
    expect((await readLease(b, ITEM))?.record?.holder).toBe('node-a');
  });

  it('a node whose wall clock is 10 minutes ahead does not take a live lease', async () => {
    const world = new LeaseWorld();
    await claimed(world, 'node-a');
    const b = world.node('node-b', { clock: skewedClock(world.clock, 10 * 60_000) });
    await world.advance(TTL / 2);
    expect((await claimLease(b, ITEM)).kind).toBe('held');
    await world.advance(TTL / 2 - 1);
    expect((await claimLease(b, ITEM)).kind).toBe('held');
    expect((await readLease(b, ITEM))?.record?.holder).toBe('node-a');
  });

  it('a node whose wall clock is 10 minutes behind still takes an expired lease (nothing stuck)', async () => {
    const world = new LeaseWorld();
    await claimed(world, 'node-a');
    const b = world.node('node-b', { clock: skewedClock(world.clock, -10 * 60_000) });
    expect((await claimLease(b, ITEM)).kind).toBe('held');
    await world.advance(TTL + 1);
    expect(await claimLease(b, ITEM)).toMatchObject({ kind: 'won', how: 'took-over' });
  });

  it('the holder skewing its own wall clock (ManualClock.skewWall) changes nothing', async () => {
    const world = new LeaseWorld();
    const { ctx: a, lease: held } = await claimed(world, 'node-a');
    const b = world.node('node-b');
    expect((await claimLease(b, ITEM)).kind).toBe('held');
    world.clock.skewWall(10 * 60_000); // every node's wall clock jumps; the store's does not
    await renewLease(a, held);
    await world.advance(TTL - 1000);
    expect((await claimLease(b, ITEM)).kind).toBe('held');
    world.clock.skewWall(-20 * 60_000);
    // The store's stamps now say TTL + 1001 ms since the renewal: expired by the store clock.
    await world.advance(2001);
    expect(await claimLease(b, ITEM)).toMatchObject({ kind: 'won', how: 'took-over' });
  });

  it('replaces a corrupt lease object once its ETag is older than the TTL', async () => {
    const world = new LeaseWorld();
    const key = runKeys(RUN).lease(ITEM);
    await world.backend.put(key, '{"schema":"replay/lease/v1","holder":', overwrite);
    const b = world.node('node-b');
    const first = await readLease(b, ITEM);
    expect(first?.record).toBeUndefined();
    expect(first?.problem).toMatch(/not valid JSON/);
    expect((await claimLease(b, ITEM)).kind).toBe('held');
    await world.advance(TTL + 1);
    const r = await claimLease(b, ITEM);
    expect(r).toMatchObject({ kind: 'won', how: 'took-over' });
    expect((await readLease(b, ITEM))?.record).toMatchObject({ holder: 'node-b', epoch: 1 });
  });
});
