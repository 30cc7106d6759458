import type { Readable } from 'node:stream';
import { UnavailableError, WriteOutcomeUnknownError } from '../../../src/store/errors.js';
import type { PutMode, Store } from '../../../src/store/store.js';
import { seededIds } from '../../../src/util/ids.js';

export interface FaultCounts {
  /** Writes refused before they reached the store (Unavailable). */
  before: number;
  /** Writes reported ambiguous (WriteOutcomeUnknown) that never reached the store, as a 5xx can be. */
  lost: number;
  /** Writes that reached the store (landed, or were refused by it) and were then reported ambiguous. */
  after: number;
  /** Reads, lists and deletes refused (Unavailable); half the deletes happened first. */
  other: number;
}

/**
 * Wraps a store and injects the transient faults a real S3 delivers
 * (s3-conditional-writes.md, "Faults real S3 delivers"), reproducibly from
 * a seed: each request fails with probability `rate`. A put fails before it
 * lands (Unavailable), or is reported ambiguous without landing, or reaches
 * the store and is then reported ambiguous (WriteOutcomeUnknown) whatever
 * the store answered. GETs, HEADs and lists fail with Unavailable; a delete
 * fails before or after it took effect. `rate: 1` is a store that is down.
 */
export function faultyStore(inner: Store, options: { seed: number; rate: number; description?: string }): Store & { faults: FaultCounts } {
  const random = seededIds(options.seed).random;
  const quoting = (inner as { etagQuoting?: (o?: { scratchPrefix?: string }) => Promise<string> }).etagQuoting;
  const faults: FaultCounts = { before: 0, lost: 0, after: 0, other: 0 };
  const down = (what: string): UnavailableError => new UnavailableError(`injected fault: ${what} answered 503 SlowDown; retry later`);
  const read = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
    if (random() < options.rate) {
      faults.other++;
      throw down(what);
    }
    return request();
  };
  const put = async <T>(key: string, request: () => Promise<T>): Promise<T> => {
    const roll = random() / options.rate;
    if (roll >= 1) return request();
    if (roll < 1 / 3) {
      faults.before++;
      throw down(`PUT ${key}`);
    }
    if (roll < 2 / 3) {
      faults.lost++;
      throw new WriteOutcomeUnknownError(key, 'injected fault: 500 InternalError before the write');
    }
    faults.after++;
    await request().catch(() => undefined);
    throw new WriteOutcomeUnknownError(key, 'injected fault: connection reset after the write');
  };
  return {
    faults,
    description: options.description ?? inner.description,
    get: (key, getOptions) => read(`GET ${key}`, () => inner.get(key, getOptions)),
    getStream: (key, streamOptions) => read(`GET ${key}`, () => inner.getStream(key, streamOptions)),
    head: (key) => read(`HEAD ${key}`, () => inner.head(key)),
    put: (key: string, body: Uint8Array | string, mode: PutMode) => put(key, () => inner.put(key, body, mode)),
    putStream: (key: string, body: Readable, mode: PutMode, streamOptions?: { size?: number }) => put(key, () => inner.putStream(key, body, mode, streamOptions)),
    delete: async (key) => {
      const roll = random() / options.rate;
      if (roll >= 1) return inner.delete(key);
      faults.other++;
      if (roll >= 0.5) await inner.delete(key);
      throw down(`DELETE ${key}`);
    },
    list: (listOptions) => read(`LIST ${listOptions.prefix}`, () => inner.list(listOptions)),
    close: () => inner.close(),
    // An S3 store's ETag quoting detection (the probe's etag-quoting check), failing like a write before it starts.
    ...(typeof quoting === 'function' ? { etagQuoting: (o?: { scratchPrefix?: string }) => put('etag quoting detection', () => quoting.call(inner, o)) } : {}),
  };
}
