import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { systemClock } from '../../time/system-clock.js';

/**
 * Opens `--store URL` for a manifest command, runs `fn`, closes the store.
 * `probe`: the command writes (publish), so the store must honour
 * conditional writes.
 */
export async function withStore<T>(url: string, options: { probe: boolean }, fn: (store: Store) => Promise<T>): Promise<T> {
  void options;
  const store = openStore(url, { clock: systemClock });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
