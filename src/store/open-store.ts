import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import { StoreConfigError } from './errors.js';
import { createFileStore } from './file.js';
import type { ForeignReporter } from './file-foreign.js';
import { MemoryStore } from './memory.js';
import { createS3Store, type S3StoreDeps } from './s3.js';
import { redactUrl } from '../util/redact.js';
import { parseS3Url } from './s3-url.js';
import type { Store } from './store.js';

export interface OpenStoreDeps {
  clock: Clock;
  ids?: IdSource;
  /** For s3: override the credential chain (tests); default the standard AWS chain. */
  s3?: Pick<S3StoreDeps, 'credentials' | 'maxAttempts'>;
  env?: NodeJS.ProcessEnv;
  /** For file: where foreign entries at keys (a FIFO, a link) are reported; default one line on stderr. */
  onForeign?: ForeignReporter;
}

/**
 * Opens a store from the URL a user gives (`--store`):
 *
 *   s3://bucket/prefix?endpoint=...&region=...   S3 or any S3-compatible server
 *   file:///abs/dir, file:./rel, /abs/dir, rel    a directory (the embedded default)
 *   memory:                                       in this process only (tests, demos)
 *
 * Opening does no I/O: a wrong bucket or credentials show on the first
 * request, as a one-line StoreConfigError. Every message quotes the URL
 * redacted (redactUrl): it is what a user typed, secrets and all.
 */
export function openStore(url: string, deps: OpenStoreDeps): Store {
  const trimmed = url.trim();
  if (trimmed === '') throw new StoreConfigError('the store URL is empty; give s3://bucket/prefix or a directory (file:///abs/dir)');
  if (trimmed.startsWith('s3://')) {
    return createS3Store(parseS3Url(trimmed, deps.env), { clock: deps.clock, ...(deps.ids ? { ids: deps.ids } : {}), ...deps.s3 });
  }
  if (trimmed === 'memory:' || trimmed === 'memory://') return new MemoryStore({ clock: deps.clock });
  const dir = directoryOf(trimmed);
  return createFileStore(dir, { clock: deps.clock, ...(deps.ids ? { ids: deps.ids } : {}), ...(deps.onForeign ? { onForeign: deps.onForeign } : {}) });
}

function directoryOf(url: string): string {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      throw new StoreConfigError(`store URL ${redactUrl(url)} is not a local file URL; use file:///absolute/dir or file:./relative/dir`);
    }
  }
  if (url.startsWith('file:')) return resolve(url.slice('file:'.length));
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  // A single letter is a Windows drive, not a scheme.
  if (scheme && scheme.length > 1) {
    throw new StoreConfigError(`unknown store URL scheme "${scheme}:" in ${redactUrl(url)}; use s3://bucket/prefix?endpoint=..., file:///abs/dir or a directory path`);
  }
  return isAbsolute(url) ? url : resolve(url);
}
