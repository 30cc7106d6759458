import { runKeys } from '../layout/keys.js';
import { AlreadyExistsError, PreconditionFailedError, StoreError, WriteOutcomeUnknownError } from '../store/errors.js';
import type { PutMode } from '../store/store.js';
import { type HeldLease, type LeaseContext, type LeaseSnapshot } from './lease.js';
import { encodeLease, type LeaseRecord } from '../records/lease-record.js';
import { readLease } from './read-lease.js';
import { backoff, retryPolicy } from '../util/retry.js';

export interface WriteLeaseOptions {
  /** Cuts retry backoffs short. */
  signal?: AbortSignal;
  /**
   * For writes by the holder (renew, release): the acquisition we hold. A
   * read-back showing `held` with the same holder and epoch but another nonce
   * is one of our own earlier writes whose outcome we never learned (nobody
   * else writes that epoch: every acquisition raises it), so we retry on its
   * ETag instead of calling the lease lost.
   */
  own?: { holder: string; epoch: number };
}

export type WriteOutcome =
  | { won: true; lease: HeldLease }
  /** Someone else's write is there (`current`), or the object is gone (`current` undefined after an update). */
  | { won: false; current: LeaseSnapshot | undefined };

/**
 * One logical conditional write of a lease: the shared core of claim, renew,
 * release and take-over (design §3, "ambiguity is resolved by reading").
 *
 * The record's nonce stays the same across retries of this write, so whichever
 * try lands, the read-back recognises it. After a timeout/5xx/409
 * (WriteOutcomeUnknownError) and after every 412/AlreadyExists (which a
 * retried request can return although an earlier try landed; the store client
 * may retry under us), we read the lease back:
 *   - our nonce is there: won;
 *   - the precondition no longer holds (object exists for a create, ETag moved
 *     for an update): lost, with what is there now;
 *   - otherwise nothing landed: try again (same nonce, same condition).
 * Retries are bounded; when they run out the last store error is thrown and
 * the outcome stays unknown to the caller. That is safe: a write that lands
 * later is a lease nobody renews, which expires.
 */
export async function writeLease(
  ctx: LeaseContext,
  item: string,
  record: LeaseRecord,
  initialMode: PutMode,
  options: WriteLeaseOptions = {},
): Promise<WriteOutcome> {
  if (initialMode.kind === 'overwrite') throw new TypeError('leases are only written conditionally');
  let mode: Exclude<PutMode, { kind: 'overwrite' }> = initialMode;
  const { signal, own } = options;
  const policy = retryPolicy(ctx.retry);
  const key = runKeys(ctx.run).lease(item);
  const body = encodeLease(record);
  // The first try's send time: if any try lands, it landed after this.
  const sentAt = ctx.clock.monotonic();
  const won = (etag: string): WriteOutcome => ({ won: true, lease: { run: ctx.run, item, key, etag, record, sentAt } });
  let lastError: unknown;
  let adopted = false;

  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1 && !adopted) await backoff(ctx.clock, ctx.ids, policy, attempt - 1, signal);
    adopted = false;
    try {
      const result = await ctx.store.put(key, body, mode);
      return won(result.etag);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      lastError = error;
      const decidable =
        error instanceof AlreadyExistsError || error instanceof PreconditionFailedError || error instanceof WriteOutcomeUnknownError;
      if (!decidable) {
        // Unavailable: the request is known not to have changed anything.
        if (error.retryable) continue;
        throw error;
      }
      ctx.logger?.debug({ key, attempt, error: error.name }, 'lease write not confirmed; reading back');
    }

    let current: LeaseSnapshot | undefined;
    try {
      current = await readLease(ctx, item);
    } catch (error) {
      if (error instanceof StoreError && error.retryable) {
        lastError = error;
        continue;
      }
      throw error;
    }
    if (current?.record?.nonce === record.nonce) return won(current.etag);
    if (own && mode.kind === 'update' && current?.etag !== mode.etag && isOwn(current, own)) {
      // An earlier write of ours (a renewal whose answer we never got) landed: still our lease.
      mode = { kind: 'update', etag: current!.etag };
      adopted = true; // not contention: retry at once
      continue;
    }
    const stillPossible = mode.kind === 'create' ? current === undefined : current?.etag === mode.etag;
    if (!stillPossible) return { won: false, current };
  }
  throw lastError;
}

function isOwn(current: LeaseSnapshot | undefined, own: { holder: string; epoch: number }): boolean {
  const r = current?.record;
  return r !== undefined && r.state === 'held' && r.holder === own.holder && r.epoch === own.epoch;
}
