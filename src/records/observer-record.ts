/**
 * An observer's presence, `runs/<run>/observers/<observer>.json` (schema
 * `replay/observer/v1`). Nodes accept gossip connections only from members,
 * the peers named in live records; an observer writes this small record so
 * that nodes admit it as a receive-only member. It is rewritten every
 * `heartbeatMs` (`seq` grows, so the ETag changes) and deleted on a
 * graceful stop; a record whose ETag stops changing for `staleAfterMs` is
 * stale, judged like a node record (docs/protocol.md §4).
 *
 * It is the observer's only write, and it never touches run state.
 */
import { isValidName } from '../layout/keys.js';
import { checkRecordBounds, checkRecordSize } from '../layout/record-bounds.js';
import { CorruptObjectError, decodeJson, encodeJson } from '../layout/schema.js';

export interface ObserverRecord {
  schema: 'replay/observer/v1';
  run: string;
  /** The observer's id (the record's name). */
  observer: string;
  /** Its gossip identity and dialable addresses. */
  peerId: string;
  addrs: string[];
  heartbeatMs: number;
  staleAfterMs: number;
  /** Grows by one on every write. */
  seq: number;
  host: string;
  version: string;
  /** Writer's wall clock, ISO; for people only. */
  startedAt: string;
  heartbeatAt: string;
}

export const encodeObserverRecord = (record: ObserverRecord): string => encodeJson(record);

/** @throws CorruptObjectError (also for a record over the small-record bounds, record-bounds.ts) */
export function decodeObserverRecord(key: string, body: Uint8Array | string): ObserverRecord {
  checkRecordSize(key, body);
  const r = decodeJson<ObserverRecord>(key, body, 'observer');
  checkRecordBounds(key, r);
  const bad = (field: string): never => {
    throw new CorruptObjectError(key, `field "${field}" missing or invalid`);
  };
  if (typeof r.observer !== 'string' || !isValidName(r.observer)) bad('observer');
  if (typeof r.peerId !== 'string' || r.peerId === '') bad('peerId');
  if (!Array.isArray(r.addrs) || r.addrs.some((a) => typeof a !== 'string')) bad('addrs');
  if (!(typeof r.staleAfterMs === 'number' && r.staleAfterMs > 0)) bad('staleAfterMs');
  if (!Number.isSafeInteger(r.seq)) bad('seq');
  return r;
}
