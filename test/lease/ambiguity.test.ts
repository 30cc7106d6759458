import { describe, expect, it } from 'vitest';
import { claimLease } from '../../src/lease/claim.js';
import { LeaseLostError } from '../../src/lease/errors.js';
import { readLease } from '../../src/lease/read-lease.js';
import { releaseLease } from '../../src/lease/release.js';
import { renewLease } from '../../src/lease/renew.js';
import { UnavailableError, WriteOutcomeUnknownError } from '../../src/store/errors.js';
import { ITEM, LeaseWorld, TTL, drive, claimed } from './support/lease-world.js';

/** Design §3: an ambiguous write is decided by reading the nonce back, never assumed. */
describe('ambiguous lease writes', () => {
  it('a claim whose write landed before a timeout is recognised as won', async () => {
    const world = new LeaseWorld();
    world.store.putFaults.push('unknown-after');
    const r = await claimLease(world.node('node-a'), ITEM);
    expect(r).toMatchObject({ kind: 'won', how: 'created' });
    if (r.kind !== 'won') return;
    const stored = await readLease(world.node('x'), ITEM);
    expect(r.lease.etag).toBe(stored?.etag);
    expect(world.store.puts).toBe(1); // decided by one read, no second write
  });

  it('a claim whose write did not land is retried with the same nonce and wins', async () => {
    const world = new LeaseWorld();
    world.store.putFaults.push('unknown-before', 'unavailable');
    const r = await drive(world, claimLease(world.node('node-a'), ITEM));
    expect(r).toMatchObject({ kind: 'won', how: 'created' });
    expect(world.store.puts).toBe(3);
  });

  it('a claim whose write did not land while another node created the lease is lost', async () => {
    const world = new LeaseWorld();
    world.store.putFaults.push('unknown-before');
    const a = claimLease(world.node('node-a'), ITEM);
    const b = await claimLease(world.node('node-b'), ITEM);
    expect(b.kind).toBe('won');
    expect((await drive(world, a)).kind).toBe('held');
    expect((await readLease(world.node('x'), ITEM))?.record?.holder).toBe('node-b');
  });

  it('a 412 answering a retry of a claim that landed counts as won (the nonce is ours)', async () => {
    const world = new LeaseWorld();
    world.store.putFaults.push('retried-412');
    const r = await claimLease(world.node('node-a'), ITEM);
    expect(r).toMatchObject({ kind: 'won', how: 'created', failedWrites: 0 });
  });

  it('renewals: landed-then-timeout and landed-then-412 are renewals; a lost one is LeaseLost', async () => {
    const world = new LeaseWorld();
    const { ctx: a, lease: held } = await claimed(world, 'node-a');
    world.store.putFaults.push('unknown-after');
    const r1 = await renewLease(a, held);
    expect(r1.etag).not.toBe(held.etag);
    world.store.putFaults.push('retried-412');
    const r2 = await renewLease(a, r1);
    expect((await readLease(a, ITEM))?.etag).toBe(r2.etag);
    expect(r2.record.epoch).toBe(1);

    // Timeout before the write; meanwhile node-b takes the (expired) lease over.
    await world.advance(TTL + 1001);
    world.store.putFaults.push('unknown-before');
    const renewing = renewLease(a, r2);
    const b = await claimLease(world.node('node-b'), ITEM);
    expect(b).toMatchObject({ kind: 'won', how: 'took-over' });
    await expect(drive(world, renewing)).rejects.toMatchObject({ name: 'LeaseLost', reason: 'taken' });
  });

  it('a renewal that landed unseen (answers and read-backs all failed) is recognised by holder and epoch next time', async () => {
    const world = new LeaseWorld();
    const { ctx: a, lease: held } = await claimed(world, 'node-a');
    world.store.putFaults.push('unknown-after');
    world.store.failGets = true;
    await expect(drive(world, renewLease(a, held))).rejects.toBeInstanceOf(UnavailableError);
    world.store.failGets = false;
    const landed = await readLease(a, ITEM);
    expect(landed?.etag).not.toBe(held.etag); // the lost-track renewal is there
    const again = await renewLease(a, held); // still holding the old handle
    expect(again.record.epoch).toBe(1);
    expect((await readLease(a, ITEM))?.record?.nonce).toBe(again.record.nonce);
    // Another holder (different epoch) is never adopted.
    await world.advance(TTL + 1001);
    const b = await claimLease(world.node('node-b'), ITEM);
    expect(b).toMatchObject({ kind: 'won', how: 'took-over' });
    await expect(renewLease(a, again)).rejects.toMatchObject({ reason: 'taken' });
  });

  it('gives up after bounded retries with the store error, leaving the lease as it was', async () => {
    const world = new LeaseWorld();
    const { ctx: a, lease: held } = await claimed(world, 'node-a');
    world.store.failAllPuts = 'unknown-before';
    await expect(drive(world, renewLease(a, held))).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
    expect(world.store.puts).toBe(1 + 4);
    world.store.failAllPuts = 'unavailable';
    await expect(drive(world, renewLease(a, held))).rejects.toBeInstanceOf(UnavailableError);
    expect((await readLease(a, ITEM))?.etag).toBe(held.etag);
  });

  it('a release whose write landed before a timeout lets another node claim at once', async () => {
    const world = new LeaseWorld();
    const { ctx: a, lease: held } = await claimed(world, 'node-a');
    world.store.putFaults.push('unknown-after');
    expect((await releaseLease(a, held)).state).toBe('released');
    expect(await claimLease(world.node('node-b'), ITEM)).toMatchObject({ kind: 'won', how: 'reclaimed' });
    // node-a's stale handle can no longer release anything.
    await expect(releaseLease(a, held)).rejects.toBeInstanceOf(LeaseLostError);
  });
});
