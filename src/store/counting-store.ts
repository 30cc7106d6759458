import { AlreadyExistsError, PreconditionFailedError } from './errors.js';
import type {
  GetOptions,
  ListOptions,
  ListPage,
  NotModified,
  ObjectInfo,
  PutMode,
  PutResult,
  RequestTimeLimits,
  ResponseInfo,
  Store,
  StoredObject,
  StreamedObject,
} from './store.js';
import type { Readable } from 'node:stream';

/**
 * Store requests by kind. The scale simulation and the benchmarks measure
 * cost in requests per item (S3 bills and rate-limits per request), so every
 * backend can be wrapped with `countRequests` and the memory store counts
 * its own.
 */
export interface RequestCounts {
  /** get, whether it returned a body or NotModified */
  get: number;
  /** get answered NotModified (also counted in `get`) */
  getNotModified: number;
  getStream: number;
  head: number;
  /** every put and putStream (the sum of the three modes) */
  put: number;
  putCreate: number;
  putUpdate: number;
  putOverwrite: number;
  list: number;
  delete: number;
  /** creates refused (AlreadyExists) and updates refused (PreconditionFailed) */
  conditionalFailures: number;
  /** every request of any kind */
  total: number;
}

export type RequestKind = 'get' | 'getStream' | 'head' | 'put' | 'list' | 'delete';

export function zeroCounts(): RequestCounts {
  return {
    get: 0,
    getNotModified: 0,
    getStream: 0,
    head: 0,
    put: 0,
    putCreate: 0,
    putUpdate: 0,
    putOverwrite: 0,
    list: 0,
    delete: 0,
    conditionalFailures: 0,
    total: 0,
  };
}

/** A live tally; `snapshot()` copies it, `reset()` zeroes it. */
export class RequestCounter {
  counts: RequestCounts = zeroCounts();

  request(kind: Exclude<RequestKind, 'put'>): void {
    this.counts[kind]++;
    this.counts.total++;
  }

  put(mode: PutMode): void {
    this.counts.put++;
    this.counts.total++;
    if (mode.kind === 'create') this.counts.putCreate++;
    else if (mode.kind === 'update') this.counts.putUpdate++;
    else this.counts.putOverwrite++;
  }

  notModified(): void {
    this.counts.getNotModified++;
  }

  /** Counts a refused conditional write when `error` is one; returns it for rethrowing. */
  failure(error: unknown): unknown {
    if (error instanceof AlreadyExistsError || error instanceof PreconditionFailedError) {
      this.counts.conditionalFailures++;
    }
    return error;
  }

  snapshot(): RequestCounts {
    return { ...this.counts };
  }

  reset(): void {
    this.counts = zeroCounts();
  }
}

export interface CountingStore extends Store {
  /** Live counts since creation or the last `resetCounters()`. */
  readonly counters: RequestCounts;
  resetCounters(): void;
  readonly inner: Store;
}

/** Wraps any backend so its requests are counted by kind; behaviour is unchanged. */
export function countRequests(inner: Store): CountingStore {
  return new CountingStoreImpl(inner);
}

class CountingStoreImpl implements CountingStore {
  private readonly counter = new RequestCounter();

  constructor(readonly inner: Store) {}

  get description(): string {
    return this.inner.description;
  }

  get counters(): RequestCounts {
    return this.counter.counts;
  }

  resetCounters(): void {
    this.counter.reset();
  }

  async get(key: string, options?: GetOptions): Promise<StoredObject | NotModified> {
    this.counter.request('get');
    const result = await this.inner.get(key, options);
    if ('notModified' in result) this.counter.notModified();
    return result;
  }

  getStream(key: string, options?: { signal?: AbortSignal }): Promise<StreamedObject> {
    this.counter.request('getStream');
    return this.inner.getStream(key, options);
  }

  head(key: string): Promise<ObjectInfo & ResponseInfo> {
    this.counter.request('head');
    return this.inner.head(key);
  }

  async put(key: string, body: Uint8Array | string, mode: PutMode): Promise<PutResult> {
    this.counter.put(mode);
    try {
      return await this.inner.put(key, body, mode);
    } catch (error) {
      throw this.counter.failure(error);
    }
  }

  async putStream(key: string, body: Readable, mode: PutMode, options?: { size?: number }): Promise<PutResult> {
    this.counter.put(mode);
    try {
      return await this.inner.putStream(key, body, mode, options);
    } catch (error) {
      throw this.counter.failure(error);
    }
  }

  delete(key: string): Promise<void> {
    this.counter.request('delete');
    return this.inner.delete(key);
  }

  list(options: ListOptions): Promise<ListPage> {
    this.counter.request('list');
    return this.inner.list(options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  limitRequestTime(limits: RequestTimeLimits): void {
    this.inner.limitRequestTime?.(limits);
  }
}
