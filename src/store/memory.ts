import { Readable } from 'node:stream';
import type { Clock } from '../time/clock.js';
import { contentEtag, toBytes } from './content-etag.js';
import { RequestCounter, type RequestCounts, type RequestKind } from './counting-store.js';
import { AlreadyExistsError, NotFoundError, PreconditionFailedError } from './errors.js';
import { checkKey } from './key-check.js';
import { compareKeys, lowerBound, upperBound } from './key-order.js';
import type {
  GetOptions,
  ListOptions,
  ListPage,
  NotModified,
  ObjectInfo,
  PutMode,
  PutResult,
  ResponseInfo,
  Store,
  StoredObject,
  StreamedObject,
} from './store.js';

export interface MemoryStoreDeps {
  /** The store's clock: lastModified and storeDate come from it. */
  clock: Clock;
  /**
   * Simulated request latency in ms, slept on `clock` before each request
   * takes effect (a number, or a function of the request kind, e.g. with
   * jitter). Concurrent conditional writes then truly interleave: all wait,
   * then each checks-and-writes atomically in turn. Default: none (each
   * request still yields once, so callers never rely on synchronous effects).
   */
  latencyMs?: number | ((kind: RequestKind) => number);
  description?: string;
}

interface Entry {
  body: Uint8Array;
  etag: string;
  lastModified: Date;
}

/** Chunk size of getStream bodies (like a socket would deliver). */
const STREAM_CHUNK = 64 * 1024;

/**
 * The in-memory backend, for unit tests and the scale simulation: exact
 * conditional semantics, content-hash ETags, the injected clock as the
 * store's clock, optional latency and per-kind request counters. Bodies are
 * held in memory, so streams are not memory-flat here.
 */
export class MemoryStore implements Store {
  readonly description: string;
  private readonly objects = new Map<string, Entry>();
  /** Keys in byte order, kept sorted on insert/delete so list is a binary search. */
  private readonly sortedKeys: string[] = [];
  private readonly counter = new RequestCounter();

  constructor(private readonly deps: MemoryStoreDeps) {
    this.description = deps.description ?? 'memory:';
  }

  /** Live request counts since creation or the last `resetCounters()`. */
  get counters(): RequestCounts {
    return this.counter.counts;
  }

  resetCounters(): void {
    this.counter.reset();
  }

  /** Number of objects held (for tests and simulation reports). */
  get size(): number {
    return this.objects.size;
  }

  async get(key: string, options?: GetOptions): Promise<StoredObject | NotModified> {
    checkKey(key);
    this.counter.request('get');
    await this.latency('get');
    options?.signal?.throwIfAborted();
    const entry = this.entry(key);
    if (options?.ifNoneMatch !== undefined && options.ifNoneMatch === entry.etag) {
      this.counter.notModified();
      return { notModified: true, etag: entry.etag, storeDate: this.now() };
    }
    return { ...this.info(key, entry), body: Uint8Array.from(entry.body), storeDate: this.now() };
  }

  async getStream(key: string, options?: { signal?: AbortSignal }): Promise<StreamedObject> {
    checkKey(key);
    this.counter.request('getStream');
    await this.latency('getStream');
    options?.signal?.throwIfAborted();
    const entry = this.entry(key);
    const body = Readable.from(chunks(entry.body), { objectMode: false });
    return { ...this.info(key, entry), body, storeDate: this.now() };
  }

  async head(key: string): Promise<ObjectInfo & ResponseInfo> {
    checkKey(key);
    this.counter.request('head');
    await this.latency('head');
    return { ...this.info(key, this.entry(key)), storeDate: this.now() };
  }

  async put(key: string, body: Uint8Array | string, mode: PutMode): Promise<PutResult> {
    checkKey(key);
    this.counter.put(mode);
    // Copy before the latency so a caller mutating its buffer afterwards cannot change what lands.
    const bytes = Uint8Array.from(toBytes(body));
    await this.latency('put');
    return this.commit(key, bytes, mode);
  }

  async putStream(key: string, body: Readable, mode: PutMode): Promise<PutResult> {
    checkKey(key);
    this.counter.put(mode);
    const parts: Buffer[] = [];
    for await (const chunk of body) parts.push(Buffer.from(chunk as Uint8Array));
    await this.latency('put');
    return this.commit(key, Buffer.concat(parts), mode);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.counter.request('delete');
    await this.latency('delete');
    if (!this.objects.delete(key)) return;
    const i = lowerBound(this.sortedKeys, key);
    this.sortedKeys.splice(i, 1);
  }

  async list(options: ListOptions): Promise<ListPage> {
    this.counter.request('list');
    await this.latency('list');
    const limit = Math.max(1, options.limit ?? 1000);
    const { prefix, startAfter } = options;
    let i = lowerBound(this.sortedKeys, prefix);
    if (startAfter !== undefined && compareKeys(startAfter, prefix) >= 0) {
      i = Math.max(i, upperBound(this.sortedKeys, startAfter));
    }
    const items: ObjectInfo[] = [];
    for (; i < this.sortedKeys.length && items.length < limit; i++) {
      const key = this.sortedKeys[i]!;
      if (!key.startsWith(prefix)) break;
      items.push(this.info(key, this.objects.get(key)!));
    }
    const more = i < this.sortedKeys.length && this.sortedKeys[i]!.startsWith(prefix);
    return more ? { items, nextStartAfter: items[items.length - 1]!.key } : { items };
  }

  async close(): Promise<void> {}

  /** The atomic step: no await between the condition check and the write. */
  private commit(key: string, body: Uint8Array, mode: PutMode): PutResult {
    const existing = this.objects.get(key);
    try {
      if (mode.kind === 'create' && existing) throw new AlreadyExistsError(key);
      if (mode.kind === 'update' && existing?.etag !== mode.etag) throw new PreconditionFailedError(key);
    } catch (error) {
      throw this.counter.failure(error);
    }
    const etag = contentEtag(body);
    this.objects.set(key, { body, etag, lastModified: this.now() });
    if (!existing) this.sortedKeys.splice(upperBound(this.sortedKeys, key), 0, key);
    return { etag, storeDate: this.now() };
  }

  private entry(key: string): Entry {
    const entry = this.objects.get(key);
    if (!entry) throw new NotFoundError(key);
    return entry;
  }

  private info(key: string, entry: Entry): ObjectInfo {
    return { key, etag: entry.etag, size: entry.body.length, lastModified: entry.lastModified };
  }

  private now(): Date {
    return new Date(this.deps.clock.now());
  }

  private async latency(kind: RequestKind): Promise<void> {
    const { latencyMs } = this.deps;
    const ms = typeof latencyMs === 'function' ? latencyMs(kind) : latencyMs ?? 0;
    if (ms > 0) await this.deps.clock.sleep(ms);
    else await Promise.resolve();
  }
}

export function createMemoryStore(deps: MemoryStoreDeps): MemoryStore {
  return new MemoryStore(deps);
}

function* chunks(body: Uint8Array): Generator<Buffer> {
  for (let offset = 0; offset < body.length; offset += STREAM_CHUNK) {
    yield Buffer.from(body.buffer, body.byteOffset + offset, Math.min(STREAM_CHUNK, body.length - offset));
  }
}
