/**
 * Issue 19, part 3: an observer whose store does not answer said "No runs
 * in this store yet" (every run) or showed the run "loading" forever with
 * no problem listed (`--run`). Now the page and /api carry the store error
 * (`storeError`: the one-line error, since when, failures in a row), the
 * observer retries with backoff (1 s doubling, long before the re-sync
 * period), and the last view read stays shown instead of an empty one.
 */
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObserverServer } from '../../src/observer/http/server.js';
import { Observer } from '../../src/observer/observer.js';
import type { StoreErrorInfo } from '../../src/observer/store-trouble.js';
import type { RunStatus } from '../../src/status/index.js';
import { createFileStore, type FileStore } from '../../src/store/file.js';
import { createS3Store } from '../../src/store/s3.js';
import { parseS3Url } from '../../src/store/s3-url.js';
import { systemClock } from '../../src/time/system-clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { ObserverProcess } from '../observer/support/observer-process.js';
import { closedPort } from '../support/closed-port.js';
import { ignoringS3Server, scriptedS3Server } from '../support/fake-s3-server.js';
import { until } from '../support/until.js';
import { RunFixture } from '../status/support/run-fixture.js';

type StatusWithError = RunStatus & { storeError: StoreErrorInfo | null };
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' };

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  return { status: response.status, body: (await response.json()) as T };
}

describe('the observer on an S3 endpoint nothing listens on', () => {
  let storeUrl: string;
  beforeAll(async () => {
    storeUrl = `s3://bucket/prefix?endpoint=http://127.0.0.1:${await closedPort()}&region=us-east-1`;
  });

  it('with --run: /api and the page show the store error and since when, and it keeps retrying with backoff', async () => {
    const observer = new ObserverProcess();
    // A re-sync period of 10 minutes: every retry seen here comes from the backoff.
    await observer.start(['--store', storeUrl, '--run', 'r1', '--no-gossip', '--resync-ms', '600000'], CREDENTIALS);
    try {
      const first = await until(() => getJson<StatusWithError>(`${observer.url}/api/runs/r1`), (r) => r.body.storeError !== null, 'a store error', 60_000);
      expect(first.status).toBe(200);
      const error = first.body.storeError!;
      expect(error.message).toMatch(/^Unavailable: cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
      expect(error.message).not.toContain('\n');
      expect(Date.parse(error.since)).not.toBeNaN();
      const later = await until(() => getJson<StatusWithError>(`${observer.url}/api/runs/r1`), (r) => (r.body.storeError?.failures ?? 0) >= 3, 'three failed tries', 90_000);
      expect(later.body.storeError!.since).toBe(error.since); // one outage, one start
      const page = await (await fetch(`${observer.url}/runs/r1`)).text();
      expect(page).toContain('The store does not answer (since');
      expect(page).toContain('cannot reach the S3 endpoint');
      const metrics = await (await fetch(`${observer.url}/metrics`)).text();
      expect(metrics).toContain('\nreplay_observer_store_up 0\n');
    } finally {
      await observer.stop();
    }
  });

  it('for every run: the run list says the store cannot be listed (503 on /api/runs), never "no runs yet"', async () => {
    const observer = new ObserverProcess();
    await observer.start(['--store', storeUrl, '--no-gossip'], CREDENTIALS);
    try {
      const runs = await until(() => getJson<{ runs: unknown[]; storeError: StoreErrorInfo | null }>(`${observer.url}/api/runs`), (r) => r.status === 503, 'a 503', 60_000);
      expect(runs.body.runs).toEqual([]);
      expect(runs.body.storeError!.message).toContain('cannot reach the S3 endpoint');
      const page = await (await fetch(`${observer.url}/`)).text();
      expect(page).toContain('The store does not answer (since');
      expect(page).toContain('cannot be listed until it answers');
      expect(page).not.toContain('No runs in this store yet');
    } finally {
      await observer.stop();
    }
  });
});

describe('the observer on an S3 endpoint that stops answering', () => {
  const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };

  it('before the first load: the API waits (bounded), then says "loading" (503), then shows the timeout as the store error', async () => {
    const silent = await scriptedS3Server(() => ({ status: 200, silent: true }));
    const store = createS3Store(parseS3Url(`s3://bucket/p?endpoint=${silent.endpoint}&timeoutMs=2000`), { clock: systemClock, credentials, maxAttempts: 1 });
    const observer = new Observer({ store, clock: systemClock, logger: silentLogger, observer: 'obs-silent', runs: ['r1'], live: { resyncMs: 600_000 } });
    const server = new ObserverServer({ observer, clock: systemClock, host: '127.0.0.1', port: 0, logger: silentLogger, firstLoadWaitMs: 500 });
    try {
      observer.start();
      const base = await server.start();
      const early = await getJson<{ run: string; loading: boolean }>(`${base}/api/runs/r1`);
      expect(early).toEqual({ status: 503, body: { run: 'r1', loading: true, storeError: null } });
      expect(await (await fetch(`${base}/runs/r1`)).text()).toContain('Reading the run from the store');
      const failed = await until(() => getJson<StatusWithError>(`${base}/api/runs/r1`), (r) => r.body.storeError !== null, 'the timeout as a store error', 60_000);
      expect(failed.body.storeError!.message).toMatch(/^Unavailable: cannot reach the S3 endpoint .*timed out/);
    } finally {
      await server.stop();
      await observer.stop();
      await silent.close();
      await store.close();
    }
  });

  it('after it answered: the last view stays with the error, and an item page is a one-line 503 naming it', async () => {
    const fake = await ignoringS3Server();
    const store = createS3Store(parseS3Url(`s3://bucket/p?endpoint=${fake.endpoint}&timeoutMs=5000`), { clock: systemClock, credentials, maxAttempts: 1 });
    const run = new RunFixture(store, 'r1');
    await run.publish({ count: 4 });
    const items = run.itemIds();
    await run.done(items[0]!);
    const observer = new Observer({ store, clock: systemClock, logger: silentLogger, observer: 'obs-s3', runs: ['r1'], live: { resyncMs: 600_000, nodesMs: 1_000, throttleMs: 20 } });
    const server = new ObserverServer({ observer, clock: systemClock, host: '127.0.0.1', port: 0, logger: silentLogger });
    try {
      observer.start();
      await observer.loaded();
      const base = await server.start();
      expect((await getJson<StatusWithError>(`${base}/api/runs/r1`)).body).toMatchObject({ items: { done: 1 }, storeError: null });
      await fake.close();
      const down = await until(() => getJson<StatusWithError>(`${base}/api/runs/r1`), (r) => r.body.storeError !== null, 'the store error', 60_000);
      expect(down.body.storeError!.message).toContain('cannot reach the S3 endpoint');
      expect(down.body).toMatchObject({ items: { done: 1 } });
      const item = await fetch(`${base}/api/runs/r1/items/${items[1]}`);
      expect(item.status).toBe(503);
      expect(await item.text()).toMatch(/^the store does not answer: Unavailable: cannot reach the S3 endpoint .*; the observer keeps retrying\n$/);
    } finally {
      await server.stop();
      await observer.stop();
      await store.close();
    }
  });
});

describe('the observer on a file store whose root disappears', () => {
  let parent: string;
  let root: string;
  let store: FileStore;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'observer-gone-'));
    root = join(parent, 'store');
    store = createFileStore(root, { clock: systemClock });
    const run = new RunFixture(store, 'r1');
    await run.publish({ count: 6 });
    for (const item of run.itemIds().slice(0, 3)) await run.done(item);
    await run.node('n1', { staleAfterMs: 600_000 });
  });
  afterAll(async () => {
    await store?.close();
    await rm(parent, { recursive: true, force: true });
  });

  it('keeps the last view with the error ("manifest gone"), and clears it when the root is back', async () => {
    const observer = new Observer({ store, clock: systemClock, logger: silentLogger, observer: 'obs-gone', runs: ['r1'], live: { resyncMs: 600_000, nodesMs: 1_000, throttleMs: 20 } });
    const server = new ObserverServer({ observer, clock: systemClock, host: '127.0.0.1', port: 0, logger: silentLogger });
    try {
      observer.start();
      await observer.loaded();
      const base = await server.start();
      const api = `${base}/api/runs/r1`;
      expect((await getJson<StatusWithError>(api)).body).toMatchObject({ items: { done: 3 }, storeError: null });

      await rename(root, `${root}.unmounted`);
      const gone = await until(() => getJson<StatusWithError>(api), (r) => r.body.storeError !== null, 'the store error', 60_000);
      expect(gone.body.storeError!.message).toBe(
        'ManifestGone: runs/r1/manifest.json is gone from the store, though it was read before: the store is unmounted, emptied or not the one the run was published to; showing what was last read',
      );
      // The last view, not "everything pending, no nodes".
      expect(gone.body).toMatchObject({ items: { done: 3, pending: 3 }, nodes: [{ node: 'n1' }] });
      expect(await (await fetch(`${base}/runs/r1`)).text()).toContain('is gone from the store');

      await rename(`${root}.unmounted`, root);
      const back = await until(() => getJson<StatusWithError>(api), (r) => r.body.storeError === null, 'the store error cleared', 90_000);
      expect(back.body).toMatchObject({ items: { done: 3 } });
    } finally {
      await server.stop();
      await observer.stop();
    }
  });
});
