import { describe, expect, it } from 'vitest';
import { claimLease } from '../../src/lease/claim.js';
import type { HeldLease } from '../../src/lease/lease.js';
import { LeaseKeeper } from '../../src/lease/lease-keeper.js';
import { readLease } from '../../src/lease/read-lease.js';
import type { PutMode, PutResult, Store } from '../../src/store/store.js';
import type { Clock } from '../../src/time/clock.js';
import { FaultyStore } from './support/faulty-store.js';
import { drive, ITEM, LeaseWorld, settle, TTL } from './support/lease-world.js';

/**
 * The keeper's deadline under retried and ambiguous writes (issue 12): the
 * window in which a holder may believe it holds a lease must start no later
 * than the moment its version landed, i.e. at the first send of the write
 * that produced it, however that write was confirmed.
 */

/** Records, per lease nonce, when a put carrying it was first sent (`call`, outside the faults) or landed (`return`, inside them). */
class Timeline implements Store {
  readonly times = new Map<string, number>();
  constructor(private readonly inner: Store, private readonly clock: Clock, private readonly at: 'call' | 'return') {}
  get description(): string {
    return this.inner.description;
  }
  async put(key: string, body: Uint8Array | string, mode: PutMode): Promise<PutResult> {
    const nonce = (JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')) as { nonce?: string }).nonce;
    const note = (): void => {
      if (nonce !== undefined && !this.times.has(nonce)) this.times.set(nonce, this.clock.monotonic());
    };
    if (this.at === 'call') note();
    const result = await this.inner.put(key, body, mode);
    note();
    return result;
  }
  get: Store['get'] = (key, options) => this.inner.get(key, options);
  getStream: Store['getStream'] = (key, options) => this.inner.getStream(key, options);
  head: Store['head'] = (key) => this.inner.head(key);
  putStream: Store['putStream'] = (key, body, mode, options) => this.inner.putStream(key, body, mode, options);
  delete: Store['delete'] = (key) => this.inner.delete(key);
  list: Store['list'] = (options) => this.inner.list(options);
  close: Store['close'] = () => this.inner.close();
}

/** A world whose store answers after 2 s (its clock), with a send recorder outside the faults and a landing recorder inside. */
function slowWorld(): { world: LeaseWorld; faulty: FaultyStore; sent: Timeline; landed: Timeline } {
  const world = new LeaseWorld({ latencyMs: (kind) => (kind === 'put' || kind === 'get' ? 2_000 : 0) });
  const landed = new Timeline(world.backend, world.clock, 'return');
  const faulty = new FaultyStore(landed);
  const sent = new Timeline(faulty, world.clock, 'call');
  return { world, faulty, sent, landed };
}

async function keeperOn(world: LeaseWorld, store: Store): Promise<{ keeper: LeaseKeeper; renewed: HeldLease[] }> {
  const ctx = world.node('node-a', { store });
  const won = await drive(world, claimLease(ctx, ITEM));
  if (won.kind !== 'won') throw new Error('setup: no claim');
  const keeper = new LeaseKeeper(ctx, won.lease);
  const renewed: HeldLease[] = [];
  keeper.on('lease:renewed', (l) => renewed.push(l));
  keeper.start();
  return { keeper, renewed };
}

describe('LeaseKeeper deadlines under ambiguous writes', () => {
  it('a renewal that landed but lost its answer, confirmed by the read-back, counts from its first send', async () => {
    const { world, faulty, sent, landed } = slowWorld();
    const { keeper, renewed } = await keeperOn(world, sent);
    faulty.putFaults.push('unknown-after');
    // Sent at ttl/3 after the claim's send; lands 2 s later; the read-back answers 2 s after that.
    await world.advance(TTL / 3 + 6_000);
    expect(renewed).toHaveLength(1);
    const nonce = keeper.lease.record.nonce;
    expect(keeper.lease.sentAt).toBe(sent.times.get(nonce));
    expect(keeper.lease.sentAt).toBeLessThan(landed.times.get(nonce)!);
    // The window is [first send, first send + 0.8 ttl): it does not start at the read-back.
    await drive(world, keeper.stop());
  });

  it('after a renewal whose outcome stayed unknown, the next one adopts it and dates from its own first send', async () => {
    const { world, faulty, sent, landed } = slowWorld();
    const { keeper, renewed } = await keeperOn(world, sent);
    const first = keeper.lease;
    // The first renewal lands unanswered and no read-back gets through: its outcome stays unknown.
    faulty.putFaults.push('unknown-after');
    faulty.failGets = true;
    await world.advance(TTL / 3 + 2_500);
    faulty.failGets = false;
    // Unknown, so the keeper still dates from the claim: its deadline has not moved.
    expect(keeper.lease.sentAt).toBe(first.sentAt);
    await world.advance(TTL * 0.3);
    expect(renewed.length).toBeGreaterThanOrEqual(1);
    expect(keeper.signal.aborted).toBe(false);
    const stored = await drive(world, readLease(world.node('x'), ITEM));
    expect(stored?.etag).toBe(keeper.lease.etag);
    const nonce = keeper.lease.record.nonce;
    // The confirmed version is the adopting write's own, dated from that write's first send (before it landed).
    expect(keeper.lease.sentAt).toBe(sent.times.get(nonce));
    expect(keeper.lease.sentAt).toBeLessThanOrEqual(landed.times.get(nonce)!);
    await drive(world, keeper.stop());
  });

  it('aborts by first send + 0.8 ttl when every renewal lands unanswered and no read-back gets through', async () => {
    const { world, faulty, sent } = slowWorld();
    const { keeper } = await keeperOn(world, sent);
    const claimSent = keeper.lease.sentAt;
    faulty.failAllPuts = 'unknown-after';
    faulty.failGets = true;
    await world.advance(claimSent + TTL * 0.8 - world.clock.monotonic() - 250);
    expect(keeper.signal.aborted).toBe(false);
    await world.advance(500);
    expect(keeper.signal.aborted).toBe(true);
    expect(keeper.held).toBe(false);
    await drive(world, keeper.stop());
  });

  it('a renewal still in flight when stop() gave up waiting is released as asked once it lands', async () => {
    const world = new LeaseWorld();
    const { keeper } = await keeperOn(world, world.store);
    world.store.putFaults.push('gated');
    await world.advance(TTL / 3);
    const stopping = keeper.stop({ state: 'done' });
    // stop() waits min(5 s, ttl/2) for the renewal, then returns: the lease is not released yet.
    await world.advance(5_250);
    expect(await stopping).toBeUndefined();
    expect((await readLease(world.node('x'), ITEM))?.record?.state).toBe('held');
    world.store.openGate();
    for (let i = 0; i < 5; i++) await settle();
    expect((await readLease(world.node('x'), ITEM))?.record).toMatchObject({ state: 'done', holder: 'node-a' });
  });
});
