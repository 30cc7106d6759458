import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/store/file.js';
import { MemoryStore } from '../../src/store/memory.js';
import { assertStoreSafe, probeStore, UnsafeStoreError, type ProbeReport } from '../../src/store/probe.js';
import { createS3Store } from '../../src/store/s3.js';
import { parseS3Url } from '../../src/store/s3-url.js';
import { overwrite, type PutMode, type Store } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { systemIds } from '../../src/util/ids.js';
import { ignoringS3Server, type FakeS3Server } from '../support/fake-s3-server.js';
import { describeS3, freshS3Store } from '../support/s3.js';

const deps = { clock: systemClock, ids: systemIds };
const byName = (report: ProbeReport) => Object.fromEntries(report.checks.map((c) => [c.name, c.ok]));

/** A store that treats every put as an overwrite: what a fake that ignores conditional headers does. */
function ignoringModes(inner: Store): Store {
  return {
    description: `${inner.description} (ignoring put modes)`,
    get: (key, options) => inner.get(key, options),
    getStream: (key, options) => inner.getStream(key, options),
    head: (key) => inner.head(key),
    put: (key: string, body: Uint8Array | string, _mode: PutMode) => inner.put(key, body, overwrite),
    putStream: (key: string, body: Readable, _mode: PutMode) => inner.putStream(key, body, overwrite),
    delete: (key) => inner.delete(key),
    list: (options) => inner.list(options),
    close: () => inner.close(),
  };
}

describe('capability probe', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'probe-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trusts the memory and file stores, and leaves no probe object behind', async () => {
    for (const store of [new MemoryStore({ clock: systemClock, latencyMs: () => Math.random() * 2 }), createFileStore(dir, { clock: systemClock })]) {
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
    expect((error as Error).message).toMatch(/^store memory: \(ignoring put modes\) cannot be trusted with leases: check create-if-absent failed \(a create of an existing key succeeded: the store ignores If-None-Match\); use a store that honours conditional writes/);
    expect((error as Error).message).not.toMatch(/\n/);
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
