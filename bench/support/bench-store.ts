import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createFileStore } from '../../src/store/file.js';
import type { Store } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { createS3Store } from '../../src/store/s3.js';
import { parseS3Url } from '../../src/store/s3-url.js';
import { createBucket, sdkDownload, type S3Endpoint } from './sdk-baseline.js';

/** The store a benchmark runs against, plus the baseline "plain download" of the same object. */
export interface BenchStore {
  store: Store;
  description: string;
  /** The reference download: the SDK's GetObject for S3, a file copy for the file store. */
  plainDownload(key: string, target: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBenchStore(kind: string, dir: string): Promise<BenchStore> {
  if (kind === 'file') {
    await mkdir(dir, { recursive: true });
    const store = createFileStore(dir, { clock: systemClock });
    return {
      store,
      description: 'file (local directory)',
      plainDownload: (key, target) => pipeline(createReadStream(`${dir}/${key}`), createWriteStream(target)),
      close: () => store.close(),
    };
  }
  if (kind === 's3') {
    const env = process.env;
    if (!env.RGW_ENDPOINT || !env.RGW_ACCESS_KEY || !env.RGW_SECRET_KEY) {
      throw new Error('BENCH_STORE=s3 needs RGW_ENDPOINT, RGW_ACCESS_KEY and RGW_SECRET_KEY of a running S3 endpoint (e.g. from ceph-rgw-start.sh)');
    }
    const endpoint: S3Endpoint = {
      endpoint: env.RGW_ENDPOINT,
      accessKeyId: env.RGW_ACCESS_KEY,
      secretAccessKey: env.RGW_SECRET_KEY,
      region: env.RGW_REGION ?? 'us-east-1',
      bucket: `bench-runner-${process.pid}`,
    };
    await createBucket(endpoint);
    const store = createS3Store(parseS3Url(`s3://${endpoint.bucket}/?endpoint=${endpoint.endpoint}&region=${endpoint.region}`), {
      clock: systemClock,
      credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
    });
    return {
      store,
      description: store.description,
      plainDownload: (key, target) => sdkDownload(endpoint, key, target),
      close: () => store.close(),
    };
  }
  throw new Error(`unknown BENCH_STORE ${kind}; use s3 or file`);
}
