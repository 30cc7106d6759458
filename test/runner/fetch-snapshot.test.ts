import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotCache } from '../../src/runner/nodeos/fetch-snapshot.js';
import { RunnerFailure } from '../../src/runner/runner.js';
import { createMemoryStore, type MemoryStore } from '../../src/store/memory.js';
import { overwrite } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { fakeSnapshot, sha256, zstdCompress } from './support/nodeos-world.js';

/** The snapshot cache: streamed zstd decompression, sha256 check, sharing and trimming. */
let dir: string;
let store: MemoryStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapshot-cache-'));
  store = createMemoryStore({ clock: systemClock });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(block: number, padding = 0): Promise<{ key: string; sha256: string; plain: Buffer }> {
  const plain = fakeSnapshot(block, 'c', padding);
  const body = await zstdCompress(plain);
  const key = `snapshots/s-${block}.bin.zst`;
  await store.put(key, body, overwrite);
  return { key, sha256: sha256(body), plain };
}

describe('snapshot cache', () => {
  it('decompresses on the fly to exactly the original bytes; concurrent fetches share one download', async () => {
    const snap = await put(100, 3 << 20);
    const cache = new SnapshotCache(join(dir, 'cache'), 2, { store, clock: systemClock });
    const signal = new AbortController().signal;
    const [a, b] = await Promise.all([cache.fetch(snap, signal), cache.fetch(snap, signal)]);
    expect(a.path).toBe(b.path);
    expect([a.downloaded, b.downloaded].sort()).toEqual([false, true]);
    expect(store.counters.getStream).toBe(1);
    expect((await readFile(a.path)).equals(snap.plain)).toBe(true);
  });

  it('decompresses snapshots bigger than any output buffer (regression: execa maxBuffer killed zstd at 100 MB)', async () => {
    const snap = await put(100, 150 << 20);
    const cache = new SnapshotCache(join(dir, 'cache'), 2, { store, clock: systemClock });
    const got = await cache.fetch(snap, new AbortController().signal);
    expect((await stat(got.path)).size).toBe(snap.plain.length);
  });

  it('when the item that started a shared download is aborted, the other still gets the snapshot', async () => {
    const snap = await put(100, 8 << 20);
    const cache = new SnapshotCache(join(dir, 'cache'), 2, { store, clock: systemClock });
    const first = new AbortController();
    const one = cache.fetch(snap, first.signal).then(() => 'ok', (e: unknown) => e);
    const two = cache.fetch(snap, new AbortController().signal);
    first.abort(new Error('lease lost'));
    expect(((await one) as Error).message).toBe('lease lost');
    const got = await two;
    expect((await readFile(got.path)).equals(snap.plain)).toBe(true);
  });

  it('keeps only the most recent snapshots not in use, and names a missing one', async () => {
    const cache = new SnapshotCache(join(dir, 'cache'), 2, { store, clock: systemClock });
    const signal = new AbortController().signal;
    const held = await cache.fetch((await put(1)), signal);
    for (const block of [2, 3, 4]) {
      const got = await cache.fetch(await put(block), signal);
      cache.release(got.path);
    }
    const names = await readdir(join(dir, 'cache'));
    expect(names).toHaveLength(3);
    expect(names).toContain(held.path.split('/').pop());
    const missing = await cache.fetch({ key: 'snapshots/none.bin.zst' }, signal).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RunnerFailure);
    expect((missing as RunnerFailure).reason).toBe('missing-snapshot');
  });
});
