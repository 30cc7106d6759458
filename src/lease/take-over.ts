import { update } from '../store/store.js';
import type { ExpiryJudge } from './expiry.js';
import { acquiredOver, type AcquireResult, type LeaseContext, type LeaseSnapshot } from './lease.js';
import { writeLease } from './write-lease.js';

/** Claim and take-over need the node's expiry judge (its memory of when it first saw each ETag). */
export interface AcquireContext extends LeaseContext {
  judge: ExpiryJudge;
}

export interface TakeOverOptions {
  /**
   * The caller established that the item has no result (a results listing
   * begun after it saw this `done` lease did not show one): a `done` lease
   * is then acquired like a released one (docs/protocol.md §3.1, "done
   * without a result"). Without it, `done` is final.
   */
  reopenDone?: boolean;
}

/**
 * Takes over an expired lease: PUT If-Match on the ETag that was judged
 * expired. If the holder renewed meanwhile the CAS fails and nothing changes,
 * so a wrong judgement costs one wasted write, never a second holder.
 * The epoch grows by one (fencing) and the previous holder is added to
 * `failedBy` (its attempt ended without a release).
 *
 * Refuses (returns `held`/`finished`) unless the judge says expired now;
 * calling it with a fresh snapshot of a lease first seen a moment ago is safe.
 * Corrupt lease objects are taken over the same way once their ETag is old,
 * which replaces them with a valid lease.
 *
 * With `reopenDone`, a `done` lease is acquired at once (`reopened`): nobody
 * holds a done lease (its last holder released it), so the CAS on its ETag
 * is as safe as on a released one; nobody is added to `failedBy`.
 */
export async function takeOverLease(ctx: AcquireContext, snapshot: LeaseSnapshot, signal?: AbortSignal, options: TakeOverOptions = {}): Promise<AcquireResult> {
  const previous = snapshot.record;
  const reopening = options.reopenDone === true && previous?.state === 'done';
  const verdict = reopening ? { claimable: true as const, why: 'done-without-result' } : ctx.judge.judge(snapshot);
  if (!verdict.claimable) {
    if (verdict.why === 'held') return { kind: 'held', current: snapshot, waitMs: verdict.waitMs, failedWrites: 0 };
    return { kind: 'finished', state: verdict.why, current: snapshot, failedWrites: 0 };
  }
  const expiredHolder = previous && previous.state === 'held' ? previous.holder : undefined;
  const record = acquiredOver(ctx, snapshot.item, previous, expiredHolder);
  if (!previous) ctx.logger?.warn({ key: snapshot.key, problem: snapshot.problem }, 'replacing a corrupt lease object');
  const outcome = await writeLease(ctx, snapshot.item, record, update(snapshot.etag), { signal });
  if (outcome.won) {
    ctx.judge.forget(snapshot.key);
    const how = reopening ? 'reopened' : previous?.state === 'released' ? 'reclaimed' : 'took-over';
    ctx.logger?.info({ item: snapshot.item, from: previous?.holder, epoch: record.epoch, why: verdict.why }, `lease ${how}`);
    return { kind: 'won', how, lease: outcome.lease, failedWrites: 0 };
  }
  return { kind: 'lost-race', current: outcome.current, failedWrites: 1 };
}
