import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreconditionFailedError, UnavailableError, WriteOutcomeUnknownError } from '../../src/store/errors.js';
import { createFileStore } from '../../src/store/file.js';
import { MemoryStore } from '../../src/store/memory.js';
import { assertStoreSafe, probeStore, ProbeUnavailableError, UnsafeStoreError, type ProbeReport } from '../../src/store/probe.js';
import { createS3Store } from '../../src/store/s3.js';
import { parseS3Url } from '../../src/store/s3-url.js';
import { overwrite, type PutMode, type Store } from '../../src/store/store.js';
import type { Clock } from '../../src/time/clock.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { systemClock } from '../../src/time/system-clock.js';
import { seededIds, systemIds } from '../../src/util/ids.js';
import { ignoringS3Server, type FakeS3Server } from '../support/fake-s3-server.js';
import { adminClient, describeS3, freshS3Store, s3TestTarget } from '../support/s3.js';
import { faultyStore } from './support/faulty-store.js';
import { testRandom } from '../support/wall-clock.js';

const deps = { clock: systemClock, ids: systemIds };
const byName = (report: ProbeReport) => Object.fromEntries(report.checks.map((c) => [c.name, c.ok]));

/** A store that treats every put as an overwrite: what a fake that ignores conditional headers does. */
function ignoringModes(inner: Store): Store {
  return withPut(inner, `${inner.description} (ignoring put modes)`, (key, body) => inner.put(key, body, overwrite));
}

/** What a versioned bucket on Ceph RGW 16 does (measured): every create wins, every If-Match is refused. */
function likeVersionedRgw(inner: Store): Store {
  return withPut(inner, `${inner.description} (like a versioned RGW bucket)`, (key, body, mode) => {
    if (mode.kind === 'update') return Promise.reject(new PreconditionFailedError(key));
    return inner.put(key, body, overwrite);
  });
}

/** Every conditional write is answered 500 and never lands; reads work. */
function losingWrites(inner: Store): Store {
  return withPut(inner, inner.description, (key, body, mode) =>
    mode.kind === 'overwrite' ? inner.put(key, body, mode) : Promise.reject(new WriteOutcomeUnknownError(key, '500 InternalError')));
}

function withPut(inner: Store, description: string, put: (key: string, body: Uint8Array | string, mode: PutMode) => ReturnType<Store['put']>): Store {
  return {
    description,
    get: (key, options) => inner.get(key, options),
    getStream: (key, options) => inner.getStream(key, options),
    head: (key) => inner.head(key),
    put,
    putStream: (key: string, body: Readable, _mode: PutMode) => inner.putStream(key, body, overwrite),
    delete: (key) => inner.delete(key),
    list: (options) => inner.list(options),
    close: () => inner.close(),
  };
}

/** A manual clock whose sleeps complete at once (advancing it): backoffs cost no real time and are summed in `slept`. */
function instantClock(): Clock & { slept: number } {
  const manual = new ManualClock();
  const clock = {
    slept: 0,
    now: () => manual.now(),
    monotonic: () => manual.monotonic(),
    sleep: async (ms: number) => {
      clock.slept += ms;
      await manual.advance(ms);
    },
  };
  return clock;
}

const SEEDS = Array.from({ length: 50 }, (_, i) => i + 1);
const RATES = [0.05, 0.2];

describe('capability probe', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'probe-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trusts the memory and file stores, and leaves no probe object behind', async () => {
    for (const store of [new MemoryStore({ clock: systemClock, latencyMs: () => testRandom() * 2 }), createFileStore(dir, { clock: systemClock })]) {
      const report = await assertStoreSafe(store, deps);
      expect(report.ok, store.description).toBe(true);
      expect(report.checks.map((c) => c.name)).toEqual([
        'create-if-absent', 'concurrent-creates', 'etag-quoting', 'cas-current-etag', 'cas-stale-etag', 'cas-missing-key', 'store-clock', 'latency', 'cleanup',
      ]);
      expect(report.etagQuoting).toBeUndefined();
      expect(report.latencyMs.p50).toBeGreaterThan(0);
      expect((await store.list({ prefix: '_probe/' })).items).toEqual([]);
      await store.close();
    }
  });

  it('refuses a store that ignores the put modes, naming the failed check', async () => {
    const store = ignoringModes(new MemoryStore({ clock: systemClock }));
    const report = await probeStore(store, deps);
    expect(report.ok).toBe(false);
    expect(report.failed?.name).toBe('create-if-absent');
    expect(byName(report)).toMatchObject({ 'create-if-absent': false, 'concurrent-creates': false, 'cas-stale-etag': false, 'cas-missing-key': false, cleanup: true });
    expect(report.checks.find((c) => c.name === 'concurrent-creates')!.detail).toMatch(/^8 of 8 concurrent creates succeeded .*ignores If-None-Match/);
    const error = await assertStoreSafe(store, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeStoreError);
    expect((error as Error).name).toBe('UnsafeStore');
    expect((error as Error).message).toMatch(
      /^store memory: \(ignoring put modes\) cannot be trusted with leases: check create-if-absent failed \(a create of an existing key succeeded: the store ignores If-None-Match; on Ceph RGW a bucket with versioning enabled does this: use an unversioned bucket\); use a store that honours conditional writes/,
    );
    expect((error as Error).message).not.toMatch(/\n/);
  });

  describe('under transient faults (5 % and 20 % of requests, 50 seeds each)', () => {
    it('trusts a healthy store every time, retrying each fault and saying so in the details', async () => {
      let retried = 0;
      for (const rate of RATES) {
        for (const seed of SEEDS) {
          const clock = instantClock();
          const memory = new MemoryStore({ clock });
          const store = faultyStore(memory, { seed, rate });
          const report = await assertStoreSafe(store, { clock, ids: seededIds(seed) }).catch((error: unknown) => {
            throw new Error(`seed ${seed} at ${rate}: ${(error as Error).message}`);
          });
          const injected = store.faults.before + store.faults.lost + store.faults.after + store.faults.other;
          // Every injected fault reached the probe as a transient error and was retried: none decided a check.
          expect(report.transientErrors, `seed ${seed} at ${rate}`).toBe(injected);
          for (const check of report.checks) {
            if (check.transientErrors > 0) expect(check.detail).toMatch(new RegExp(`\\(${check.transientErrors} transient errors? retried\\)$`));
          }
          expect((await memory.list({ prefix: '_probe/' })).items, `seed ${seed} at ${rate}`).toEqual([]);
          retried += injected;
        }
      }
      expect(retried).toBeGreaterThan(500);
    });

    it('refuses a store that ignores the put modes every time, naming the check', async () => {
      for (const rate of RATES) {
        for (const seed of SEEDS) {
          const clock = instantClock();
          const store = faultyStore(ignoringModes(new MemoryStore({ clock })), { seed, rate });
          const error = await assertStoreSafe(store, { clock, ids: seededIds(seed) }).catch((e: unknown) => e);
          expect(error, `seed ${seed} at ${rate}: ${(error as Error).message}`).toBeInstanceOf(UnsafeStoreError);
          const report = (error as UnsafeStoreError).report;
          expect(report.failed?.name).toBe('create-if-absent');
          expect(byName(report)).toMatchObject({ 'create-if-absent': false, 'concurrent-creates': false, 'cas-stale-etag': false, 'cas-missing-key': false });
          expect(report.failed?.detail).toMatch(/^a create of an existing key succeeded: the store ignores If-None-Match/);
        }
      }
    });

    it('refuses a store that acts like a versioned RGW bucket, naming versioning, every time', async () => {
      for (const seed of SEEDS.slice(0, 20)) {
        const clock = instantClock();
        const store = faultyStore(likeVersionedRgw(new MemoryStore({ clock })), { seed, rate: 0.2 });
        const report = await probeStore(store, { clock, ids: seededIds(seed) });
        expect(report.failed?.name, `seed ${seed}`).toBe('create-if-absent');
        expect(report.failed?.detail).toMatch(/ignores If-None-Match; on Ceph RGW a bucket with versioning enabled does this: use an unversioned bucket/);
        const current = report.checks.find((c) => c.name === 'cas-current-etag')!;
        expect(current.ok).toBe(false);
        expect(current.detail).toMatch(/^a write with the current ETag was refused \(PreconditionFailed\) and the object is unchanged: compare-and-swap cannot work; on Ceph RGW a bucket with versioning enabled/);
        // The stale-ETag check still means something: the first ETag was made stale by an overwrite.
        expect(byName(report)).toMatchObject({ 'concurrent-creates': false, 'cas-stale-etag': true, 'cas-missing-key': true, cleanup: true });
      }
    });

    it('a store that is down for good: "unavailable" after a few seconds of retries, never an unsafe verdict', async () => {
      for (const down of [(m: Store) => faultyStore(m, { seed: 1, rate: 1 }), losingWrites]) {
        const clock = instantClock();
        const memory = new MemoryStore({ clock });
        const error = await assertStoreSafe(down(memory), { clock, ids: seededIds(7) }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ProbeUnavailableError);
        expect(error).toBeInstanceOf(UnavailableError);
        expect(error).not.toBeInstanceOf(UnsafeStoreError);
        expect((error as UnavailableError).retryable).toBe(true);
        expect((error as Error).name).toBe('Unavailable');
        expect((error as Error).message).toMatch(
          /^store memory: is unavailable: (create of|GET) _probe\/\w+\/create got only transient errors in 6 tries \(last: .*\); the capability probe could not finish, which says nothing about whether the store is safe: retry when it answers$/,
        );
        expect((error as Error).message).not.toMatch(/\n|cannot be trusted/);
        // Bounded: 5 capped, jittered backoffs, then one try at cleanup.
        expect(clock.slept).toBeGreaterThan(1_000);
        expect(clock.slept).toBeLessThan(3_000);
      }
    });
  });

  describe('store clock', () => {
    const probeWithSkew = async (skewMs: number): Promise<ProbeReport> => {
      const storeClock = instantClock();
      const hostClock: Clock = { now: () => storeClock.now() - skewMs, monotonic: () => storeClock.monotonic(), sleep: (ms) => storeClock.sleep(ms) };
      return probeStore(new MemoryStore({ clock: storeClock }), { clock: hostClock, ids: seededIds(3) });
    };

    it('trusts a host 10 minutes off either way (600.x s on a store with one-second dates), and says what breaks later', async () => {
      for (const skew of [600_900, -600_900, 12 * 60_000]) {
        const report = await probeWithSkew(skew);
        expect(report.ok, String(skew)).toBe(true);
        const clock = report.checks.find((c) => c.name === 'store-clock')!;
        expect(clock.detail).toMatch(/^store clock 1[02]\.0 min (ahead of|behind) this host's \(leases never depend on it; S3 refuses requests 15 minutes off and this probe past 13: set this host's clock with NTP\)$/);
      }
      expect((await probeWithSkew(400)).checks.find((c) => c.name === 'store-clock')!.detail).toBe("store clock <1 s ahead of this host's (leases never depend on it)");
    });

    it('refuses a host more than 13 minutes off, naming RequestTimeTooSkewed', async () => {
      for (const skew of [13 * 60_000 + 1_000, -14 * 60_000]) {
        const report = await probeWithSkew(skew);
        expect(report.failed?.name).toBe('store-clock');
        expect(report.failed?.detail).toMatch(/^store clock 1[34]\.0 min (ahead of|behind) this host's, past the 13-minute limit: S3 refuses every request signed 15 minutes off \(RequestTimeTooSkewed\)/);
      }
    });
  });

  describe('over HTTP', () => {
    let fake: FakeS3Server;
    beforeAll(async () => {
      fake = await ignoringS3Server();
    });
    afterAll(() => fake.close());

    it('refuses an S3 server that ignores If-None-Match and If-Match (the s3rver family), through the real S3 backend', async () => {
      const store = createS3Store(parseS3Url(`s3://bucket/p?endpoint=${fake.endpoint}`), { clock: systemClock, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      const report = await probeStore(store, deps);
      await store.close();
      expect(report.ok).toBe(false);
      expect(report.failed?.name).toBe('create-if-absent');
      expect(byName(report)['concurrent-creates']).toBe(false);
      expect(byName(report)['cas-stale-etag']).toBe(false);
      // the backend did send the conditions; the server ignored them
      expect(fake.requests.filter((r) => r.ifNoneMatch === '*').length).toBeGreaterThanOrEqual(9);
      expect(fake.requests.some((r) => r.ifMatch !== undefined)).toBe(true);
    });
  });
});

describeS3('capability probe on RGW', () => {
  it('trusts RGW under injected transient faults', async () => {
    const s3 = await freshS3Store('probe-faults');
    try {
      for (const seed of [1, 2, 3]) {
        const store = faultyStore(s3.store, { seed, rate: 0.1 });
        const report = await assertStoreSafe(store, { clock: systemClock, ids: seededIds(seed) });
        expect(report.ok).toBe(true);
      }
      expect((await s3.store.list({ prefix: '' })).items).toEqual([]);
    } finally {
      await s3.cleanup();
    }
  });

  it.skipIf(!ownBuckets())('refuses a bucket with versioning enabled, and the message names versioning', async () => {
    const target = s3TestTarget();
    if (!target.ok) throw new Error(target.reason);
    const admin = adminClient(target.target);
    const bucket = `t-probe-versioned-${systemIds.ulid().slice(-8).toLowerCase()}`;
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    try {
      await admin.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      const params = new URLSearchParams({ region: target.target.region, ...(target.target.endpoint ? { endpoint: target.target.endpoint } : {}) });
      const store = createS3Store(parseS3Url(`s3://${bucket}/p?${params.toString()}`), {
        clock: systemClock,
        credentials: { accessKeyId: target.target.accessKeyId, secretAccessKey: target.target.secretAccessKey },
      });
      const error = await assertStoreSafe(store, deps).catch((e: unknown) => e);
      await store.close();
      expect(error).toBeInstanceOf(UnsafeStoreError);
      const report = (error as UnsafeStoreError).report;
      expect(report.failed?.name).toBe('create-if-absent');
      expect((error as Error).message).toMatch(/check create-if-absent failed \(a create of an existing key succeeded: the store ignores If-None-Match; on Ceph RGW a bucket with versioning enabled does this: use an unversioned bucket\)/);
      expect(byName(report)).toMatchObject({ 'concurrent-creates': false, 'etag-quoting': false, 'cas-current-etag': false, cleanup: true });
      for (const name of ['etag-quoting', 'cas-current-etag'] as const) {
        expect(report.checks.find((c) => c.name === name)!.detail).toMatch(/refused a compare-and-swap \(If-Match\) with the current ETag.*versioning enabled/);
      }
    } finally {
      await removeVersionedBucket(admin, bucket);
      admin.destroy();
    }
  });

  it('trusts RGW, detects the unquoted ETag form, and cleans up', async () => {
    const s3 = await freshS3Store('probe');
    try {
      const report = await assertStoreSafe(s3.store, deps);
      expect(report.etagQuoting).toBe('unquoted');
      expect(report.checks.every((c) => c.ok)).toBe(true);
      expect(Math.abs(report.clockOffsetMs)).toBeLessThan(60_000);
      expect((await s3.store.list({ prefix: '' })).items).toEqual([]);
    } finally {
      await s3.cleanup();
    }
  });
});

/** The versioned-bucket test creates its own bucket; with a shared REPLAY_S3_BUCKET it cannot turn versioning on. */
function ownBuckets(): boolean {
  const target = s3TestTarget();
  return target.ok && target.target.bucket === undefined;
}

/** A versioned bucket keeps every version and delete marker: remove them all, then the bucket. */
async function removeVersionedBucket(admin: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await admin.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId! }));
    if (objects.length === 0) break;
    await admin.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
  }
  await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
}
