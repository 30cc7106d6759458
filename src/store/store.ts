import type { Readable } from 'node:stream';
import type { Clock } from '../time/clock.js';

/**
 * The one boundary every other part stands on: a shared object store whose
 * writes can be made conditional. Keys are relative to the store's root
 * (the bucket prefix or directory) and use `/` separators.
 *
 * Backends: `s3.ts` (any S3-compatible endpoint), `file.ts` (a directory,
 * the embedded default), `memory.ts` (tests and simulation). All run the
 * conformance suite in test/conformance/store.ts.
 */

/** How a put relates to what is already there (arrow-rs object_store's PutMode). */
export type PutMode =
  | { kind: 'create' }
  | { kind: 'update'; etag: string }
  | { kind: 'overwrite' };

export const create: PutMode = { kind: 'create' };
export const overwrite: PutMode = { kind: 'overwrite' };
export function update(etag: string): PutMode {
  return { kind: 'update', etag };
}

export interface ObjectInfo {
  key: string;
  /** Opaque version token, unquoted. Equal ETags mean equal content. */
  etag: string;
  size: number;
  /** When the store last wrote the object, by the store's clock. */
  lastModified: Date;
}

/** What every response tells about the store itself. */
export interface ResponseInfo {
  /** The store's clock at the response (HTTP `Date` for S3); lets callers judge time without trusting their own wall clock. */
  storeDate: Date;
}

export interface StoredObject extends ObjectInfo, ResponseInfo {
  body: Uint8Array;
}

export interface StreamedObject extends ObjectInfo, ResponseInfo {
  /** The content; the caller must consume or destroy it. Memory stays flat whatever the size. */
  body: Readable;
}

export interface NotModified extends ResponseInfo {
  notModified: true;
  etag: string;
}

export interface PutResult extends ResponseInfo {
  etag: string;
}

export interface ListOptions {
  /** Only keys starting with this (relative to the store root). */
  prefix: string;
  /** Only keys strictly after this one, in byte order. */
  startAfter?: string;
  /** Page size; backends may return fewer. Default 1000. */
  limit?: number;
}

export interface ListPage {
  items: ObjectInfo[];
  /** Pass as `startAfter` to get the next page; absent on the last page. */
  nextStartAfter?: string;
}

export interface GetOptions {
  /** Answer `NotModified` instead of the body when the current ETag equals this. */
  ifNoneMatch?: string;
  signal?: AbortSignal;
}

export interface Store {
  /** The store's URL with any credentials removed, for logs and messages. */
  readonly description: string;
  /** @throws NotFoundError */
  get(key: string, options?: GetOptions): Promise<StoredObject | NotModified>;
  /** @throws NotFoundError */
  getStream(key: string, options?: { signal?: AbortSignal }): Promise<StreamedObject>;
  /** @throws NotFoundError */
  head(key: string): Promise<ObjectInfo & ResponseInfo>;
  /**
   * @throws AlreadyExistsError (create on an existing key)
   * @throws PreconditionFailedError (update with a stale ETag, or on a missing key)
   * @throws WriteOutcomeUnknownError (the write may or may not have landed)
   */
  put(key: string, body: Uint8Array | string, mode: PutMode): Promise<PutResult>;
  /** Like put, for large bodies; memory does not grow with the size. */
  putStream(key: string, body: Readable, mode: PutMode, options?: { size?: number }): Promise<PutResult>;
  /** Unconditional; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  list(options: ListOptions): Promise<ListPage>;
  /** Releases connections and handles; idempotent. */
  close(): Promise<void>;
  /**
   * Optional (network stores): how long one request may go without an
   * answer before it counts as failed. A replay node sets it from its
   * lease TTL, so that an answer that never comes costs a fraction of the
   * TTL rather than a socket default longer than the TTL itself.
   */
  limitRequestTime?(limits: RequestTimeLimits): void;
}

export interface RequestTimeLimits {
  /** Conditional writes (leases, results): well under a third of the lease TTL, so a renewal can be retried before its deadline. */
  conditionalWriteMs: number;
  /** Everything else (reads, listings, overwrites). */
  otherMs: number;
}

export function isNotModified(result: StoredObject | NotModified): result is NotModified {
  return 'notModified' in result;
}

/** Every key under `prefix`, page by page, without holding them all in memory. */
export async function* listAll(store: Pick<Store, 'list'>, prefix: string, pageSize = 1000): AsyncGenerator<ObjectInfo> {
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list({ prefix, startAfter, limit: pageSize });
    yield* page.items;
    if (!page.nextStartAfter) return;
    startAfter = page.nextStartAfter;
  }
}

/** A listed object with the monotonic time its page's answer arrived. */
export interface SeenObjectInfo extends ObjectInfo {
  seenAt: number;
}

/**
 * listAll, each entry stamped with `clock.monotonic()` taken when its page
 * arrived. A version a listing shows landed before that page was answered,
 * so that is the earliest moment an observer may date it from (docs/protocol.md
 * §4): never the time the listing began, which on a slow or many-page
 * listing is seconds earlier and would make a fresh renewal look old.
 */
export async function* listAllSeen(store: Pick<Store, 'list'>, clock: Pick<Clock, 'monotonic'>, prefix: string, pageSize = 1000): AsyncGenerator<SeenObjectInfo> {
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list({ prefix, startAfter, limit: pageSize });
    const seenAt = clock.monotonic();
    for (const info of page.items) yield { ...info, seenAt };
    if (!page.nextStartAfter) return;
    startAfter = page.nextStartAfter;
  }
}
