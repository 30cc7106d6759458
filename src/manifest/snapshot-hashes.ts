import { createHash } from 'node:crypto';
import { snapshotRecordKey, snapshotSidecarKey } from '../layout/keys.js';
import { NotFoundError, StoreError } from '../store/errors.js';
import { getIfExists } from '../store/get-if-exists.js';
import { listAll, type ObjectInfo, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import { backoffMs, retryPolicy, type RetryPolicy } from '../util/retry.js';
import { SnapshotHashError } from './errors.js';
import type { Manifest } from './manifest.js';
import { mapLimit } from '../util/map-limit.js';
import { decodeSha256File, decodeSnapshotRecord, MAX_COMPANION_BYTES } from './snapshot-record.js';
import { messageOf } from '../util/message-of.js';

export interface SnapshotHashDeps {
  store: Store;
  clock: Clock;
  ids: IdSource;
}

export interface SnapshotHashOptions {
  /** Stream and hash snapshots that no other source covers. */
  hash: boolean;
  /** Snapshots hashed at once. Default 4. */
  concurrency?: number;
  /** Tries per snapshot on retryable store errors or a broken stream (the hash restarts from the first byte). */
  retry?: Partial<RetryPolicy>;
  onEvent?: (event: SnapshotHashEvent) => void;
}

export type SnapshotHashSource = 'given' | 'record' | 'sidecar' | 'hashed';

export type SnapshotHashEvent =
  | { kind: 'hashing'; count: number; bytes: number; concurrency: number }
  | { kind: 'hashed'; key: string; done: number; count: number; bytes: number; ms: number; sha256: string }
  | { kind: 'retry'; key: string; attempt: number; attempts: number; delayMs: number; error: string };

export interface SnapshotHashes {
  /** The input with `snapshot.sha256` filled in wherever a source had it. */
  manifest: Manifest;
  /** Where each distinct snapshot key's sha256 came from. */
  sources: Map<string, SnapshotHashSource>;
  /** Distinct snapshot keys left without a sha256, in manifest order. */
  unverified: string[];
}

export const DEFAULT_HASH_CONCURRENCY = 4;
const RECORD_READS_AT_ONCE = 16;

/**
 * Fills in the sha256 of every snapshot a manifest starts from, so that the
 * runner verifies each download. Per snapshot key, the first source that
 * has one wins:
 *
 *   1. given: an interval of the input already carries it (a re-run copies them);
 *   2. record: `snapshots/<name>.json` beside it (snapshot-record.ts), whose
 *      `size`, when given, must match the object's;
 *   3. sidecar: `<key>.sha256`, a `sha256sum` line;
 *   4. hashed: with `hash` (--hash-snapshots), the object streamed from the
 *      store through sha256, `concurrency` at a time; memory stays flat.
 *
 * Cost: one paged listing of `snapshots/` (which records and sidecars exist,
 * and the objects' sizes), one small GET per record or sidecar used, and
 * with `hash` one full read of each snapshot still without a hash. A
 * snapshot left without one is `unverified`; publishing goes on.
 *
 * @throws SnapshotHashError naming the key: corrupt record or sidecar, record
 *   size mismatch, a snapshot to hash that is not in the store, or hashing
 *   that kept failing on retryable errors
 */
export async function resolveSnapshotHashes(deps: SnapshotHashDeps, manifest: Manifest, options: SnapshotHashOptions): Promise<SnapshotHashes> {
  const hashes = new Map<string, string>();
  const sources = new Map<string, SnapshotHashSource>();
  const distinct = new Set<string>();
  for (const { snapshot } of manifest.intervals) {
    if (!snapshot) continue;
    distinct.add(snapshot.key);
    if (snapshot.sha256 !== undefined && !hashes.has(snapshot.key)) {
      hashes.set(snapshot.key, snapshot.sha256.toLowerCase());
      sources.set(snapshot.key, 'given');
    }
  }
  const keys = [...distinct];
  let pending = keys.filter((key) => !hashes.has(key));
  if (pending.length > 0) {
    const listed = await listPrefixes(deps.store, pending);
    const found = await mapLimit(pending, RECORD_READS_AT_ONCE, (key) => fromCompanions(deps.store, key, listed));
    found.forEach((hit, i) => {
      if (!hit) return;
      hashes.set(pending[i]!, hit.sha256);
      sources.set(pending[i]!, hit.source);
    });
    pending = pending.filter((key) => !hashes.has(key));
    if (options.hash && pending.length > 0) {
      for (const [key, sha256] of await hashAll(deps, pending, listed, options)) {
        hashes.set(key, sha256);
        sources.set(key, 'hashed');
      }
    }
  }
  const intervals = manifest.intervals.map((interval) => {
    const { snapshot } = interval;
    if (!snapshot || snapshot.sha256 !== undefined || !hashes.has(snapshot.key)) return interval;
    return { ...interval, snapshot: { ...snapshot, sha256: hashes.get(snapshot.key)! } };
  });
  return { manifest: { ...manifest, intervals }, sources, unverified: keys.filter((key) => !hashes.has(key)) };
}

/** One listing per top-level prefix of the keys (in practice `snapshots/`): what exists beside them, and sizes. */
async function listPrefixes(store: Store, keys: readonly string[]): Promise<Map<string, ObjectInfo>> {
  const prefixes = new Set(keys.map((key) => (key.includes('/') ? key.slice(0, key.indexOf('/') + 1) : key)));
  const listed = new Map<string, ObjectInfo>();
  for (const prefix of prefixes) for await (const info of listAll(store, prefix)) listed.set(info.key, info);
  return listed;
}

async function fromCompanions(store: Store, key: string, listed: Map<string, ObjectInfo>): Promise<{ sha256: string; source: 'record' | 'sidecar' } | undefined> {
  const recordKey = snapshotRecordKey(key);
  const recordBody = recordKey === undefined ? undefined : await readCompanion(store, recordKey, listed, 'snapshot record');
  if (recordKey !== undefined && recordBody !== undefined) {
    const record = decodeSnapshotRecord(recordKey, recordBody);
    const object = listed.get(key);
    if (record.size !== undefined && object !== undefined && object.size !== record.size) {
      throw new SnapshotHashError(
        key,
        `snapshot ${key} is ${object.size} bytes but its record ${recordKey} says ${record.size}: the record is not for this upload; ` +
          're-upload the snapshot or fix the record, then publish again',
      );
    }
    return { sha256: record.sha256, source: 'record' };
  }
  const sidecarKey = snapshotSidecarKey(key);
  const sidecarBody = await readCompanion(store, sidecarKey, listed, '.sha256 file');
  return sidecarBody === undefined ? undefined : { sha256: decodeSha256File(sidecarKey, sidecarBody, key), source: 'sidecar' };
}

/** The body of a small object the listing showed, or undefined when there is none (or it went away since). */
async function readCompanion(store: Store, key: string, listed: Map<string, ObjectInfo>, what: string): Promise<Uint8Array | undefined> {
  const info = listed.get(key);
  if (!info) return undefined;
  if (info.size > MAX_COMPANION_BYTES) {
    throw new SnapshotHashError(key, `corrupt ${what} ${key}: ${info.size} bytes, far too large for one; fix or delete it, then publish again`);
  }
  return (await getIfExists(store, key))?.body;
}

async function hashAll(deps: SnapshotHashDeps, keys: readonly string[], listed: Map<string, ObjectInfo>, options: SnapshotHashOptions): Promise<Map<string, string>> {
  const concurrency = options.concurrency ?? DEFAULT_HASH_CONCURRENCY;
  const policy = retryPolicy(options.retry);
  const bytes = keys.reduce((sum, key) => sum + (listed.get(key)?.size ?? 0), 0);
  options.onEvent?.({ kind: 'hashing', count: keys.length, bytes, concurrency });
  let done = 0;
  const results = await mapLimit(keys, concurrency, async (key) => {
    const started = deps.clock.monotonic();
    const hashed = await hashWithRetries(deps, key, policy, options.onEvent);
    done += 1;
    options.onEvent?.({ kind: 'hashed', key, done, count: keys.length, bytes: hashed.bytes, ms: deps.clock.monotonic() - started, sha256: hashed.sha256 });
    return [key, hashed.sha256] as const;
  });
  return new Map(results);
}

async function hashWithRetries(deps: SnapshotHashDeps, key: string, policy: RetryPolicy, onEvent: SnapshotHashOptions['onEvent']): Promise<{ sha256: string; bytes: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await streamSha256(deps.store, key);
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new SnapshotHashError(key, `snapshot ${key} is not in ${deps.store.description}; upload it, or publish without --hash-snapshots`, { cause: error });
      }
      const retryable = error instanceof BrokenStreamError || (error instanceof StoreError && error.retryable);
      if (!retryable) throw error;
      const message = messageOf(error);
      if (attempt >= policy.attempts) {
        throw new SnapshotHashError(key, `cannot hash snapshot ${key}: ${attempt} tries failed (last: ${message}); retry when the store answers`, { cause: error });
      }
      const delayMs = backoffMs(policy, attempt, deps.ids);
      onEvent?.({ kind: 'retry', key, attempt, attempts: policy.attempts, delayMs, error: message });
      await deps.clock.sleep(delayMs);
    }
  }
}

/** The body stream failed after the object was found (a reset, a timeout): worth another try. */
class BrokenStreamError extends Error {
  override readonly name = 'BrokenStream';
}

/** Streams the object through sha256: memory stays flat for a snapshot of any size. */
async function streamSha256(store: Store, key: string): Promise<{ sha256: string; bytes: number }> {
  const object = await store.getStream(key);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of object.body) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (error) {
    object.body.destroy();
    throw new BrokenStreamError(`reading ${key} failed after ${bytes} bytes: ${messageOf(error)}`, { cause: error });
  }
  return { sha256: hash.digest('hex'), bytes };
}
