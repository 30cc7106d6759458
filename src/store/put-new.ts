import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import { backoffMs } from '../util/retry.js';
import { AlreadyExistsError, StoreError } from './errors.js';
import { create, type Store } from './store.js';

export interface PutNewContext {
  store: Pick<Store, 'put'>;
  clock: Pick<Clock, 'sleep'>;
  ids: IdSource;
}

export interface PutNewOptions {
  /** Tries in all, the first included. Default: until it lands, `signal` aborts, or a non-retryable error. */
  attempts?: number;
  /** Longest pause between tries. Default 5 s. */
  maxDelayMs?: number;
  /** Ends the retries (the node is stopping); the last error is thrown. */
  signal?: AbortSignal;
}

/**
 * Writes an immutable object under a key that is new by construction (it
 * holds a fresh ULID: failure records, conflicts, digests), create-if-absent
 * so that nothing is ever replaced. Retryable errors (503 SlowDown, resets,
 * timeouts) are retried with capped, jittered backoff on the injected clock.
 * An AlreadyExists after a try whose outcome was unknown is that try having
 * landed: the same key and body, so the write is done.
 *
 * @throws the store error that ended the retries
 */
export async function putNew(ctx: PutNewContext, key: string, body: Uint8Array | string, options: PutNewOptions = {}): Promise<void> {
  const attempts = options.attempts ?? Infinity;
  const policy = { attempts, baseDelayMs: 200, maxDelayMs: options.maxDelayMs ?? 5_000 };
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.store.put(key, body, create);
      return;
    } catch (error) {
      // Nobody else writes this key: finding it on a retry means an earlier try landed unanswered.
      if (error instanceof AlreadyExistsError && attempt > 1) return;
      if (!(error instanceof StoreError) || !error.retryable) throw error;
      if (attempt >= attempts || options.signal?.aborted) throw error;
    }
    await ctx.clock.sleep(backoffMs(policy, attempt, ctx.ids), options.signal).catch(() => undefined);
  }
}
