import { update } from '../store/store.js';
import { LeaseLostError } from './errors.js';
import type { HeldLease, LeaseContext, LeaseSnapshot } from './lease.js';
import { writeLease } from './write-lease.js';

/**
 * Extends a held lease: PUT If-Match on the last ETag we wrote, with a fresh
 * nonce (1 request). Returns the new HeldLease, whose `sentAt` starts the
 * holder's next validity window.
 *
 * @throws LeaseLostError when someone else's write replaced ours (`taken`) or
 *   the object is gone (`missing`): a definite loss, work must stop.
 * @throws the store's error when retries ran out: the outcome is unknown, the
 *   lease may still be ours; the LeaseKeeper keeps trying until its deadline.
 */
export async function renewLease(ctx: LeaseContext, lease: HeldLease, signal?: AbortSignal): Promise<HeldLease> {
  const record = {
    ...lease.record,
    nonce: ctx.ids.ulid(),
    ttlMs: ctx.ttlMs,
    renewedAt: new Date(ctx.clock.now()).toISOString(),
  };
  const own = { holder: lease.record.holder, epoch: lease.record.epoch };
  const outcome = await writeLease(ctx, lease.item, record, update(lease.etag), { signal, own });
  if (outcome.won) return outcome.lease;
  throw lostError(lease, outcome.current);
}

export function lostError(lease: HeldLease, current: LeaseSnapshot | undefined): LeaseLostError {
  if (!current) return new LeaseLostError(lease.item, 'missing', 'the lease object was deleted');
  const by = current.record ? `${current.record.holder} (epoch ${current.record.epoch}, ${current.record.state})` : 'an unreadable object';
  return new LeaseLostError(lease.item, 'taken', `now ${by}`);
}
