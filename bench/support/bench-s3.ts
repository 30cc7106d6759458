import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createFileStore } from '../../src/store/file.js';
import { createS3Store } from '../../src/store/s3.js';
import { formatS3Url, parseS3Url } from '../../src/store/s3-url.js';
import type { Store } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import type { RunningRgw } from '../../test/support/rgw.js';
import { resolveS3Target, type S3TestTarget } from '../../test/support/s3-target.js';
import { s3ChildEnv } from '../../test/support/s3.js';

/** A store a benchmark's child processes can share: its URL, their environment, and a Store for the bench itself. */
export interface BenchTarget {
  kind: 's3' | 'file';
  url: string;
  env: Record<string, string>;
  store: Store;
  description: string;
}

export interface BenchStores {
  /** A fresh, empty store (a new bucket on S3, a new directory on file). */
  fresh(label: string): Promise<BenchTarget>;
  close(): Promise<void>;
}

/**
 * BENCH_STORE=s3 (default): the S3 server the tests would use
 * (REPLAY_S3_ENDPOINT..., else a throwaway Ceph RGW started here, see
 * test/support/s3-target.ts); BENCH_STORE=file: local directories.
 */
export async function openBenchStores(kind = process.env.BENCH_STORE ?? 's3'): Promise<BenchStores> {
  if (kind === 'file') return fileStores();
  if (kind !== 's3') throw new Error(`BENCH_STORE must be s3 or file, not ${kind}`);
  const { availability, rgw } = await resolveS3Target((line) => process.stderr.write(`# ${line}\n`));
  if (!availability.ok) throw new Error(`no S3 server for the benchmark: ${availability.reason} (BENCH_STORE=file measures the file store)`);
  return s3Stores(availability.target, rgw);
}

function s3Stores(target: S3TestTarget, rgw: RunningRgw | undefined): BenchStores {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // we run on Node 20 knowingly
  const admin = new S3Client({
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    forcePathStyle: target.endpoint !== undefined,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  });
  const stores: Store[] = [];
  return {
    async fresh(label) {
      const id = randomBytes(4).toString('hex');
      const bucket = target.bucket ?? `bench-${label}-${id}`;
      const prefix = target.bucket ? `bench-${label}-${id}` : '';
      if (!target.bucket) await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      const params = new URLSearchParams({ region: target.region, ...(target.endpoint ? { endpoint: target.endpoint } : {}) });
      const location = parseS3Url(`s3://${bucket}/${prefix}?${params.toString()}`);
      const store = createS3Store(location, { clock: systemClock, credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey } });
      stores.push(store);
      return { kind: 's3', url: formatS3Url(location), env: s3ChildEnv(target), store, description: rgw ? 'Ceph RGW (memstore, 127.0.0.1)' : `S3 ${target.endpoint ?? 'AWS'}` };
    },
    async close() {
      await Promise.all(stores.map((s) => s.close()));
      admin.destroy();
      await rgw?.stop();
    },
  };
}

function fileStores(): BenchStores {
  const dirs: string[] = [];
  return {
    async fresh(label) {
      const dir = await mkdtemp(join(tmpdir(), `bench-${label}-`));
      dirs.push(dir);
      return { kind: 'file', url: `file://${dir}`, env: {}, store: createFileStore(dir, { clock: systemClock }), description: 'file store (local directory)' };
    },
    async close() {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}
