import { describe, expect, it } from 'vitest';
import { claimLease } from '../../src/lease/claim.js';
import { LeaseKeeperStoppedError, LeaseLostError } from '../../src/lease/errors.js';
import type { HeldLease } from '../../src/lease/lease.js';
import { LeaseKeeper } from '../../src/lease/lease-keeper.js';
import { readLease } from '../../src/lease/read-lease.js';
import { runKeys } from '../../src/layout/keys.js';
import { update } from '../../src/store/store.js';
import type { Clock } from '../../src/time/clock.js';
import { ITEM, LeaseWorld, RUN, TTL, settle, claimed } from './support/lease-world.js';

async function keeperFor(world: LeaseWorld, node = 'node-a', clock?: Clock) {
  const { ctx, lease } = await claimed(world, node, clock ? { clock } : {});
  const keeper = new LeaseKeeper(ctx, lease);
  const renewed: HeldLease[] = [];
  const lost: LeaseLostError[] = [];
  keeper.on('lease:renewed', (l) => renewed.push(l));
  keeper.on('lease:lost', (e) => lost.push(e));
  keeper.start();
  return { ctx, keeper, renewed, lost, first: lease };
}

describe('LeaseKeeper', () => {
  it('renews every ttl/3 and keeps the lease through many TTLs; others see it held', async () => {
    const world = new LeaseWorld();
    const { keeper, renewed, first } = await keeperFor(world);
    await world.advance(TTL / 3 - 250);
    expect(renewed).toHaveLength(0);
    await world.advance(250);
    expect(renewed).toHaveLength(1);
    const b = world.node('node-b');
    for (let i = 0; i < 5; i++) {
      await world.advance(TTL);
      expect((await claimLease(b, ITEM)).kind).toBe('held');
    }
    expect(renewed.length).toBe(16);
    expect(keeper.signal.aborted).toBe(false);
    expect(keeper.held).toBe(true);
    const stored = await readLease(b, ITEM);
    expect(stored?.etag).toBe(keeper.lease.etag);
    expect(stored?.record).toMatchObject({ holder: 'node-a', epoch: 1, nonce: keeper.lease.record.nonce });
    expect(keeper.lease.record.nonce).not.toBe(first.record.nonce);
    await keeper.stop();
  });

  it('aborts before the TTL when the store keeps failing, so no one can take over while work runs', async () => {
    const world = new LeaseWorld();
    const { keeper, lost } = await keeperFor(world);
    const b = world.node('node-b');
    expect((await claimLease(b, ITEM)).kind).toBe('held'); // b starts watching now
    world.store.failAllPuts = 'unavailable';
    await world.advance(TTL * 0.8 - 250);
    expect(keeper.signal.aborted).toBe(false);
    await world.advance(250);
    expect(keeper.signal.aborted).toBe(true);
    expect(keeper.held).toBe(false);
    expect(keeper.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(lost.map((e) => e.reason)).toEqual(['deadline']);
    // Only now, later, may b take it over.
    world.store.failAllPuts = undefined;
    expect((await claimLease(b, ITEM)).kind).toBe('held');
    await world.advance(TTL * 0.2 + 250);
    expect(await claimLease(b, ITEM)).toMatchObject({ kind: 'won', how: 'took-over' });
    expect(world.store.puts).toBeGreaterThan(3); // it did keep trying
  });

  it('aborts at the deadline even while a renewal request hangs', async () => {
    const world = new LeaseWorld();
    const { keeper, lost } = await keeperFor(world);
    world.store.failAllPuts = 'hang';
    await world.advance(TTL * 0.8 - 250);
    expect(keeper.signal.aborted).toBe(false);
    await world.advance(250);
    expect(lost.map((e) => e.reason)).toEqual(['deadline']);
    // stop() stays bounded although the request never answers.
    let stopped = false;
    const stopping = keeper.stop({ state: 'released' }).then((r) => ((stopped = true), r));
    await world.advance(4_750);
    expect(stopped).toBe(false);
    await world.advance(250);
    expect(stopped).toBe(true);
    expect(await stopping).toBeUndefined();
  });

  it('a stolen lease (someone CASes it) aborts at the next renewal', async () => {
    const world = new LeaseWorld();
    const { keeper, lost } = await keeperFor(world);
    const key = runKeys(RUN).lease(ITEM);
    const thief = world.node('thief');
    const current = await readLease(thief, ITEM);
    const stolen = { ...current!.record!, holder: 'thief', nonce: 'THIEF', epoch: 2 };
    await world.backend.put(key, JSON.stringify(stolen), update(current!.etag));
    await world.advance(TTL / 3 - 250);
    expect(keeper.signal.aborted).toBe(false);
    await world.advance(250);
    expect(keeper.signal.aborted).toBe(true);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ name: 'LeaseLost', reason: 'taken' });
    expect((await readLease(thief, ITEM))?.record?.nonce).toBe('THIEF');
    // A lost keeper's stop does not write.
    const puts = world.store.puts;
    expect(await keeper.stop({ state: 'released' })).toBeUndefined();
    expect(world.store.puts).toBe(puts);
  });

  it('stop() with release lets another node claim at once; start/stop are idempotent', async () => {
    const world = new LeaseWorld();
    const { keeper, renewed } = await keeperFor(world);
    keeper.start();
    await world.advance(TTL / 3);
    expect(renewed).toHaveLength(1);
    const stopping = keeper.stop({ reason: 'stopping' });
    expect(keeper.stop()).toBe(stopping);
    const record = await stopping;
    expect(record).toMatchObject({ state: 'released', reason: 'stopping', failedBy: [] });
    expect(keeper.signal.reason).toBeInstanceOf(LeaseKeeperStoppedError);
    keeper.start(); // no effect after stop
    await world.advance(TTL);
    expect(renewed).toHaveLength(1);
    const b = await claimLease(world.node('node-b'), ITEM);
    expect(b).toMatchObject({ kind: 'won', how: 'reclaimed' });
    if (b.kind === 'won') expect(b.lease.record.epoch).toBe(2);
  });

  it('stop() waits for an in-flight renewal and releases the ETag it produced', async () => {
    const world = new LeaseWorld();
    const { keeper, renewed } = await keeperFor(world);
    world.store.putFaults.push('gated');
    await world.advance(TTL / 3);
    const stopping = keeper.stop({ state: 'done' });
    await settle();
    world.store.openGate();
    expect(await stopping).toMatchObject({ state: 'done' });
    expect(renewed).toHaveLength(0); // the renewal landed after stop: not reported as kept
    expect((await readLease(world.node('x'), ITEM))?.record?.state).toBe('done');
  });

  it('a renewal that lands after the deadline passed is given back (released), not left to expire', async () => {
    const world = new LeaseWorld();
    const { keeper, lost } = await keeperFor(world);
    world.store.failAllPuts = 'gated';
    await world.advance(TTL * 0.8);
    expect(lost.map((e) => e.reason)).toEqual(['deadline']);
    world.store.failAllPuts = undefined;
    world.store.openGate();
    await settle();
    await settle();
    const stored = await readLease(world.node('x'), ITEM);
    expect(stored?.record).toMatchObject({ state: 'released', holder: 'node-a' });
    expect(keeper.held).toBe(false);
  });

  it('stop() after a deadline loss still releases as asked when the late renewal lands', async () => {
    const world = new LeaseWorld();
    const { keeper, lost } = await keeperFor(world);
    world.store.failAllPuts = 'gated';
    await world.advance(TTL * 0.8);
    expect(lost.map((e) => e.reason)).toEqual(['deadline']);
    world.store.failAllPuts = undefined;
    const stopping = keeper.stop({ state: 'done' });
    await settle();
    world.store.openGate();
    expect(await stopping).toMatchObject({ state: 'done' });
    expect((await readLease(world.node('x'), ITEM))?.record?.state).toBe('done');
  });

  it('an ambiguous renewal that landed keeps the lease', async () => {
    const world = new LeaseWorld();
    const { keeper, renewed, lost } = await keeperFor(world);
    world.store.putFaults.push('unknown-after', 'retried-412');
    await world.advance(TTL);
    expect(lost).toHaveLength(0);
    expect(renewed.length).toBe(3);
    expect((await readLease(world.node('x'), ITEM))?.etag).toBe(keeper.lease.etag);
    await keeper.stop();
  });

  it('a wall clock jumping by 10 minutes changes nothing', async () => {
    const world = new LeaseWorld();
    const { keeper, renewed, lost } = await keeperFor(world);
    const b = world.node('node-b');
    await claimLease(b, ITEM);
    world.clock.skewWall(10 * 60_000);
    await world.advance(TTL);
    world.clock.skewWall(-20 * 60_000);
    await world.advance(TTL);
    expect(lost).toHaveLength(0);
    expect(renewed).toHaveLength(6);
    expect((await claimLease(b, ITEM)).kind).toBe('held');
    await keeper.stop();
  });

  it('after a freeze (SIGSTOP) past the TTL it aborts on resume without sending a renewal', async () => {
    const world = new LeaseWorld();
    // A stopped process: time runs on, but its timers fire only once it is resumed.
    let resumed = Promise.resolve();
    let resume = (): void => {};
    const processClock: Clock = {
      now: () => world.clock.now(),
      monotonic: () => world.clock.monotonic(),
      sleep: async (ms, signal) => {
        await world.clock.sleep(ms, signal);
        await resumed;
      },
    };
    const { keeper, lost } = await keeperFor(world, 'node-a', processClock);
    const b = world.node('node-b');
    expect((await claimLease(b, ITEM)).kind).toBe('held');
    resumed = new Promise((r) => (resume = r)); // SIGSTOP
    await world.advance(TTL + 1);
    expect(await claimLease(b, ITEM)).toMatchObject({ kind: 'won', how: 'took-over' });
    expect(keeper.signal.aborted).toBe(false); // frozen: it cannot know yet
    const puts = world.store.puts;
    resume(); // SIGCONT
    await settle();
    expect(lost.map((e) => e.reason)).toEqual(['deadline']);
    expect(keeper.signal.aborted).toBe(true);
    expect(world.store.puts).toBe(puts); // no late renewal attempt
    expect((await readLease(b, ITEM))?.record).toMatchObject({ holder: 'node-b', epoch: 2 });
  });

  it('refuses timings that would let work outlive the lease', async () => {
    const world = new LeaseWorld();
    const { ctx: ctx, lease: held } = await claimed(world, 'node-a');
    expect(() => new LeaseKeeper(ctx, held, { abortAfterMs: TTL })).toThrow(RangeError);
    expect(() => new LeaseKeeper(ctx, held, { renewEveryMs: TTL * 0.9 })).toThrow(RangeError);
  });
});
