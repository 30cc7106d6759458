/**
 * The S3 test helper: a real S3 server (Ceph RGW started by the global
 * setup, or REPLAY_S3_ENDPOINT; see s3-target.ts) for any suite that needs
 * one: store, lease, node and manifest tests alike.
 *
 *   import { describeS3, freshS3Store } from '../support/s3.js';
 *
 *   describeS3('leases on RGW', () => {
 *     let s3: S3TestStore;
 *     beforeAll(async () => { s3 = await freshS3Store('leases'); });
 *     afterAll(() => s3.cleanup());
 *     it('...', async () => {
 *       await s3.store.put('k', 'v', create);                    // a real S3Store
 *       await execa('node', [cli, '--store', s3.url], { env: s3.env }); // a child opens the same store
 *     });
 *   });
 *
 * - `s3TestTarget()`: the run's S3 server (endpoint, region, keys) or the
 *   reason there is none.
 * - `describeS3(name, fn)`: `describe`, or, without S3, a skipped suite whose
 *   name carries the reason (the global setup also says it loudly, and with
 *   REPLAY_REQUIRE_S3=1 fails the run instead).
 * - `freshS3Store(label)`: a new empty bucket (or a new prefix in
 *   REPLAY_S3_BUCKET), as `{ store, url, env, bucket, prefix, cleanup }`.
 *   `reopen(subPrefix)` opens another client on the same bucket (optionally
 *   a fresh sub-prefix, synchronously: one bucket can serve many tests).
 *   `url` is the `s3://` store URL; `env` is what a spawned CLI needs to open
 *   it: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and
 *   AWS_EC2_METADATA_DISABLED=true (so no SDK ever asks an instance-metadata
 *   address for credentials). Pass it as the child's env, merged over
 *   process.env.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { describe, inject } from 'vitest';
import { createS3Store, type S3Store } from '../../src/store/s3.js';
import { formatS3Url, parseS3Url, type S3Location } from '../../src/store/s3-url.js';
import { systemClock } from '../../src/time/system-clock.js';
import type { S3Availability, S3TestTarget } from './s3-target.js';

export type { S3Availability, S3TestTarget } from './s3-target.js';

export function s3TestTarget(): S3Availability {
  return inject('s3');
}

/** A describe block that runs only with an S3 server; otherwise skipped with the reason in its name. */
export function describeS3(name: string, fn: () => void): void {
  const s3 = s3TestTarget();
  if (s3.ok) describe(name, fn);
  else describe.skip(`${name} [SKIPPED: no S3 server: ${s3.reason}]`, fn);
}

export interface S3TestStore {
  store: S3Store;
  /** The store URL, as a user would pass it to --store. */
  url: string;
  /** Environment a child process needs to open `url` (merge over process.env). */
  env: Record<string, string>;
  bucket: string;
  /** '' or ends with '/'. */
  prefix: string;
  location: S3Location;
  target: S3TestTarget;
  /**
   * Another client of the same bucket (as another process would open it),
   * optionally at `subPrefix` below this store's prefix; closed by cleanup.
   */
  reopen(subPrefix?: string): { store: S3Store; url: string };
  /** Deletes what the test wrote (and the bucket, if the helper created it); closes the store. */
  cleanup(): Promise<void>;
}

/** Environment for a child process to use `target`'s keys through the standard AWS chain. */
export function s3ChildEnv(target: S3TestTarget): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: target.accessKeyId,
    AWS_SECRET_ACCESS_KEY: target.secretAccessKey,
    AWS_REGION: target.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** An SDK client with the target's keys, for test set-up that goes around the Store (creating buckets). */
export function adminClient(target: S3TestTarget): S3Client {
  return new S3Client({
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    forcePathStyle: target.endpoint !== undefined,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  });
}

/** A fresh, empty store on the run's S3 server: a new bucket, or a new prefix in REPLAY_S3_BUCKET. */
export async function freshS3Store(label = 'test', options: { prefix?: string } = {}): Promise<S3TestStore> {
  const s3 = s3TestTarget();
  if (!s3.ok) throw new Error(`freshS3Store: no S3 server (${s3.reason}); wrap the suite in describeS3`);
  const target = s3.target;
  const id = randomBytes(5).toString('hex');
  const slug = label.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30);
  const ownBucket = target.bucket === undefined;
  const bucket = target.bucket ?? `t-${slug}-${id}`.replace(/-+/g, '-');
  const prefix = ownBucket ? (options.prefix ?? '') : `${options.prefix ?? ''}t-${slug}-${id}/`;
  const admin = adminClient(target);
  if (ownBucket) await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  const params = new URLSearchParams({ region: target.region });
  if (target.endpoint) params.set('endpoint', target.endpoint);
  const url = `s3://${bucket}/${prefix.replace(/\/$/, '')}?${params.toString()}`;
  const location = parseS3Url(url);
  const credentials = { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey };
  const store = createS3Store(location, { clock: systemClock, credentials });
  const others: S3Store[] = [];
  return {
    store,
    url: formatS3Url(location),
    env: s3ChildEnv(target),
    bucket,
    prefix,
    location,
    target,
    reopen: (subPrefix = '') => {
      const sub = parseS3Url(url.replace(`s3://${bucket}/${prefix.replace(/\/$/, '')}`, `s3://${bucket}/${(prefix + subPrefix).replace(/\/$/, '')}`));
      const other = createS3Store(sub, { clock: systemClock, credentials });
      others.push(other);
      return { store: other, url: formatS3Url(sub) };
    },
    cleanup: async () => {
      await Promise.all([store, ...others].map((s) => s.close()));
      try {
        await emptyPrefix(admin, bucket, prefix);
        if (ownBucket) await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        admin.destroy();
      }
    },
  };
}

async function emptyPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
}
