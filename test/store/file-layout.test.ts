import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotSupportedError } from '../../src/store/errors.js';
import { createFileStore, RESERVED_DIR, type FileStore } from '../../src/store/file.js';
import { InvalidKeyError } from '../../src/store/key-check.js';
import { create, isNotModified, overwrite, update } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';

/** What the directory looks like and what the file store refuses. */
describe('file store: on-disk layout', () => {
  let parent: string;
  let root: string;
  let store: FileStore;
  const clock = new ManualClock(Date.UTC(2031, 1, 2));

  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'file-store-layout-'));
    root = join(parent, 'root');
    store = createFileStore(root, { clock });
  });
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('stores key a/b/c at <root>/a/b/c, with the content as is and ETag = sha256 prefix', async () => {
    const put = await store.put('runs/r1/manifest.json', '{"x":1}', create);
    expect(await readFile(join(root, 'runs/r1/manifest.json'), 'utf8')).toBe('{"x":1}');
    expect(put.etag).toBe(createHash('sha256').update('{"x":1}').digest('hex').slice(0, 32));
    expect(put.storeDate.getTime()).toBe(Date.UTC(2031, 1, 2));
  });

  it('refuses keys and prefixes that would escape the root or touch its temp and lock files', async () => {
    for (const key of ['../outside', 'a/../../outside', `${RESERVED_DIR}/locks/x`, RESERVED_DIR]) {
      await expect(store.put(key, 'x', overwrite), key).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.get(key), key).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.delete(key), key).rejects.toBeInstanceOf(InvalidKeyError);
    }
    await expect(store.list({ prefix: '../' })).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await readdir(parent)).toEqual([]); // nothing written, inside the root or beside it
  });

  it('lists files put there by hand (foreign objects) with their hash and mtime', async () => {
    await mkdir(join(root, 'foreign/empty-dir'), { recursive: true });
    await writeFile(join(root, 'foreign/dropped.bin'), 'by hand');
    await utimes(join(root, 'foreign/dropped.bin'), new Date(Date.UTC(2020, 0, 1)), new Date(Date.UTC(2020, 0, 1)));
    const page = await store.list({ prefix: 'foreign/' });
    expect(page.items).toEqual([
      {
        key: 'foreign/dropped.bin',
        etag: createHash('sha256').update('by hand').digest('hex').slice(0, 32),
        size: 7,
        lastModified: new Date(Date.UTC(2020, 0, 1)),
      },
    ]);
  });

  it('never lists its temp and lock directory', async () => {
    await store.put('a', '1', create);
    const { etag } = await store.put('b', '1', create);
    await store.put('b', '2', update(etag)); // takes a lock
    expect((await readdir(root)).sort()).toEqual([RESERVED_DIR, 'a', 'b']);
    expect((await store.list({ prefix: '' })).items.map((i) => i.key)).toEqual(['a', 'b']);
    expect((await store.list({ prefix: '.' })).items).toEqual([]);
    await writeFile(join(root, RESERVED_DIR, 'tmp', 'stray'), 'not an object');
    expect((await store.list({ prefix: `${RESERVED_DIR}/` })).items).toEqual([]);
    expect((await store.list({ prefix: `${RESERVED_DIR}/tmp/` })).items).toEqual([]);
    expect((await store.list({ prefix: '' })).items.map((i) => i.key)).toEqual(['a', 'b']);
  });

  it('sees changes made by another process or instance (the ETag cache follows the file)', async () => {
    const other = createFileStore(root, { clock });
    const v1 = await store.put('k', 'one', create);
    expect((await other.head('k')).etag).toBe(v1.etag);
    const v2 = await other.put('k', 'two', update(v1.etag));
    expect((await store.head('k')).etag).toBe(v2.etag);
    await writeFile(join(root, 'k'), 'edited in place');
    const edited = createHash('sha256').update('edited in place').digest('hex').slice(0, 32);
    expect((await store.head('k')).etag).toBe(edited);
    const got = await store.get('k', { ifNoneMatch: v2.etag });
    expect(isNotModified(got)).toBe(false);
  });

  it('cannot hold an object and keys below it at once, and says so', async () => {
    await store.put('a', 'file', create);
    await expect(store.put('a/b', 'below', create)).rejects.toBeInstanceOf(NotSupportedError);
    await store.put('d/e', 'below', create);
    await expect(store.put('d', 'file', create)).rejects.toBeInstanceOf(NotSupportedError);
    await expect(store.put('d', 'file', overwrite)).rejects.toBeInstanceOf(NotSupportedError);
    await expect(store.get('d')).rejects.toMatchObject({ name: 'NotFound' });
  });
});
