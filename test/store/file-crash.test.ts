import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/store/errors.js';
import { createFileStore, lockFileName, RESERVED_DIR } from '../../src/store/file.js';
import { create, isNotModified, overwrite, update, type Store } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { killHard, spawnHolder } from './support/spawn-holder.js';

/** Crash safety of the file store, with real processes killed by SIGKILL. */
describe('file store: crashed writers', () => {
  let root: string;
  let holder: ChildProcess | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'file-store-crash-'));
  });
  afterEach(async () => {
    if (holder) await killHard(holder);
    holder = undefined;
    await rm(root, { recursive: true, force: true });
  });

  it('a writer killed while holding a key lock does not block the key: the next CAS steals the lock', async () => {
    const store = createFileStore(root, { clock: systemClock, lockWaitMs: 300 });
    const { etag } = await store.put('k', 'v1', create);
    holder = await spawnHolder('hold-lock', root, 'k', 'locked');

    // While the holder lives, its lock is honoured: a CAS waits, then gives up as retryable.
    await expect(store.put('k', 'v2', update(etag))).rejects.toBeInstanceOf(UnavailableError);
    expect(await readdir(join(root, RESERVED_DIR, 'locks'))).toEqual([lockFileName('k')]);

    await killHard(holder);
    // Same bound as above: the dead holder's lock is stolen at once, not after staleLockMs (30 s).
    const v2 = await store.put('k', 'v2', update(etag));
    expect(text(await store.get('k'))).toBe('v2');
    expect((await store.head('k')).etag).toBe(v2.etag);
    expect(await readdir(join(root, RESERVED_DIR, 'locks'))).toEqual([]);
  });

  it('a lock whose owner cannot be judged (another host) is stolen once older than staleLockMs, not before', async () => {
    const store = createFileStore(root, { clock: systemClock, lockWaitMs: 300, staleLockMs: 60_000 });
    const { etag } = await store.put('k', 'v1', create);
    const lockPath = join(root, RESERVED_DIR, 'locks', lockFileName('k'));
    const foreign = { pid: process.pid, host: 'another-host', token: 'foreign' };
    await writeFile(lockPath, JSON.stringify({ ...foreign, createdAt: systemClock.now() - 1_000 }));
    await expect(store.put('k', 'v2', update(etag))).rejects.toBeInstanceOf(UnavailableError);
    await writeFile(lockPath, JSON.stringify({ ...foreign, createdAt: systemClock.now() - 61_000 }));
    await store.put('k', 'v2', update(etag));
    expect(text(await store.get('k'))).toBe('v2');
  });

  it('a writer killed mid-stream leaves no object and no listed temp file; the next writer sweeps its temp file', async () => {
    const store: Store = createFileStore(root, { clock: systemClock });
    await store.put('before', 'x', create);
    holder = await spawnHolder('stall-stream', root, 'big', 'streaming');
    const tmpDir = join(root, RESERVED_DIR, 'tmp');
    expect(await readdir(tmpDir)).toHaveLength(1);
    expect((await store.list({ prefix: '' })).items.map((i) => i.key)).toEqual(['before']);
    await expect(store.head('big')).rejects.toMatchObject({ name: 'NotFound' });

    await killHard(holder);
    expect((await store.list({ prefix: '' })).items.map((i) => i.key)).toEqual(['before']);
    const next = createFileStore(root, { clock: systemClock });
    await next.put('after', 'y', overwrite);
    expect(await readdir(tmpDir)).toEqual([]);
    expect((await next.list({ prefix: '' })).items.map((i) => i.key)).toEqual(['after', 'before']);
  });
});

function text(result: Awaited<ReturnType<Store['get']>>): string {
  if (isNotModified(result)) throw new Error('unexpected NotModified');
  return Buffer.from(result.body).toString('utf8');
}
