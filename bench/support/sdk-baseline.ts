import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * The runner bench's baseline on S3: the plain AWS SDK (GetObject streamed
 * to a file), beside the real S3 backend the runner uses (bench-store.ts).
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
