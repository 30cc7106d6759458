import { create } from '../store/store.js';
import { newLeaseRecord, type AcquireResult, type LeaseSnapshot } from './lease.js';
import { takeOverLease, type AcquireContext } from './take-over.js';
import { writeLease } from './write-lease.js';

export interface ClaimOptions {
  /**
   * What the caller already read of this lease (from readLease). Given, the
   * claim skips the create-if-absent try and goes straight to the CAS; this
   * is how a scheduler avoids a wasted write on items it knows are leased.
   */
  known?: LeaseSnapshot;
  /** Cuts retry backoffs short (node stopping). */
  signal?: AbortSignal;
  /** The item is known to have no result: a `done` lease is acquired (`reopened`) instead of counting as finished (take-over.ts). */
  reopenDone?: boolean;
}

/**
 * Acquires an item's lease if at all possible right now:
 *   - no lease yet: PUT If-None-Match:* (1 request when it wins);
 *   - `released`: PUT If-Match on its ETag ("reclaimed");
 *   - `held` and expired by the judge: take-over ("took-over", epoch + 1);
 *   - `held` and live: `held`, with how long until it could expire;
 *   - `done`/`failed`: `finished` (`done` is acquired, `reopened`, when the
 *     caller says the item has no result: `reopenDone`).
 * Losing a race is a result (`lost-race`), not an error. Store errors that
 * outlast the retries are thrown; the outcome is then unknown, which is safe
 * (an unrenewed lease expires).
 */
export async function claimLease(ctx: AcquireContext, item: string, options: ClaimOptions = {}): Promise<AcquireResult> {
  let current = options.known;
  let failedWrites = 0;
  if (!current) {
    const outcome = await writeLease(ctx, item, newLeaseRecord(ctx, item), create, { signal: options.signal });
    if (outcome.won) {
      ctx.logger?.debug({ item, epoch: 1 }, 'lease created');
      return { kind: 'won', how: 'created', lease: outcome.lease, failedWrites };
    }
    failedWrites = 1;
    // A lost create always comes with what is there (writeLease retries when nothing is).
    current = outcome.current;
    if (!current) return { kind: 'lost-race', current, failedWrites };
  }
  const result = await takeOverLease(ctx, current, options.signal, { reopenDone: options.reopenDone === true });
  // A create that found a live lease is a waste; so is a lost CAS.
  return { ...result, failedWrites: result.failedWrites + failedWrites };
}
