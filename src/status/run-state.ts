/**
 * What a reader loaded about one run from the store: the input of the
 * status computation (compute-status.ts), which is a pure function of this,
 * optional gossip and a time. Built by RunReader (run-reader.ts).
 */
import type { LeaseRecord } from '../records/lease-record.js';
import type { ManifestItem } from '../manifest/items.js';
import type { Manifest } from '../manifest/manifest.js';
import type { ConflictRecord } from '../records/conflict-record.js';
import type { FailureRecord } from '../records/failure-record.js';
import type { NodeRecord } from '../records/node-record.js';
import { verdictOf, type ResultRecord } from '../records/result-record.js';
import type { ObserverRecord } from '../records/observer-record.js';
import type { StoreClockSample } from '../time/store-time.js';

/** One version of one object, as far as this reader has seen it. */
export interface Sighting {
  key: string;
  etag: string;
  /** Store clock (ms since the epoch): when the store wrote this version. */
  lastModified: number;
  /** This reader's monotonic clock when it first saw this ETag (the response arrived). */
  firstSeenAt: number;
  /**
   * This reader's monotonic clock when it last asked and was shown this ETag
   * (the request of the latest listing page or GET that had it was sent):
   * the version was still current then. What is known about it stops here;
   * freshness.ts judges "stale as of this sighting" apart from "stale now".
   */
  lastSeenAt: number;
}

export interface Entry<T> extends Sighting {
  /** Undefined when the object was not read (not needed, or its GET failed) or could not be used (`problem`). */
  value?: T;
  problem?: string;
  /**
   * True when `value` was decoded from an OLDER version than this entry's
   * ETag: a listing showed a new version whose GET has not succeeded yet.
   * Node records are shown with it (a new ETag proves a heartbeat); a lease
   * in this state is `unknown`, never the older read's state.
   */
  outdated?: true;
}

/** The store's clock as last seen (src/time/store-time.ts). */
export type { StoreClockSample };

/**
 * The part of a result the status needs (results are many; full records are
 * read on demand). Hashes are lower-cased and the verdict is taken against
 * the manifest's expected hash once, when the result is read, so the status
 * computation compares strings with === over 100,000 items.
 */
export type ResultSummary = Pick<ResultRecord, 'node' | 'epoch' | 'startHash' | 'endHash' | 'headBlockId' | 'finishedAt' | 'verdict'>;

/** Also takes a digest's entry (digest-record.ts), which carries the same fields; the verdict is always recomputed here. */
export function summariseResult(record: Omit<ResultSummary, 'verdict'>, expectedEndHash: string | undefined): ResultSummary {
  const { node, epoch, headBlockId, finishedAt } = record;
  const endHash = record.endHash.toLowerCase();
  const verdict = verdictOf(endHash, expectedEndHash);
  return record.startHash === undefined
    ? { node, epoch, endHash, headBlockId, finishedAt, verdict }
    : { node, epoch, startHash: record.startHash.toLowerCase(), endHash, headBlockId, finishedAt, verdict };
}

export interface RunState {
  run: string;
  manifest: Manifest | undefined;
  /** The manifest's items in order (empty without a manifest). */
  items: readonly ManifestItem[];
  /** By item id. A lease of a done item is listed but not read (`value` undefined). Leases are never shown from an older read (`outdated`). */
  leases: ReadonlyMap<string, Entry<LeaseRecord>>;
  results: ReadonlyMap<string, Entry<ResultSummary>>;
  /** By object key (several per item are possible). */
  conflicts: ReadonlyMap<string, Entry<ConflictRecord>>;
  failures: ReadonlyMap<string, Entry<FailureRecord>>;
  /** By node id. */
  nodes: ReadonlyMap<string, Entry<NodeRecord>>;
  /** By observer id. */
  observers: ReadonlyMap<string, Entry<ObserverRecord>>;
  storeClock: StoreClockSample | undefined;
  /** Object key -> why it could not be used (corrupt, foreign, another run). */
  problems: ReadonlyMap<string, string>;
  /** True when the manifest was read and every listed object that is needed was read. */
  complete: boolean;
}
