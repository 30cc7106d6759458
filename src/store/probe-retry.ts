import { backoff, type RetryPolicy } from '../util/retry.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import {
  AlreadyExistsError,
  NotFoundError,
  NotSupportedError,
  PreconditionFailedError,
  StoreError,
  UnavailableError,
  WriteOutcomeUnknownError,
} from './errors.js';
import { isNotModified, type PutMode, type Store } from './store.js';

/**
 * The capability probe's requests, made robust to transient faults: a check
 * may be failed only by evidence, never by an error that a retry clears.
 * Retryable store errors (Unavailable, WriteOutcomeUnknown) are retried with
 * capped, jittered backoff on the injected clock, and an ambiguous
 * conditional write is resolved the protocol's way: every probe write has a
 * body of its own, so reading the key back tells whether it landed.
 */

/** Tries per request (the first included); a store that fails them all is unavailable. About 2.5 s of backoff at most. */
export const probeRetryPolicy: RetryPolicy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 1_000 };

/**
 * The probe could not finish: the store answered only transient errors. It
 * says nothing about whether the store is safe (retryable, named
 * "Unavailable" like the error it wraps), so callers tell "store down" from
 * "store unsafe" (UnsafeStoreError).
 */
export class ProbeUnavailableError extends UnavailableError {
  constructor(readonly store: string, readonly request: string, readonly tries: number, readonly last: StoreError) {
    super(
      `store ${store} is unavailable: ${request} got only transient errors in ${tries} ${tries === 1 ? 'try' : 'tries'} (last: ${last.message}); ` +
        'the capability probe could not finish, which says nothing about whether the store is safe: retry when it answers',
      { cause: last },
    );
  }
}

/** What a conditional probe write did, decided by answers or by reading back, never by a transient error. */
export type ProbeWrite =
  | { landed: true; etag: string; resolvedByReading: boolean }
  | { landed: false; refusal: AlreadyExistsError | PreconditionFailedError | NotSupportedError; resolvedByReading: boolean };

export interface ProbeRetryDeps {
  clock: Clock;
  ids: IdSource;
  policy?: RetryPolicy;
}

/** One check's view of the store: every request retried, transient errors counted for the check's detail. */
export class ProbeRequests {
  /** Transient errors retried so far. */
  transientErrors = 0;
  private readonly policy: RetryPolicy;

  constructor(readonly store: Store, private readonly deps: ProbeRetryDeps) {
    this.policy = deps.policy ?? probeRetryPolicy;
  }

  /** Runs an idempotent request (a read, a list, a delete, an overwrite), retrying transient errors. */
  async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (!isTransient(error)) throw error;
        await this.afterTransient(what, attempt, error);
      }
    }
  }

  /** The body and ETag stored at `key` now, or undefined when there is none. */
  async read(key: string): Promise<{ body: string; etag: string } | undefined> {
    return this.call(`GET ${key}`, async () => {
      try {
        const got = await this.store.get(key);
        if (isNotModified(got)) throw new Error(`unexpected NotModified for ${key}`);
        return { body: Buffer.from(got.body).toString('utf8'), etag: got.etag };
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    });
  }

  /**
   * A conditional write of a body no other probe write uses. After an
   * ambiguous answer (WriteOutcomeUnknown) the key is read back: our body
   * there means it landed; otherwise nothing of ours did and we ask again,
   * for a clear answer. A refusal after an ambiguous try is read back too,
   * since our own earlier try may be what the condition now sees.
   */
  async write(key: string, body: string, mode: PutMode): Promise<ProbeWrite> {
    if (mode.kind === 'overwrite') throw new TypeError('probe writes that test conditions are conditional');
    let ambiguous = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const { etag } = await this.store.put(key, body, mode);
        return { landed: true, etag, resolvedByReading: false };
      } catch (error) {
        const refusal = error instanceof AlreadyExistsError || error instanceof PreconditionFailedError || error instanceof NotSupportedError;
        if (refusal && !ambiguous) return { landed: false, refusal: error, resolvedByReading: false };
        if (refusal) {
          const now = await this.read(key);
          return now?.body === body ? { landed: true, etag: now.etag, resolvedByReading: true } : { landed: false, refusal: error, resolvedByReading: true };
        }
        if (!isTransient(error)) throw error;
        if (error instanceof WriteOutcomeUnknownError) {
          ambiguous = true;
          const now = await this.read(key);
          if (now?.body === body) {
            this.transientErrors++;
            return { landed: true, etag: now.etag, resolvedByReading: true };
          }
        }
        await this.afterTransient(`${mode.kind === 'create' ? 'create' : 'compare-and-swap'} of ${key}`, attempt, error);
      }
    }
  }

  private async afterTransient(what: string, attempt: number, error: StoreError): Promise<void> {
    this.transientErrors++;
    if (attempt >= this.policy.attempts) throw new ProbeUnavailableError(this.store.description, what, attempt, error);
    await backoff(this.deps.clock, this.deps.ids, this.policy, attempt);
  }
}

/** An error a retry may clear; a probe that already gave up is not one (it must not be retried again by an outer loop). */
export function isTransient(error: unknown): error is StoreError {
  return error instanceof StoreError && error.retryable && !(error instanceof ProbeUnavailableError);
}
