import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { NotSupportedError } from './errors.js';

/**
 * Streamed uploads with memory that does not grow with the object:
 *
 * - size known and at most 5 GiB (S3's single-PUT limit): one PutObject
 *   streaming the body straight to the socket;
 * - size unknown: the first part is buffered; a body that ends within it is
 *   one PutObject, a longer one becomes a multipart upload, part by part;
 * - size above 5 GiB: multipart.
 *
 * The put mode's condition (If-None-Match / If-Match) goes on the PutObject.
 * A conditional write that would need a multipart upload is refused
 * (NotSupported) rather than sent: AWS checks conditions on
 * CompleteMultipartUpload, but Ceph RGW 16 ignores them there (measured: both
 * conditions accepted on an existing key), and a silently ignored condition
 * is the one failure the store must never have. The protocol's conditional
 * objects (leases, results, manifests) are small JSON; large inputs
 * (snapshots) are written with overwrite, or with their size.
 */
export interface UploadTarget {
  bucket: string;
  /** Full object key (prefix included). */
  key: string;
  contentType: string;
  condition: { IfNoneMatch?: string; IfMatch?: string };
}

export interface UploadResult {
  /** The SDK output of the request that made the object visible (PutObject or CompleteMultipartUpload). */
  output: { ETag?: string | undefined };
}

const MiB = 1024 * 1024;
const MAX_SINGLE_PUT = 5 * 1024 * MiB;
export const DEFAULT_PART_BYTES = 16 * MiB;
const MAX_PARTS = 10_000;

export async function uploadStream(client: S3Client, target: UploadTarget, body: Readable, size?: number, partBytes = DEFAULT_PART_BYTES): Promise<UploadResult> {
  const base = { Bucket: target.bucket, Key: target.key, ContentType: target.contentType };
  if (size !== undefined && size <= MAX_SINGLE_PUT) {
    const output = await client.send(new PutObjectCommand({ ...base, ...target.condition, Body: body, ContentLength: size }));
    return { output };
  }
  const conditional = target.condition.IfNoneMatch !== undefined || target.condition.IfMatch !== undefined;
  if (conditional && size !== undefined) throw refusal(target.key, `${size} bytes is above S3's 5 GiB single-PUT limit`);
  const part = size === undefined ? partBytes : Math.max(partBytes, Math.ceil(size / (MAX_PARTS - 1)));
  const parts = fixedChunks(body, part);
  const first = await parts.next();
  const firstChunk = first.done ? Buffer.alloc(0) : first.value;
  if (firstChunk.length < part) {
    const output = await client.send(new PutObjectCommand({ ...base, ...target.condition, Body: firstChunk, ContentLength: firstChunk.length }));
    return { output };
  }
  if (conditional) {
    body.destroy();
    throw refusal(target.key, `a stream of unknown size longer than ${firstChunk.length} bytes`);
  }
  return multipart(client, target, firstChunk, parts);
}

function refusal(key: string, what: string): NotSupportedError {
  return new NotSupportedError(
    `conditional write of ${key}: ${what} needs a multipart upload, whose condition not every S3 server checks; pass the size (at most 5 GiB) or write it with overwrite`,
  );
}

async function multipart(client: S3Client, target: UploadTarget, firstChunk: Buffer, rest: AsyncGenerator<Buffer>): Promise<UploadResult> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, ContentType: target.contentType }));
  const id = { Bucket: target.bucket, Key: target.key, UploadId };
  try {
    const done: Array<{ PartNumber: number; ETag: string }> = [];
    let chunk: Buffer | undefined = firstChunk;
    while (chunk) {
      if (done.length >= MAX_PARTS) throw new Error(`upload of ${target.key} exceeds ${MAX_PARTS} parts; pass its size`);
      const PartNumber = done.length + 1;
      const out = await client.send(new UploadPartCommand({ ...id, PartNumber, Body: chunk, ContentLength: chunk.length }));
      done.push({ PartNumber, ETag: out.ETag ?? '' });
      const next = await rest.next();
      chunk = next.done ? undefined : next.value;
    }
    const output = await client.send(new CompleteMultipartUploadCommand({ ...id, ...target.condition, MultipartUpload: { Parts: done } }));
    return { output };
  } catch (error) {
    // Best effort: an abandoned upload only costs storage until a lifecycle rule removes it.
    await client.send(new AbortMultipartUploadCommand(id)).catch(() => undefined);
    throw error;
  }
}

/** Re-chunks a byte stream into buffers of exactly `size` bytes (the last may be shorter); holds at most one part. */
async function* fixedChunks(body: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const raw of body) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw as Uint8Array);
    while (pendingBytes + chunk.length >= size) {
      const take = size - pendingBytes;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending, size);
      chunk = chunk.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (chunk.length > 0) {
      pending.push(chunk);
      pendingBytes += chunk.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}
