import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { schemaOf } from '../../src/layout/schema.js';
import { buildManifest, type IntervalInput } from '../../src/manifest/build-manifest.js';
import { SnapshotHashError } from '../../src/manifest/errors.js';
import type { Manifest } from '../../src/manifest/manifest.js';
import { publishManifest } from '../../src/manifest/publish.js';
import { readManifest } from '../../src/manifest/read-manifest.js';
import { resolveSnapshotHashes, type SnapshotHashEvent, type SnapshotHashOptions } from '../../src/manifest/snapshot-hashes.js';
import { listSnapshots } from '../../src/manifest/snapshots.js';
import { withSnapshotHashes } from '../../src/cli/manifest/snapshot-hashes.js';
import { UnavailableError } from '../../src/store/errors.js';
import { createFileStore } from '../../src/store/file.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { overwrite, type GetOptions, type Store, type StreamedObject } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { systemClock } from '../../src/time/system-clock.js';
import { seededIds } from '../../src/util/ids.js';

const sha = (body: string | Uint8Array): string => createHash('sha256').update(body).digest('hex');
const record = (fields: Record<string, unknown>): string => `${JSON.stringify({ schema: schemaOf('snapshot'), ...fields }, null, 2)}\n`;
const put = (store: Store, key: string, body: string | Uint8Array) => store.put(key, body, overwrite);

/**
 * Delegates to a real store, records every getStream and the chunks its
 * bodies deliver, and refuses a whole-object `get` of anything but a small
 * companion (.json, .sha256): hashing must stream.
 */
class StreamSpy implements Store {
  readonly streamed: string[] = [];
  chunks = 0;
  largestChunk = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Faults for the next getStream calls: throw before answering, or break the body after some bytes. */
  readonly faults: Array<'unavailable' | 'break'> = [];

  constructor(private readonly inner: Store) {}
  get description(): string {
    return this.inner.description;
  }
  get(key: string, options?: GetOptions) {
    if (!/\.(json|sha256)$/.test(key)) throw new Error(`whole-object get of ${key}: snapshots must be streamed`);
    return this.inner.get(key, options);
  }
  async getStream(key: string, options?: { signal?: AbortSignal }): Promise<StreamedObject> {
    this.streamed.push(key);
    const fault = this.faults.shift();
    if (fault === 'unavailable') throw new UnavailableError('injected: store unavailable');
    const object = await this.inner.getStream(key, options);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const counted = async function* (this: StreamSpy): AsyncGenerator<Buffer> {
      try {
        let seen = 0;
        for await (const chunk of object.body) {
          this.chunks += 1;
          this.largestChunk = Math.max(this.largestChunk, (chunk as Buffer).length);
          seen += (chunk as Buffer).length;
          if (fault === 'break' && seen > 1024) throw new Error('injected: connection reset');
          yield chunk as Buffer;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } finally {
        this.inFlight -= 1;
      }
    };
    return { ...object, body: Readable.from(counted.call(this), { objectMode: false }) };
  }
  head(key: string) {
    return this.inner.head(key);
  }
  put(key: string, body: Uint8Array | string, mode: Parameters<Store['put']>[2]) {
    return this.inner.put(key, body, mode);
  }
  putStream(...args: Parameters<Store['putStream']>) {
    return this.inner.putStream(...args);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  list(...args: Parameters<Store['list']>) {
    return this.inner.list(...args);
  }
  close() {
    return this.inner.close();
  }
}

const backends: Array<{ name: string; open(): Promise<Store> }> = [];
const cleanups: Array<() => Promise<void>> = [];
backends.push({ name: 'memory store', open: async () => createMemoryStore({ clock: new ManualClock() }) });
backends.push({
  name: 'file store',
  open: async () => {
    const root = await mkdtemp(join(tmpdir(), 'snapshot-hashes-'));
    const store = createFileStore(root, { clock: systemClock });
    cleanups.push(async () => {
      await store.close();
      await rm(root, { recursive: true, force: true });
    });
    return store;
  },
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

const deps = (store: Store) => ({ store, clock: new ManualClock(), ids: seededIds(7) });
const resolve = (store: Store, manifest: Manifest, options: Partial<SnapshotHashOptions> = {}) =>
  resolveSnapshotHashes(deps(store), manifest, { hash: false, ...options });

/** A manifest as `publish` builds it: intervals from the snapshots listed under snapshots/. */
async function listedManifest(store: Store, starts: number[], run = 'run-h'): Promise<Manifest> {
  const intervals = starts.map((start, i) => ({ start, end: starts[i + 1] ?? start + 1000 }));
  return buildManifest({ run, createdAt: '2026-03-01T10:00:00.000Z', intervals, snapshots: await listSnapshots(store) });
}

function givenManifest(intervals: IntervalInput[]): Manifest {
  return buildManifest({ run: 'run-g', createdAt: '2026-03-01T10:00:00.000Z', intervals });
}

const snapshotShas = (m: Manifest) => m.intervals.map((i) => (i.snapshot ? [i.snapshot.key, i.snapshot.sha256 ?? null] : null));

for (const backend of backends) {
  describe(`snapshot sha256s for the manifest: ${backend.name}`, () => {
    it('takes each from the record, else the .sha256 file, else --hash-snapshots; the published manifest carries them', async () => {
      const store = await backend.open();
      const a = 'snapshot A, zstd bytes';
      const b = 'snapshot B';
      const c = 'snapshot C, not compressed';
      await put(store, 'snapshots/s-0000001000.bin.zst', a);
      await put(store, 'snapshots/s-0000001000.json', record({ sha256: sha(a).toUpperCase(), size: a.length, block: 1000 }));
      await put(store, 'snapshots/s-0000002000.bin.zst', b);
      await put(store, 'snapshots/s-0000002000.bin.zst.sha256', `${sha(b)}  s-0000002000.bin.zst\n`);
      await put(store, 'snapshots/s-0000003000.bin', c);
      // Companions without their snapshot are never taken for one (they name block 4000 too).
      await put(store, 'snapshots/t-0000004000.json', record({ sha256: sha('t') }));
      await put(store, 'snapshots/t-0000004000.bin.zst.sha256', `${sha('t')}  t-0000004000.bin.zst\n`);
      const built = await listedManifest(store, [0, 1000, 1500, 2000, 3000, 4000]);
      expect(built.intervals.map((i) => i.snapshot?.key ?? null)).toEqual([
        null,
        'snapshots/s-0000001000.bin.zst',
        'snapshots/s-0000001000.bin.zst',
        'snapshots/s-0000002000.bin.zst',
        'snapshots/s-0000003000.bin',
        'snapshots/s-0000003000.bin',
      ]);

      const spy = new StreamSpy(store);
      const unhashed = await resolve(spy, built);
      expect(snapshotShas(unhashed.manifest)).toEqual([
        null,
        ['snapshots/s-0000001000.bin.zst', sha(a)],
        ['snapshots/s-0000001000.bin.zst', sha(a)],
        ['snapshots/s-0000002000.bin.zst', sha(b)],
        ['snapshots/s-0000003000.bin', null],
        ['snapshots/s-0000003000.bin', null],
      ]);
      expect(unhashed.unverified).toEqual(['snapshots/s-0000003000.bin']);
      expect(spy.streamed).toEqual([]);

      const hashed = await resolve(spy, built, { hash: true });
      expect(Object.fromEntries(hashed.sources)).toEqual({
        'snapshots/s-0000001000.bin.zst': 'record',
        'snapshots/s-0000002000.bin.zst': 'sidecar',
        'snapshots/s-0000003000.bin': 'hashed',
      });
      expect(hashed.unverified).toEqual([]);
      expect(spy.streamed).toEqual(['snapshots/s-0000003000.bin']);

      await publishManifest(store, hashed.manifest);
      const stored = (await readManifest(store, 'run-h')).manifest;
      expect(snapshotShas(stored)).toEqual([
        null,
        ['snapshots/s-0000001000.bin.zst', sha(a)],
        ['snapshots/s-0000001000.bin.zst', sha(a)],
        ['snapshots/s-0000002000.bin.zst', sha(b)],
        ['snapshots/s-0000003000.bin', sha(c)],
        ['snapshots/s-0000003000.bin', sha(c)],
      ]);
    });

    it('precedence: a sha256 in the input, then the record, then the .sha256 file, then hashing', async () => {
      const store = await backend.open();
      const keys = ['snapshots/p-0000001000.bin.zst', 'snapshots/p-0000002000.bin.zst', 'snapshots/p-0000003000.bin.zst', 'snapshots/p-0000004000.bin.zst'];
      for (const key of keys) await put(store, key, `content of ${key}`);
      // Values that differ from the content, so the winner shows (sources are trusted, not cross-checked).
      const [given, record1, sidecar1, record2, sidecar2, sidecar3] = ['1', '2', '3', '4', '5', '6'].map((d) => d.repeat(64));
      for (const [i, fromRecord] of [[0, record1], [1, record2]] as const) {
        await put(store, keys[i]!.replace('.bin.zst', '.json'), record({ sha256: fromRecord }));
      }
      for (const [i, fromSidecar] of [[0, sidecar1], [1, sidecar2], [2, sidecar3]] as const) {
        await put(store, `${keys[i]}.sha256`, `${fromSidecar} *${keys[i]!.slice('snapshots/'.length)}\n`);
      }
      const manifest = givenManifest([
        { start: 1000, end: 2000, snapshot: { key: keys[0]!, sha256: given } },
        { start: 2000, end: 3000, snapshot: { key: keys[1]! } },
        { start: 3000, end: 4000, snapshot: { key: keys[2]! } },
        { start: 4000, end: 5000, snapshot: { key: keys[3]! } },
        // The same object again without the hash: it gets the one given above.
        { start: 5000, end: 6000, snapshot: { key: keys[0]! } },
      ]);
      const spy = new StreamSpy(store);
      const out = await resolve(spy, manifest, { hash: true });
      expect(snapshotShas(out.manifest)).toEqual([
        [keys[0], given],
        [keys[1], record2],
        [keys[2], sidecar3],
        [keys[3], sha(`content of ${keys[3]}`)],
        [keys[0], given],
      ]);
      expect([...out.sources.values()]).toEqual(['given', 'record', 'sidecar', 'hashed']);
      expect(spy.streamed).toEqual([keys[3]]);
    });

    it('a corrupt record or .sha256 file fails in one line naming its key', async () => {
      const store = await backend.open();
      await put(store, 'snapshots/c-0000001000.bin.zst', 'c');
      const manifest = await listedManifest(store, [1000]);
      const cases: Array<[string, string, string]> = [
        ['snapshots/c-0000001000.json', '{"sha256": "abc"', 'corrupt snapshot record snapshots/c-0000001000.json: not valid JSON; fix or delete it, then publish again'],
        ['snapshots/c-0000001000.json', record({ sha256: 'xyz' }), 'corrupt snapshot record snapshots/c-0000001000.json: sha256 is "xyz", not 64 hex digits; fix or delete it, then publish again'],
        ['snapshots/c-0000001000.json', record({ size: 1 }), 'corrupt snapshot record snapshots/c-0000001000.json: it has no sha256; fix or delete it, then publish again'],
        ['snapshots/c-0000001000.json', record({ sha256: 'a'.repeat(64), size: -1 }), 'corrupt snapshot record snapshots/c-0000001000.json: size is -1, not a byte count; fix or delete it, then publish again'],
        ['snapshots/c-0000001000.json', JSON.stringify({ schema: 'replay/lease/v1', sha256: 'a'.repeat(64) }), 'corrupt snapshot record snapshots/c-0000001000.json: schema is "replay/lease/v1", expected "replay/snapshot/v1"; fix or delete it, then publish again'],
        ['snapshots/c-0000001000.bin.zst.sha256', 'not a hash\n', 'corrupt .sha256 file snapshots/c-0000001000.bin.zst.sha256: first line "not a hash" is not "<64 hex digits>  <file name>"; fix or delete it, then publish again'],
        ['snapshots/c-0000001000.bin.zst.sha256', `${'a'.repeat(64)}  other.bin.zst\n`, 'corrupt .sha256 file snapshots/c-0000001000.bin.zst.sha256: it is for "other.bin.zst", not c-0000001000.bin.zst; fix or delete it, then publish again'],
      ];
      for (const [key, body, message] of cases) {
        await put(store, key, body);
        const error = await resolve(store, manifest, { hash: true }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SnapshotHashError);
        expect((error as SnapshotHashError).key).toBe(key);
        expect((error as Error).message).toBe(message);
        await store.delete(key);
      }
      // A .sha256 file as sha256sum writes it, with a path, in binary mode, or the bare hash: all fine.
      for (const body of [`${sha('c')}  ./c-0000001000.bin.zst`, `${sha('c').toUpperCase()} */tmp/c-0000001000.bin.zst\n`, `${sha('c')}\n`]) {
        await put(store, 'snapshots/c-0000001000.bin.zst.sha256', body);
        expect(snapshotShas((await resolve(store, manifest)).manifest)).toEqual([['snapshots/c-0000001000.bin.zst', sha('c')]]);
      }
    });

    it("a record whose size is not the object's is an error naming the snapshot", async () => {
      const store = await backend.open();
      await put(store, 'snapshots/z-0000001000.bin.zst', 'three');
      await put(store, 'snapshots/z-0000001000.json', record({ sha256: sha('three'), size: 4 }));
      const error = await resolve(store, await listedManifest(store, [1000])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SnapshotHashError);
      expect((error as SnapshotHashError).key).toBe('snapshots/z-0000001000.bin.zst');
      expect((error as Error).message).toBe(
        'snapshot snapshots/z-0000001000.bin.zst is 5 bytes but its record snapshots/z-0000001000.json says 4: the record is not for this upload; ' +
          're-upload the snapshot or fix the record, then publish again',
      );
      await put(store, 'snapshots/z-0000001000.json', record({ sha256: sha('three'), size: 5 }));
      expect((await resolve(store, await listedManifest(store, [1000]))).unverified).toEqual([]);
    });

    it('--hash-snapshots streams: a 12 MiB object arrives in many chunks through getStream, never a whole get', async () => {
      const store = await backend.open();
      const big = randomBytes(12 * 1024 * 1024);
      await put(store, 'snapshots/big-0000001000.bin.zst', big);
      const spy = new StreamSpy(store);
      const events: SnapshotHashEvent[] = [];
      const out = await resolve(spy, await listedManifest(store, [1000]), { hash: true, onEvent: (e) => events.push(e) });
      expect(out.manifest.intervals[0]!.snapshot).toEqual({ key: 'snapshots/big-0000001000.bin.zst', sha256: sha(big) });
      expect(spy.streamed).toEqual(['snapshots/big-0000001000.bin.zst']);
      expect(spy.chunks).toBeGreaterThanOrEqual(12);
      expect(spy.largestChunk).toBeLessThanOrEqual(1024 * 1024);
      expect(events.map((e) => e.kind)).toEqual(['hashing', 'hashed']);
      expect(events[0]).toEqual({ kind: 'hashing', count: 1, bytes: big.length, concurrency: 4 });
      expect(events[1]).toMatchObject({ kind: 'hashed', key: 'snapshots/big-0000001000.bin.zst', done: 1, count: 1, bytes: big.length, sha256: sha(big) });
    });

    it('hashes at most `concurrency` snapshots at once', async () => {
      const store = await backend.open();
      for (let i = 1; i <= 6; i++) await put(store, `snapshots/n-${String(i * 1000).padStart(10, '0')}.bin.zst`, randomBytes(300 * 1024));
      const spy = new StreamSpy(store);
      const out = await resolve(spy, await listedManifest(store, [1000, 2000, 3000, 4000, 5000, 6000]), { hash: true, concurrency: 2 });
      expect(out.unverified).toEqual([]);
      expect(spy.streamed).toHaveLength(6);
      expect(spy.maxInFlight).toBe(2);
    });

    it('retries an unavailable store and a broken stream from the first byte; gives up in one line after the last try', async () => {
      const store = await backend.open();
      const body = randomBytes(256 * 1024);
      await put(store, 'snapshots/r-0000001000.bin.zst', body);
      const manifest = await listedManifest(store, [1000]);
      const spy = new StreamSpy(store);
      spy.faults.push('unavailable', 'break');
      const events: SnapshotHashEvent[] = [];
      const fast = { store: spy, clock: systemClock, ids: seededIds(1) };
      const out = await resolveSnapshotHashes(fast, manifest, { hash: true, retry: { baseDelayMs: 1, maxDelayMs: 2 }, onEvent: (e) => events.push(e) });
      expect(out.manifest.intervals[0]!.snapshot!.sha256).toBe(sha(body));
      expect(events.filter((e) => e.kind === 'retry').map((e) => [e.kind === 'retry' && e.attempt, e.kind === 'retry' && e.error])).toEqual([
        [1, 'injected: store unavailable'],
        [2, expect.stringMatching(/^reading snapshots\/r-0000001000\.bin\.zst failed after \d+ bytes: injected: connection reset$/)],
      ]);
      expect(spy.streamed).toHaveLength(3);

      spy.faults.push('unavailable', 'unavailable', 'unavailable');
      const error = await resolveSnapshotHashes(fast, manifest, { hash: true, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }).catch((e: unknown) => e);
      expect((error as Error).message).toBe('cannot hash snapshot snapshots/r-0000001000.bin.zst: 3 tries failed (last: injected: store unavailable); retry when the store answers');
    });

    it('a snapshot to hash that is not in the store is named; without --hash-snapshots it is only unverified', async () => {
      const store = await backend.open();
      const manifest = givenManifest([{ start: 1000, end: 2000, snapshot: { key: 'snapshots/missing-0000001000.bin.zst' } }]);
      expect((await resolve(store, manifest)).unverified).toEqual(['snapshots/missing-0000001000.bin.zst']);
      await expect(resolve(store, manifest, { hash: true })).rejects.toThrow(
        `snapshot snapshots/missing-0000001000.bin.zst is not in ${store.description}; upload it, or publish without --hash-snapshots`,
      );
    });
  });
}

describe("the CLI's lines (stderr)", () => {
  it('one per snapshot hashed as it goes; then where the hashes came from, and the unverified count with the fix', async () => {
    const store = createMemoryStore({ clock: new ManualClock() });
    await put(store, 'snapshots/a-0000001000.bin.zst', 'a');
    await put(store, 'snapshots/a-0000001000.json', record({ sha256: sha('a') }));
    await put(store, 'snapshots/b-0000002000.bin.zst', 'b');
    await put(store, 'snapshots/c-0000003000.bin.zst', 'c');
    const manifest = await listedManifest(store, [1000, 2000, 3000]);

    const quiet: string[] = [];
    const unhashed = await withSnapshotHashes(store, manifest, false, (line) => quiet.push(line));
    expect(unhashed.manifest.intervals.map((i) => i.snapshot?.sha256 ?? null)).toEqual([sha('a'), null, null]);
    expect(quiet).toEqual([]);
    expect(unhashed.notes).toEqual([
      'sha256 of 1 of 3 snapshots: 1 from snapshot records; nodes verify their downloads',
      'note: 2 of 3 snapshots are unverified (no sha256 given, no snapshots/<name>.json record or .sha256 file), so nodes will not check their downloads; ' +
        'add --hash-snapshots to compute them (runs are immutable: under a new run id once published)',
    ]);

    const lines: string[] = [];
    const hashed = await withSnapshotHashes(store, manifest, true, (line) => lines.push(line));
    expect(hashed.manifest.intervals.map((i) => i.snapshot?.sha256 ?? null)).toEqual([sha('a'), sha('b'), sha('c')]);
    expect(lines[0]).toBe('hashing 2 snapshots (2 bytes) from the store, 4 at a time');
    expect(lines.slice(1, 3).sort()).toEqual([
      expect.stringMatching(new RegExp(`^hashed [12]/2 snapshots/b-0000002000\\.bin\\.zst: 1 bytes in \\d+\\.\\d s, sha256 ${sha('b')}$`)),
      expect.stringMatching(new RegExp(`^hashed [12]/2 snapshots/c-0000003000\\.bin\\.zst: 1 bytes in \\d+\\.\\d s, sha256 ${sha('c')}$`)),
    ]);
    expect(lines).toHaveLength(3);
    expect(hashed.notes).toEqual(['sha256 of 3 of 3 snapshots: 1 from snapshot records, 2 hashed; nodes verify their downloads']);

    const none: string[] = [];
    const genesis = await withSnapshotHashes(store, givenManifest([{ start: 0, end: 10 }]), true, (line) => none.push(line));
    expect([none, genesis.notes]).toEqual([[], []]);
  });
});
