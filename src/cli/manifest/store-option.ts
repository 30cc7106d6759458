import { fileURLToPath } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { createFileStore } from '../../store/file.js';
import type { Store } from '../../store/store.js';
import { systemClock } from '../../time/system-clock.js';
import { UserError } from '../describe-error.js';

/**
 * Opens `--store URL` for a manifest command, runs `fn`, closes the store.
 * `probe`: the command writes (publish), so the store must honour
 * conditional writes.
 *
 * Stand-in until src/store/open-store.ts lands: file URLs and paths only.
 */
export async function withStore<T>(url: string, options: { probe: boolean }, fn: (store: Store) => Promise<T>): Promise<T> {
  void options;
  const store = openFileStore(url);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function openFileStore(url: string): Store {
  let dir: string;
  if (url.startsWith('file://')) dir = fileURLToPath(url);
  else if (url.startsWith('file:')) dir = resolve(url.slice('file:'.length));
  else if (!url.includes('://')) dir = isAbsolute(url) ? url : resolve(url);
  else throw new UserError(`unsupported store URL ${url}; use file:///abs/dir`);
  return createFileStore(dir, { clock: systemClock });
}
