import type { ForeignReporter } from '../../store/file-foreign.js';
import { openStoreFlag } from '../store-flag.js';
import { assertStoreSafe } from '../../store/probe.js';
import type { Store } from '../../store/store.js';
import { systemClock } from '../../time/system-clock.js';
import { systemIds } from '../../util/ids.js';

/**
 * Opens `--store URL` for a manifest command, runs `fn`, closes the store.
 * `probe`: the command writes (publish), so the store must first prove it
 * honours conditional writes (the capability probe); one that does not is
 * refused with UnsafeStoreError before anything is published. A store that
 * answers only transient errors, even after the probe's retries, fails with
 * ProbeUnavailableError instead (name "Unavailable", retryable): one line
 * saying the store is unavailable and to retry, never an "unsafe" verdict.
 * `onForeign`: a command with a log routes the file store's reports there.
 */
export async function withStore<T>(url: string, options: { probe: boolean; onForeign?: ForeignReporter }, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStoreFlag(url, { clock: systemClock, ids: systemIds, ...(options.onForeign ? { onForeign: options.onForeign } : {}) });
  try {
    if (options.probe) await assertStoreSafe(store, { clock: systemClock, ids: systemIds });
    return await fn(store);
  } finally {
    await store.close();
  }
}
