import { runKeys } from '../layout/keys.js';
import { CorruptObjectError } from '../layout/schema.js';
import { AlreadyExistsError, NotSupportedError, StoreError, UnavailableError } from '../store/errors.js';
import { putNew } from '../store/put-new.js';
import { getIfExists } from '../store/get-if-exists.js';
import { create, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { backoffMs } from '../util/retry.js';
import { encodeConflict, outcomeOf, type ConflictRecord } from '../records/conflict-record.js';
import { decodeResult, encodeResult, sameOutcome, type ResultRecord } from '../records/result-record.js';

export interface PublishContext {
  store: Pick<Store, 'put' | 'get'>;
  clock: Pick<Clock, 'now' | 'sleep'>;
  ids: IdSource;
  logger: Logger;
  run: string;
}

export type PublishOutcome =
  /** Ours is the canonical result; `etag` when the store's answer told it (result-check.ts trusts our own version). */
  | { kind: 'written'; etag?: string }
  /** A result was there with the same hashes: a confirmation (nothing written). */
  | { kind: 'confirmed'; canonical: ResultRecord }
  /** A result was there with different hashes: recorded under conflicts/ (or unreadable: recorded too). */
  | { kind: 'conflict'; canonical: ResultRecord | undefined; conflictKey: string };

export interface PublishOptions {
  /** Ends the retries (the node is stopping); the last store error is thrown. */
  signal?: AbortSignal;
  /** Tries in all. Default: until the write is decided or `signal` aborts (a replay is too costly to drop on a brownout). */
  attempts?: number;
}

/** The longest pause between two tries while the store is unavailable. */
const MAX_DELAY_MS = 5_000;

/**
 * Writes an item's result with create-if-absent (docs/protocol.md §3.7). No
 * path overwrites a result. A 412, a timeout or a 5xx is decided by reading
 * the result back: our nonce means ours landed; otherwise the canonical
 * result is compared, and a different outcome becomes an immutable conflict
 * object. Does not need the lease: a zombie finisher's replay is valid, the
 * create decides who is canonical. While the store is unavailable it keeps
 * trying (capped, jittered backoff) until the write is decided or `signal`
 * aborts: the result of hours of replay is not dropped on a brownout.
 */
export async function publishResult(ctx: PublishContext, result: ResultRecord, options: PublishOptions = {}): Promise<PublishOutcome> {
  const key = runKeys(ctx.run).result(result.item);
  const body = encodeResult(result);
  const policy = { attempts: options.attempts ?? Infinity, baseDelayMs: 200, maxDelayMs: MAX_DELAY_MS };
  let lastError: unknown;
  let saidUnwritable = false;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1) {
      if (options.signal?.aborted) break;
      await ctx.clock.sleep(backoffMs(policy, attempt - 1, ctx.ids), options.signal).catch(() => undefined);
    }
    try {
      const put = await ctx.store.put(key, body, create);
      return { kind: 'written', etag: put.etag };
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      lastError = error;
      if (error instanceof NotSupportedError) {
        // The store cannot hold an object at the key (a file store with a directory of entries there, put by
        // hand): hours of replay are not dropped for it. Said once; tried again until the operator moves it.
        if (!saidUnwritable) ctx.logger.error({ item: result.item, key }, `cannot write the result of ${result.item}: ${error.message}; the result is kept and written once that is fixed`);
        saidUnwritable = true;
        continue;
      }
      if (!(error instanceof AlreadyExistsError) && !error.retryable) throw error;
      // Unavailable: the request never reached the store; nothing to read back.
      if (error instanceof UnavailableError) continue;
    }
    let canonical: ResultRecord | 'corrupt' | undefined;
    try {
      canonical = await readResult(ctx, key, result.item);
    } catch (error) {
      if (error instanceof StoreError && error.retryable) {
        lastError = error;
        continue;
      }
      throw error;
    }
    // Nothing there after all (the failed try did not land): try again.
    if (canonical === undefined) continue;
    if (canonical !== 'corrupt' && canonical.nonce === result.nonce) return { kind: 'written' };
    if (canonical !== 'corrupt' && sameOutcome(canonical, result)) {
      ctx.logger.info({ item: result.item, canonicalNode: canonical.node, endHash: result.endHash }, 'result confirmed: same hashes as the canonical result');
      return { kind: 'confirmed', canonical };
    }
    const conflictKey = await writeConflict(ctx, result, canonical === 'corrupt' ? undefined : canonical, 'the canonical result', options.signal);
    return { kind: 'conflict', canonical: canonical === 'corrupt' ? undefined : canonical, conflictKey };
  }
  throw lastError;
}

/** Reads the result at `key`, which must be `item`'s result of this run (else it counts as corrupt). */
export async function readResult(ctx: Pick<PublishContext, 'store' | 'logger' | 'run'>, key: string, item: string): Promise<ResultRecord | 'corrupt' | undefined> {
  const got = await getIfExists(ctx.store, key);
  if (!got) return undefined;
  try {
    return decodeResult(key, got.body, { run: ctx.run, item });
  } catch (error) {
    if (error instanceof CorruptObjectError) {
      ctx.logger.error({ key, problem: error.message }, 'the canonical result is corrupt; recording ours as a conflict');
      return 'corrupt';
    }
    throw error;
  }
}

/** Records `found` as a conflict with `canonical` (undefined: the canonical result is unreadable); returns the new key. */
export async function writeConflict(ctx: PublishContext, found: ResultRecord, canonical: ResultRecord | undefined, what = 'the canonical result', signal?: AbortSignal): Promise<string> {
  const keys = runKeys(ctx.run);
  const key = keys.conflict(found.item, found.node, ctx.ids.ulid());
  const record: ConflictRecord = {
    schema: 'replay/conflict/v1',
    run: ctx.run,
    item: found.item,
    found: outcomeOf(found),
    canonical: canonical
      ? outcomeOf(canonical)
      : { node: 'unknown (corrupt result object)', epoch: 0, endHash: 'unreadable', headBlockId: '', runner: '' },
    detectedAt: new Date(ctx.clock.now()).toISOString(),
  };
  // The key is new by construction (a fresh ULID); create-if-absent anyway, so nothing is ever replaced.
  await putNew(ctx, key, encodeConflict(record), signal ? { signal } : {});
  ctx.logger.error(
    { item: found.item, ours: found.endHash, canonical: canonical?.endHash, canonicalNode: canonical?.node, key },
    `CONFLICT on ${found.item}: this node's end hash differs from ${what} (nondeterminism?); recorded, nothing overwritten`,
  );
  return key;
}
