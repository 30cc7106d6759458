import { update } from '../store/store.js';
import { newLeaseRecord, type LeaseSnapshot } from './lease.js';
import { type LeaseRecord } from '../records/lease-record.js';
import type { AcquireContext } from './take-over.js';
import { writeLease } from './write-lease.js';

export interface FinishOptions {
  /** The acquisition this node held: a lease still `held` at it is ours to finish even before it expires. */
  own?: { holder: string; epoch: number };
  /** Shown to operators, e.g. `result already written`. */
  reason: string;
  signal?: AbortSignal;
}

export type FinishOutcome =
  | { kind: 'finished'; record: LeaseRecord }
  /** Already `done`/`failed`: nothing to write. */
  | { kind: 'final' }
  /** Held by someone else and not expired: they will find the result and finish it themselves. */
  | { kind: 'held'; waitMs: number }
  /** No lease object at all. */
  | { kind: 'absent' }
  /** Another write won between the read and ours. */
  | { kind: 'lost-race' };

/**
 * Marks `done` the lease of an item whose result is already written, so
 * that every lease ends in a final state (issue 12: a holder whose result
 * PUT landed unanswered, then died, left its lease `held` forever: nobody
 * acquires an item that has a result). One CAS on the ETag read, allowed
 * only when no one else can believe they hold it: the lease is `released`,
 * expired by this node's judge, or still at this node's own acquisition.
 * Taking over an expired lease this way raises the epoch like a take-over
 * (fencing) but adds nobody to `failedBy`: the last holder did not fail,
 * its result is there.
 */
export async function finishLease(ctx: AcquireContext, snapshot: LeaseSnapshot | undefined, options: FinishOptions): Promise<FinishOutcome> {
  if (!snapshot) return { kind: 'absent' };
  const previous = snapshot.record;
  const own = options.own;
  const ours = own !== undefined && previous?.state === 'held' && previous.holder === own.holder && previous.epoch === own.epoch;
  if (!ours) {
    const verdict = ctx.judge.judge(snapshot);
    if (!verdict.claimable) return verdict.why === 'held' ? { kind: 'held', waitMs: verdict.waitMs } : { kind: 'final' };
  }
  const at = new Date(ctx.clock.now()).toISOString();
  const base = previous ?? newLeaseRecord(ctx, snapshot.item);
  const record: LeaseRecord = {
    ...base,
    // Never carried over: a previous writer's TTL may be anything (Infinity even, which JSON writes as null).
    ttlMs: ctx.ttlMs,
    holder: ctx.node,
    nonce: ctx.ids.ulid(),
    epoch: ours || !previous ? base.epoch : base.epoch + 1,
    state: 'done',
    releasedAt: at,
    reason: options.reason,
  };
  const outcome = await writeLease(ctx, snapshot.item, record, update(snapshot.etag), {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(ours ? { own } : {}),
  });
  if (!outcome.won) return { kind: 'lost-race' };
  ctx.judge.forget(snapshot.key);
  ctx.logger?.info({ item: snapshot.item, from: previous?.holder, epoch: record.epoch, reason: options.reason }, 'lease of a finished item marked done');
  return { kind: 'finished', record };
}
