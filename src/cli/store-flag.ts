import { StoreConfigError } from '../store/errors.js';
import type { ForeignReporter } from '../store/file-foreign.js';
import { openStore, type OpenStoreDeps } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import { describeError, UserError } from './describe-error.js';

/**
 * Opens `--store URL`. Opening does no I/O, so a StoreConfigError here is
 * always the URL itself (a bad bucket name, an empty region=, an unknown
 * parameter): bad input, exit 2 like every other, with the same line as
 * before ("StoreConfig: ..."). Credentials or a bucket refused later, by the
 * server, stay exit 1.
 */
export function openStoreFlag(url: string, deps: OpenStoreDeps): Store {
  try {
    return openStore(url, deps);
  } catch (error) {
    if (error instanceof StoreConfigError) throw new UserError(describeError(error));
    throw error;
  }
}

/** For a command with a log: the file store's reports of foreign entries (a FIFO at a key) become warnings there. */
export function foreignToLog(logger: Logger): ForeignReporter {
  return (report) => logger.warn({ key: report.key, path: report.path, entry: report.what }, `file store: ${report.message}`);
}
