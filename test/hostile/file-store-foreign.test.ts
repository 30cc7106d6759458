import { mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, NotSupportedError, PreconditionFailedError } from '../../src/store/errors.js';
import { createFileStore, type FileStore } from '../../src/store/file.js';
import type { ForeignReport } from '../../src/store/file-foreign.js';
import { create, isNotModified, overwrite, update, type StoredObject } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { placeForeign, type ForeignKind } from './file-store-support.js';
import { wallTimer } from '../support/wall-clock.js';

/**
 * Issue 19: anything at a key that the file store did not write (a FIFO, a
 * socket, a symbolic link; a directory) is never opened for a blocking
 * read, reads and lists as an empty (corrupt) object and is reported once;
 * a compare-and-swap on its ETag replaces it. Below its root
 * the store follows no link. Real file store on a temp directory.
 */
let parent: string;
let root: string;
let outside: string;
let reports: ForeignReport[];
let store: FileStore;

beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'file-store-foreign-'));
  root = join(parent, 'root');
  outside = join(parent, 'outside.txt');
  reports = [];
  store = createFileStore(root, { clock: systemClock, onForeign: (report) => reports.push(report) });
  await store.put('runs/r/manifest.json', '{}', create); // the root and its reserved directory exist
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

/** A hang here is the bug (a FIFO opened for reading blocks for ever): fail after a generous while instead. */
async function soon<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => (timer = wallTimer(() => reject(new Error(`${what} hung`)), 30_000)));
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const leafKinds: ForeignKind[] = ['FIFO', 'symbolic link', 'socket'];

describe('a FIFO, a socket or a symbolic link at a key', () => {
  for (const kind of leafKinds) {
    it(`${kind}: reads and lists as an empty object without blocking, reported once, replaced by a CAS on its ETag`, async () => {
      const key = 'runs/r/leases/0000000000-0000000100.json';
      const path = join(root, key);
      await placeForeign(kind, path, outside);
      await store.put('runs/r/leases/0000000100-0000000200.json', '{"ok":true}', create);

      const got = (await soon(store.get(key), 'get')) as StoredObject;
      expect(got.size).toBe(0);
      expect(got.body).toHaveLength(0);
      const again = (await soon(store.get(key), 'get')) as StoredObject;
      expect(again.etag).toBe(got.etag);
      expect(isNotModified(await store.get(key, { ifNoneMatch: got.etag }))).toBe(true);
      expect((await soon(store.head(key), 'head')).etag).toBe(got.etag);
      const streamed = await soon(store.getStream(key), 'getStream');
      const chunks: Buffer[] = [];
      for await (const chunk of streamed.body) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks)).toHaveLength(0);

      // Listed as it reads: a listing and a get never disagree about what exists.
      const listed = await soon(store.list({ prefix: 'runs/r/leases/' }), 'list');
      expect(listed.items.map((i) => [i.key, i.size])).toEqual([[key, 0], ['runs/r/leases/0000000100-0000000200.json', 11]]);
      expect(listed.items[0]!.etag).toBe(got.etag);

      expect(reports).toEqual([{ key, path, what: kind, message: expect.stringContaining(`${path} is a ${kind}, not a file the store wrote`) as string }]);
      expect(reports[0]!.message).toBe(`${path} is a ${kind}, not a file the store wrote: it reads as an empty (corrupt) object; remove it (rm ${path})`);

      await expect(store.put(key, '{"new":1}', create)).rejects.toBeInstanceOf(AlreadyExistsError);
      await expect(store.put(key, '{"new":1}', update('0'.repeat(32)))).rejects.toBeInstanceOf(PreconditionFailedError);
      const replaced = await soon(store.put(key, '{"new":1}', update(got.etag)), 'put');
      expect(Buffer.from(((await store.get(key)) as StoredObject).body).toString()).toBe('{"new":1}');
      expect(((await store.get(key)) as StoredObject).etag).toBe(replaced.etag);
      expect((await stat(path)).isFile()).toBe(true);
      if (kind === 'symbolic link') expect(await readFile(outside, 'utf8')).toBe('outside the store\n'); // the link went, its target stayed
      expect(reports).toHaveLength(1);
    });
  }

  it('delete removes the entry itself (never what a link points to)', async () => {
    for (const kind of leafKinds) {
      const key = `runs/r/results/${kind.replace(' ', '-')}.json`;
      await placeForeign(kind, join(root, key), outside);
      await store.delete(key);
      await expect(store.get(key)).rejects.toBeInstanceOf(NotFoundError);
    }
    expect(await readFile(outside, 'utf8')).toBe('outside the store\n');
  });

  it('overwrite replaces it', async () => {
    const key = 'runs/r/nodes/n1.json';
    await placeForeign('FIFO', join(root, key), outside);
    await soon(store.put(key, '{"n":1}', overwrite), 'overwrite');
    expect(Buffer.from(((await store.get(key)) as StoredObject).body).toString()).toBe('{"n":1}');
  });
});

describe('a directory at a key', () => {
  it('an empty one holds nothing: reads say NotFound, a create or an overwrite removes it, reported once', async () => {
    const key = 'runs/r/results/0000000000-0000000100.json';
    const path = join(root, key);
    await placeForeign('directory', path, outside);
    await expect(store.get(key)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.put(key, '{"r":1}', update('0'.repeat(32)))).rejects.toBeInstanceOf(PreconditionFailedError);
    await store.put(key, '{"r":1}', create);
    expect(Buffer.from(((await store.get(key)) as StoredObject).body).toString()).toBe('{"r":1}');
    expect(reports).toEqual([{ key, path, what: 'directory', message: `removed the empty directory ${path}, which stood where the object ${key} is written (nothing was in it)` }]);

    const other = 'runs/r/nodes/n1.json';
    await placeForeign('directory', join(root, other), outside);
    await store.put(other, '{"n":1}', overwrite);
    expect(Buffer.from(((await store.get(other)) as StoredObject).body).toString()).toBe('{"n":1}');
  });

  it('one with entries is keys below the key: the write is refused with one line naming the directory and the fix, nothing is lost', async () => {
    const key = 'runs/r/leases/0000000000-0000000100.json';
    const path = join(root, key);
    await mkdir(join(path, 'inner'), { recursive: true });
    await writeFile(join(path, 'inner', 'kept'), 'kept');
    const refusal = await store.put(key, '{}', create).then(() => undefined, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(NotSupportedError);
    expect((refusal as Error).message).toBe(
      `file store: ${path} is a directory with entries where the object ${key} is written, and a path is either a file or a directory: move it away (mv ${path} ${path}.moved)`,
    );
    await expect(store.put(key, '{}', overwrite)).rejects.toBeInstanceOf(NotSupportedError);
    expect(await readFile(join(path, 'inner', 'kept'), 'utf8')).toBe('kept');
  });
});

describe('symbolic links below the root', () => {
  it('a link to a directory outside the root: no read, write, list or delete goes through it; one line names the link', async () => {
    const elsewhere = join(parent, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'x.json'), 'outside');
    await mkdir(join(root, 'runs/r'), { recursive: true });
    const link = join(root, 'runs/r/results');
    await symlink(elsewhere, link);
    const refused = `file store: ${link} is a symbolic link; the store follows no links below its root`;
    for (const attempt of [
      () => store.get('runs/r/results/x.json'),
      () => store.head('runs/r/results/x.json'),
      () => store.put('runs/r/results/y.json', 'in', create),
      () => store.put('runs/r/results/x.json', 'in', overwrite),
      () => store.delete('runs/r/results/x.json'),
      () => store.list({ prefix: 'runs/r/results/' }),
      () => store.put('runs/r/results/deeper/z.json', 'in', create),
    ]) {
      await expect(attempt()).rejects.toThrow(refused);
    }
    expect(await readFile(join(elsewhere, 'x.json'), 'utf8')).toBe('outside');
    expect((await stat(join(elsewhere, 'y.json')).catch(() => undefined))).toBeUndefined();
    expect((await stat(join(elsewhere, 'deeper')).catch(() => undefined))).toBeUndefined();

    // A listing of the parent shows the link as the empty object it reads as, does not descend into it, and says so once.
    const page = await store.list({ prefix: 'runs/r/' });
    expect(page.items.map((i) => [i.key, i.size])).toEqual([['runs/r/manifest.json', 2], ['runs/r/results', 0]]);
    await store.list({ prefix: 'runs/r/' });
    expect(reports.filter((r) => r.path === link)).toEqual([
      { key: 'runs/r/results', path: link, what: 'linked directory', message: expect.stringContaining('keys under it are not listed') as string },
    ]);
    expect(await readlink(link)).toBe(elsewhere);
  });

  it('the root itself may be a link', async () => {
    const linkedRoot = join(parent, 'root-link');
    await symlink(root, linkedRoot);
    const viaLink = createFileStore(linkedRoot, { clock: systemClock, onForeign: (report) => reports.push(report) });
    await viaLink.put('runs/r/results/a.json', 'a', create);
    expect(Buffer.from(((await viaLink.get('runs/r/results/a.json')) as StoredObject).body).toString()).toBe('a');
    expect((await viaLink.list({ prefix: 'runs/r/results/' })).items.map((i) => i.key)).toEqual(['runs/r/results/a.json']);
    await viaLink.delete('runs/r/results/a.json');
    expect(reports).toEqual([]);
  });
});
