import { describe, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import { claimLease } from '../../src/lease/claim.js';
import { ExpiryJudge } from '../../src/lease/expiry.js';
import { LeaseKeeper } from '../../src/lease/lease-keeper.js';
import { scanRun } from '../../src/node/scan-run.js';
import { StoreClock } from '../../src/node/store-clock.js';
import { WatchedRecords } from '../../src/node/watched-records.js';
import { overwrite } from '../../src/store/store.js';
import { silentLogger } from '../../src/util/logger.js';
import { FaultyStore } from '../lease/support/faulty-store.js';
import { drive, ITEM, LeaseWorld, RUN, TTL } from '../lease/support/lease-world.js';

/**
 * First sight is dated from the moment a listing's answer ARRIVED, never
 * from when the listing began (issue 12, "two holders"): a renewal that
 * lands while a slow listing is in flight would otherwise look older than
 * it is by the listing's duration, and an observer could take the lease
 * over while its holder still believes it holds it. On the manual clock,
 * with a listing that takes 0.4·TTL.
 */
const LISTING_MS = TTL * 0.4;

describe('first sight of a listed version', () => {
  it('a renewal that lands during a slow leases/ listing is dated from the answer: no take-over while its holder still holds', async () => {
    const world = new LeaseWorld({ latencyMs: (kind) => (kind === 'list' ? LISTING_MS : 0) });
    // The holder has a store of its own, so that its renewals can be held back alone.
    const holderStore = new FaultyStore(world.backend);
    const holder = world.node('node-a', { store: holderStore });
    const won = await claimLease(holder, ITEM);
    if (won.kind !== 'won') throw new Error('setup: no claim');
    const keeper = new LeaseKeeper(holder, won.lease);
    keeper.start();

    // The observer lists leases/ just before the holder's next renewal (due at ttl/3); the answer comes 0.4·TTL later.
    await world.advance(TTL / 3 - 1_000);
    const observer = world.node('node-b');
    const listingBegan = world.clock.monotonic();
    const listing = await drive(world, scanRun(world.store, world.clock, RUN, new Set([ITEM])), 250);
    const listed = listing.leases.get(ITEM)!;
    expect(listed.etag).toBe(keeper.lease.etag); // the renewal landed while the listing was in flight
    expect(listed.seenAt).toBeGreaterThanOrEqual(listingBegan + LISTING_MS);
    observer.judge.observe(runKeys(RUN).lease(ITEM), listed.etag, listed.seenAt);

    // From now on the holder's renewals never land: it must give up 0.8·TTL after sending the last confirmed one.
    holderStore.failAllPuts = 'hang';
    const holderDeadline = keeper.lease.sentAt + TTL * 0.8;
    await world.advance(holderDeadline - world.clock.monotonic() - 500);
    expect(keeper.signal.aborted).toBe(false);
    // Dated from the listing's start, the version would look older than the TTL by now; dated from its answer it does not.
    expect(world.clock.monotonic() - listingBegan).toBeGreaterThan(TTL);
    expect(await claimLease(observer, ITEM)).toMatchObject({ kind: 'held' });

    await world.advance(1_000);
    expect(keeper.signal.aborted).toBe(true);
    // Once the holder has stopped, the observer's own clock lets it take over.
    await world.advance(listed.seenAt + TTL - world.clock.monotonic() + 250);
    expect(await claimLease(observer, ITEM)).toMatchObject({ kind: 'won', how: 'took-over' });
  });

  it('a heartbeat that lands during a slow nodes/ listing is dated from the answer: its node is not called gone early', async () => {
    const world = new LeaseWorld({ latencyMs: (kind) => (kind === 'list' ? LISTING_MS : 0) });
    const prefix = runKeys(RUN).nodesPrefix;
    const key = `${prefix}peer.json`;
    const record = (seq: number): string => JSON.stringify({ seq });
    await world.backend.put(key, record(1), overwrite);
    const records = new WatchedRecords<{ seq: number }>({
      store: world.store, clock: world.clock, logger: silentLogger, storeClock: new StoreClock(world.clock),
      judge: new ExpiryJudge(world.clock, { fallbackTtlMs: TTL }), prefix,
      decode: (_key, body) => JSON.parse(Buffer.from(body).toString('utf8')) as { seq: number },
      staleAfterOf: () => TTL,
    });
    const listingBegan = world.clock.monotonic();
    const refresh = records.refresh(false);
    // The peer's next heartbeat lands while the listing is in flight.
    await world.advance(LISTING_MS / 2);
    await world.backend.put(key, record(2), overwrite);
    const landedAt = world.clock.monotonic();
    await drive(world, refresh);
    expect(records.get('peer')?.etag).toBe((await world.backend.head(key)).etag);
    await world.advance(landedAt + TTL - world.clock.monotonic() - 500);
    expect(world.clock.monotonic() - listingBegan).toBeGreaterThan(TTL);
    expect(records.get('peer')?.gone).toBe(false);
    await world.advance(LISTING_MS);
    expect(records.get('peer')?.gone).toBe(true);
  });
});
