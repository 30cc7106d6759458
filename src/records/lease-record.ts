/**
 * The lease object `runs/<run>/leases/<item>.json` (schema `replay/lease/v1`):
 * its fields and its codec. Only src/lease writes it; status and tests read
 * it through here. The protocol is docs/protocol.md.
 */
import { CorruptObjectError, decodeJson, encodeJson } from '../layout/schema.js';

/**
 * `held`: someone works on the item (live until it expires, see expiry.ts).
 * `released`: free; anyone may claim it at once (CAS on its ETag).
 * `done`: the item has its result; never claimed again.
 * `failed`: the item used up its attempts; never claimed again (an operator
 * deletes the lease to retry it).
 */
export type LeaseState = 'held' | 'released' | 'done' | 'failed';

export interface LeaseRecord {
  schema: 'replay/lease/v1';
  run: string;
  item: string;
  /** Node id of the holder (for `released`/`done`/`failed`: the last holder). */
  holder: string;
  /** Fresh ULID on every write: how a writer recognises its own write after an ambiguous outcome. */
  nonce: string;
  /** Fencing number: 1 on the first claim, +1 on every later acquisition (re-claim or take-over), unchanged by renewals. */
  epoch: number;
  state: LeaseState;
  /** How long the lease stays live without a renewal, as written by its holder. */
  ttlMs: number;
  /** Acquisitions so far, this one included (carried across re-claims and take-overs). */
  attempts: number;
  /** Nodes whose attempt failed: released with `failed`, or found expired at take-over. Its length is the failure count. */
  failedBy: string[];
  /** Holder's wall clock, ISO; for people only, never used to judge expiry. */
  acquiredAt: string;
  /** Holder's wall clock, ISO; for people only, never used to judge expiry. */
  renewedAt: string;
  /** Holder's wall clock when it released or finished, ISO; display only. */
  releasedAt?: string;
  /** Why it was released, e.g. `stopping`, `runner-failed: crashed`, `drain`. */
  reason?: string;
}

export function encodeLease(record: LeaseRecord): string {
  return encodeJson(record);
}

const STATES: ReadonlySet<string> = new Set<LeaseState>(['held', 'released', 'done', 'failed']);

/** Parses and checks a stored lease. @throws CorruptObjectError */
export function decodeLease(key: string, body: Uint8Array | string): LeaseRecord {
  const r = decodeJson<LeaseRecord>(key, body, 'lease');
  const bad = (field: string): never => {
    throw new CorruptObjectError(key, `field "${field}" missing or invalid`);
  };
  if (typeof r.holder !== 'string' || r.holder === '') bad('holder');
  if (typeof r.nonce !== 'string' || r.nonce === '') bad('nonce');
  if (!Number.isSafeInteger(r.epoch) || r.epoch < 1) bad('epoch');
  if (typeof r.state !== 'string' || !STATES.has(r.state)) bad('state');
  if (typeof r.ttlMs !== 'number' || !(r.ttlMs > 0)) bad('ttlMs');
  if (!Number.isSafeInteger(r.attempts) || r.attempts < 0) bad('attempts');
  if (!Array.isArray(r.failedBy) || r.failedBy.some((n) => typeof n !== 'string')) bad('failedBy');
  return r;
}
