import { runKeys } from '../layout/keys.js';
import { AlreadyExistsError, StoreError } from '../store/errors.js';
import { create, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import { encodeFailure, MAX_LOG_TAIL, type FailureRecord } from './failure-record.js';

export interface FailureContext {
  store: Pick<Store, 'put'>;
  clock: Pick<Clock, 'now' | 'sleep'>;
  ids: IdSource;
  run: string;
}

const ATTEMPTS = 4;

export type FailureInput = Omit<FailureRecord, 'schema' | 'run' | 'at' | 'logTail'> & { logTail?: readonly string[] };

/**
 * Writes `failures/<item>/<ulid>.json` (create-if-absent; the key is new by
 * construction). Returns its key.
 */
export async function recordFailure(ctx: FailureContext, input: FailureInput): Promise<string> {
  const key = runKeys(ctx.run).failure(input.item, ctx.ids.ulid());
  const record: FailureRecord = {
    schema: 'replay/failure/v1',
    run: ctx.run,
    ...input,
    logTail: (input.logTail ?? []).slice(-MAX_LOG_TAIL),
    at: new Date(ctx.clock.now()).toISOString(),
  };
  const body = encodeFailure(record);
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.store.put(key, body, create);
      return key;
    } catch (error) {
      // Same key, same body: a retry that finds the object means an earlier try landed.
      if (error instanceof AlreadyExistsError && attempt > 1) return key;
      if (!(error instanceof StoreError) || !error.retryable || attempt >= ATTEMPTS) throw error;
      await ctx.clock.sleep(200 * attempt);
    }
  }
}
