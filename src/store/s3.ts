import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { Clock } from '../time/clock.js';
import { systemIds, type IdSource } from '../util/ids.js';
import { toBytes } from './content-etag.js';
import { NotFoundError, PreconditionFailedError, StoreConfigError } from './errors.js';
import { checkKey } from './key-check.js';
import { createS3Clients, storeDateOf, type S3ClientOptions, type S3Clients } from './s3-client.js';
import { translateS3Error, type S3Operation } from './s3-errors.js';
import { detectEtagQuoting, ifMatchValue, unquoteEtag, type EtagQuoting } from './s3-etag.js';
import { uploadStream } from './s3-upload.js';
import { formatS3Url, type S3Location } from './s3-url.js';
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

export interface S3StoreDeps extends S3ClientOptions {
  /** Only a fallback for storeDate when a response lacks a Date header. */
  clock: Clock;
  ids?: IdSource;
}

/** Where the ETag quoting detection writes its scratch object (under the store's prefix). */
export const PROBE_PREFIX = '_probe/';

/**
 * The S3 backend, for AWS S3 and S3-compatible servers (MinIO, Ceph RGW,
 * R2): keys live under the URL's prefix in its bucket. Conditional writes
 * are PutObject with If-None-Match: * (create) or If-Match: <etag>
 * (update). Every server quirk is normalised in s3-errors.ts (status codes)
 * and s3-etag.ts (ETag quoting), so callers see the same typed outcomes as
 * from the file and memory backends.
 */
export class S3Store implements Store {
  readonly description: string;
  private readonly clients: S3Clients;
  private readonly endpointName: string;
  private readonly ids: IdSource;
  private quoting: Promise<EtagQuoting> | undefined;
  /** Set once a response proved the bucket exists (a HEAD's bare 404 cannot tell a missing key from a missing bucket). */
  private bucketSeen = false;
  private closed = false;

  constructor(readonly location: S3Location, private readonly deps: S3StoreDeps) {
    this.description = formatS3Url(location);
    this.endpointName = location.endpoint ?? `AWS S3 (${location.region})`;
    this.clients = createS3Clients(location, deps);
    this.ids = deps.ids ?? systemIds;
    if (location.etagQuoting !== 'auto') this.quoting = Promise.resolve(location.etagQuoting);
  }

  async get(key: string, options?: GetOptions): Promise<StoredObject | NotModified> {
    const ifNoneMatch = options?.ifNoneMatch;
    try {
      const out = await this.call('get', key, () => this.clients.retrying.send(new GetObjectCommand({
        Bucket: this.location.bucket,
        Key: this.fullKey(key),
        ...(ifNoneMatch !== undefined ? { IfNoneMatch: `"${unquoteEtag(ifNoneMatch)}"` } : {}),
      }), abortable(options?.signal)));
      const body = await out.Body!.transformToByteArray();
      return { key, etag: unquoteEtag(out.ETag), size: body.length, lastModified: out.LastModified ?? this.now(), body, storeDate: this.dateOf(out) };
    } catch (error) {
      // 304 (the SDK names it "NotModified" or "Unknown"): the current ETag is the one given.
      if (ifNoneMatch !== undefined && statusOf(error) === 304) return { notModified: true, etag: unquoteEtag(ifNoneMatch), storeDate: this.dateOf(error) };
      throw error;
    }
  }

  async getStream(key: string, options?: { signal?: AbortSignal }): Promise<StreamedObject> {
    const out = await this.call('get', key, () => this.clients.retrying.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.fullKey(key) }), abortable(options?.signal)));
    return {
      key,
      etag: unquoteEtag(out.ETag),
      size: out.ContentLength ?? 0,
      lastModified: out.LastModified ?? this.now(),
      body: out.Body as Readable,
      storeDate: this.dateOf(out),
    };
  }

  async head(key: string): Promise<ObjectInfo & ResponseInfo> {
    const out = await this.call('head', key, () => this.clients.retrying.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.fullKey(key) })));
    return { key, etag: unquoteEtag(out.ETag), size: out.ContentLength ?? 0, lastModified: out.LastModified ?? this.now(), storeDate: this.dateOf(out) };
  }

  async put(key: string, body: Uint8Array | string, mode: PutMode): Promise<PutResult> {
    const bytes = toBytes(body);
    const condition = await this.conditionOf(key, mode);
    const out = await this.call(mode.kind, key, () => this.clientFor(mode).send(new PutObjectCommand({
      Bucket: this.location.bucket,
      Key: this.fullKey(key),
      Body: bytes,
      ContentLength: bytes.length,
      ContentType: contentTypeOf(key),
      ...condition,
    })));
    return { etag: unquoteEtag(out.ETag), storeDate: this.dateOf(out) };
  }

  async putStream(key: string, body: Readable, mode: PutMode, options?: { size?: number }): Promise<PutResult> {
    const condition = await this.conditionOf(key, mode);
    const target = { bucket: this.location.bucket, key: this.fullKey(key), contentType: contentTypeOf(key), condition };
    const { output } = await this.call(mode.kind, key, () => uploadStream(this.clientFor(mode), target, body, options?.size));
    // RGW answers CompleteMultipartUpload without an ETag; the object's own is what callers need.
    if (!output.ETag) return this.head(key);
    return { etag: unquoteEtag(output.ETag), storeDate: this.dateOf(output) };
  }

  async delete(key: string): Promise<void> {
    await this.call('delete', key, () => this.clients.retrying.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.fullKey(key) })));
  }

  async list(options: ListOptions): Promise<ListPage> {
    const root = this.location.prefix;
    const out = await this.call('list', undefined, () => this.clients.retrying.send(new ListObjectsV2Command({
      Bucket: this.location.bucket,
      Prefix: root + options.prefix,
      MaxKeys: Math.max(1, Math.min(options.limit ?? 1000, 1000)),
      ...(options.startAfter !== undefined ? { StartAfter: root + options.startAfter } : {}),
    })));
    const items: ObjectInfo[] = (out.Contents ?? []).map((o) => ({
      key: (o.Key ?? '').slice(root.length),
      etag: unquoteEtag(o.ETag),
      size: o.Size ?? 0,
      lastModified: o.LastModified ?? this.now(),
    }));
    const last = items[items.length - 1];
    return out.IsTruncated && last ? { items, nextStartAfter: last.key } : { items };
  }

  /** Never longer than the URL's `timeoutMs`: a user's explicit bound wins. */
  limitRequestTime(limits: RequestTimeLimits): void {
    const cap = this.location.timeoutMs;
    this.clients.setTimeouts(Math.min(cap, limits.conditionalWriteMs), Math.min(cap, limits.otherMs));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clients.destroy();
  }

  /**
   * The If-Match form this endpoint accepts (detected on first use, then
   * remembered). `scratchPrefix`: where the detection's scratch object goes
   * (default `_probe/etag-quoting/`); the capability probe passes its own
   * directory, so its cleanup also removes a scratch object that a failed
   * detection left behind.
   */
  etagQuoting(options?: { scratchPrefix?: string }): Promise<EtagQuoting> {
    if (this.quoting) return this.quoting;
    const detection = this.detectQuoting(options?.scratchPrefix ?? `${PROBE_PREFIX}etag-quoting/`);
    this.quoting = detection;
    // A failed detection (endpoint down) is not remembered: the next CAS tries again.
    detection.catch(() => {
      if (this.quoting === detection) this.quoting = undefined;
    });
    return detection;
  }

  private async detectQuoting(scratchPrefix: string): Promise<EtagQuoting> {
    const scratch = `${scratchPrefix}${this.ids.ulid()}`;
    return detectEtagQuoting({
      create: async (body) => (await this.put(scratch, body, { kind: 'create' })).etag,
      swap: async (ifMatch, body) => {
        try {
          const out = await this.call('update', scratch, () => this.clients.once.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: this.fullKey(scratch), Body: body, IfMatch: ifMatch })));
          return { accepted: true, etag: unquoteEtag(out.ETag) };
        } catch (error) {
          if (error instanceof PreconditionFailedError) return { accepted: false };
          throw error;
        }
      },
      remove: () => this.delete(scratch),
    });
  }

  private async conditionOf(key: string, mode: PutMode): Promise<{ IfNoneMatch?: string; IfMatch?: string }> {
    checkKey(key);
    if (mode.kind === 'create') return { IfNoneMatch: '*' };
    if (mode.kind === 'update') return { IfMatch: ifMatchValue(mode.etag, await this.etagQuoting()) };
    return {};
  }

  private clientFor(mode: PutMode): S3Client {
    return mode.kind === 'overwrite' ? this.clients.retrying : this.clients.once;
  }

  /** Runs one request, translating failures; learns that the bucket exists from any answer that proves it. */
  private async call<T>(operation: S3Operation, key: string | undefined, request: () => Promise<T>): Promise<T> {
    if (key !== undefined) checkKey(key);
    if (this.closed) throw new StoreConfigError(`store ${this.description} is closed`);
    try {
      const result = await request();
      this.bucketSeen = true;
      return result;
    } catch (error) {
      if (statusOf(error) === 304 && operation === 'get') throw error;
      const translated = translateS3Error(error, { operation, key, bucket: this.location.bucket, endpoint: this.endpointName });
      if (translated instanceof NotFoundError && operation === 'head' && !this.bucketSeen) await this.checkBucket();
      if (!(translated instanceof StoreConfigError) && statusOf(error) !== undefined) this.bucketSeen = true;
      throw translated;
    }
  }

  private async checkBucket(): Promise<void> {
    try {
      await this.clients.retrying.send(new HeadBucketCommand({ Bucket: this.location.bucket }));
    } catch (error) {
      // HeadBucket has no body either, but its 404 can only be the bucket's.
      const cause = statusOf(error) === 404 ? Object.assign(error as object, { Code: 'NoSuchBucket' }) : error;
      throw translateS3Error(cause, { operation: 'list', bucket: this.location.bucket, endpoint: this.endpointName });
    }
  }

  private fullKey(key: string): string {
    return this.location.prefix + key;
  }

  private dateOf(outputOrError: unknown): Date {
    return storeDateOf(outputOrError, () => this.now());
  }

  private now(): Date {
    return new Date(this.deps.clock.now());
  }
}

export function createS3Store(location: S3Location, deps: S3StoreDeps): S3Store {
  return new S3Store(location, deps);
}

function abortable(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal ? { abortSignal: signal } : {};
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** Operators read objects with ordinary tools; JSON says so. */
function contentTypeOf(key: string): string {
  return key.endsWith('.json') ? 'application/json' : 'application/octet-stream';
}
