import { runKeys } from '../layout/keys.js';
import { putNew } from '../store/put-new.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import { redactSecrets } from '../util/redact.js';
import { encodeFailure, MAX_LOG_TAIL, type FailureRecord } from '../records/failure-record.js';

export interface FailureContext {
  store: Pick<Store, 'put'>;
  clock: Pick<Clock, 'now' | 'sleep'>;
  ids: IdSource;
  run: string;
}

export type FailureInput = Omit<FailureRecord, 'schema' | 'run' | 'at' | 'logTail'> & { logTail?: readonly string[] };

/**
 * Writes `failures/<item>/<ulid>.json` (create-if-absent; the key is new by
 * construction), retrying until it lands or `signal` aborts. Returns its key.
 * The message and log tail are redacted (src/util/redact.ts) whatever runner
 * or error they came from: every bucket reader, and the observer's item
 * page, shows them.
 */
export async function recordFailure(ctx: FailureContext, input: FailureInput, options: { signal?: AbortSignal } = {}): Promise<string> {
  const key = runKeys(ctx.run).failure(input.item, ctx.ids.ulid());
  const record: FailureRecord = {
    schema: 'replay/failure/v1',
    run: ctx.run,
    ...input,
    message: redactSecrets(input.message),
    logTail: (input.logTail ?? []).slice(-MAX_LOG_TAIL).map(redactSecrets),
    at: new Date(ctx.clock.now()).toISOString(),
  };
  // Retried while the store is unavailable (a brownout must not lose the explanation of a failure), until the node stops.
  await putNew(ctx, key, encodeFailure(record), options);
  return key;
}
