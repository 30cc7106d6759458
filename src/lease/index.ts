/**
 * Leases: how nodes divide a run's items without a coordinator. The protocol
 * (objects, requests, failure cases) is docs/protocol.md.
 *
 * Typical use by a worker:
 *
 *   const judge = new ExpiryJudge(clock, { fallbackTtlMs: ttl });   // one per node
 *   const ctx = { store, clock, ids, run, node, ttlMs: ttl, judge, logger };
 *   const r = await claimLease(ctx, item);
 *   if (r.kind !== 'won') return;              // held / finished / lost-race
 *   const keeper = new LeaseKeeper(ctx, r.lease);
 *   keeper.start();
 *   try {
 *     const out = await runner.run(work, { signal: keeper.signal, onProgress });
 *     // write results/<item>.json (If-None-Match:*) with keeper.lease.record.epoch
 *     await keeper.stop({ state: 'done' });
 *   } catch (e) {
 *     await keeper.stop(keeper.signal.aborted ? undefined : { failed: true, reason: String(e) });
 *   }
 */
export type { LeaseState, LeaseRecord } from '../records/lease-record.js';
export type { LeaseSnapshot, HeldLease, LeaseContext, AcquireResult } from './lease.js';
export { decodeLease, encodeLease } from '../records/lease-record.js';
export { LeaseLostError, LeaseKeeperStoppedError, type LeaseLossReason } from './errors.js';
export { readLease, type ReadLeaseContext } from './read-lease.js';
export { ExpiryJudge, type ExpiryOptions, type ExpiryVerdict } from './expiry.js';
export { claimLease, type ClaimOptions } from './claim.js';
export { takeOverLease, type AcquireContext } from './take-over.js';
export { renewLease } from './renew.js';
export { releaseLease, type ReleaseOptions } from './release.js';
export { LeaseKeeper, type LeaseKeeperOptions, type LeaseKeeperEvents } from './lease-keeper.js';
export { defaultRetryPolicy, type RetryPolicy } from '../util/retry.js';
