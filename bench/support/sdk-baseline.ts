import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PutMode, Store, StreamedObject } from '../../src/store/store.js';

/**
 * STOPGAP until src/store/s3.ts lands: the few Store calls the runner bench
 * makes (getStream, putStream, delete), straight on the AWS SDK, so the
 * runner's fetch path can be measured on a real S3 endpoint. Swap for the
 * real S3 backend when it exists; nothing else uses this.
 */
export interface S3Endpoint {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  bucket: string;
}

export function s3Client(e: S3Endpoint): S3Client {
  return new S3Client({
    endpoint: e.endpoint,
    region: e.region,
    forcePathStyle: true,
    // The SDK's default streaming CRC trailer (aws-chunked) gets 411 from RGW.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey },
  });
}

export async function createBucket(e: S3Endpoint): Promise<void> {
  await s3Client(e).send(new CreateBucketCommand({ Bucket: e.bucket }));
}

export function sdkStore(e: S3Endpoint): Store {
  const client = s3Client(e);
  const notUsed = (): never => {
    throw new Error('not used by the runner bench');
  };
  const store = {
    description: `s3 (SDK stopgap) ${e.endpoint}/${e.bucket}`,
    async getStream(key: string, options?: { signal?: AbortSignal }): Promise<StreamedObject> {
      const out = await client.send(new GetObjectCommand({ Bucket: e.bucket, Key: key }), { abortSignal: options?.signal });
      return {
        key,
        etag: String(out.ETag ?? '').replace(/"/g, ''),
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified ?? new Date(0),
        storeDate: new Date(0),
        body: out.Body as Readable,
      };
    },
    async putStream(key: string, body: Readable, _mode: PutMode, options?: { size?: number }) {
      const out = await client.send(new PutObjectCommand({ Bucket: e.bucket, Key: key, Body: body, ContentLength: options?.size }));
      return { etag: String(out.ETag ?? '').replace(/"/g, ''), storeDate: new Date(0) };
    },
    async delete(key: string) {
      await client.send(new DeleteObjectCommand({ Bucket: e.bucket, Key: key }));
    },
    async close() {
      client.destroy();
    },
    get: notUsed,
    head: notUsed,
    put: notUsed,
    list: notUsed,
  };
  return store as Store;
}

/** The baseline: a plain SDK GetObject streamed to a file. */
export async function sdkDownload(e: S3Endpoint, key: string, target: string): Promise<void> {
  const client = s3Client(e);
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: e.bucket, Key: key }));
    await pipeline(out.Body as Readable, createWriteStream(target));
  } finally {
    client.destroy();
  }
}
