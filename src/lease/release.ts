import { update } from '../store/store.js';
import type { HeldLease, LeaseContext } from './lease.js';
import type { LeaseRecord } from '../records/lease-record.js';
import { lostError } from './renew.js';
import { writeLease } from './write-lease.js';

export interface ReleaseOptions {
  /**
   * `released` (default): anyone may claim the item at once.
   * `done`: the item's result is written; nobody claims it again.
   * `failed`: the item is out of attempts; nobody claims it again.
   */
  state?: 'released' | 'done' | 'failed';
  /** This attempt failed: adds this node to `failedBy` (retries then prefer other nodes). */
  failed?: boolean;
  /** Short reason shown to operators, e.g. `stopping`, `runner-failed: crashed`. */
  reason?: string;
  signal?: AbortSignal;
}

/**
 * Gives a held lease up: PUT If-Match on the last ETag with `state` set (1
 * request). No delete: conditional delete is not honoured by every store
 * (Ceph RGW deletes unconditionally), and a kept object carries the attempt
 * count and `failedBy` to the next holder.
 *
 * @returns the record written.
 * @throws LeaseLostError when the lease was no longer ours (nothing written).
 */
export async function releaseLease(ctx: LeaseContext, lease: HeldLease, options: ReleaseOptions = {}): Promise<LeaseRecord> {
  const record: LeaseRecord = {
    ...lease.record,
    nonce: ctx.ids.ulid(),
    state: options.state ?? 'released',
    failedBy: options.failed ? [...lease.record.failedBy, ctx.node] : lease.record.failedBy,
    releasedAt: new Date(ctx.clock.now()).toISOString(),
    ...(options.reason ? { reason: options.reason } : {}),
  };
  const own = { holder: lease.record.holder, epoch: lease.record.epoch };
  const outcome = await writeLease(ctx, lease.item, record, update(lease.etag), { signal: options.signal, own });
  if (outcome.won) return record;
  throw lostError(lease, outcome.current);
}
