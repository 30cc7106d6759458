/**
 * A results digest, `runs/<run>/digests/<node>/<ulid>.json` (schema
 * `replay/digest/v1`): the summaries of canonical results one node wrote
 * since its previous digest, in one small immutable object. An index, never
 * the truth: `results/<item>.json` stays the canonical result, and a reader
 * uses a digest entry only for an item whose result object is listed (it
 * reads the result itself for any item no digest covers). With it, a reader
 * of a 100,000-item run makes a few hundred GETs instead of one per result.
 *
 * Written with create-if-absent (the ULID makes the key new), by the node
 * that wrote the results, for results it wrote (`written`, not confirmations
 * or conflicts), at most `MAX_DIGEST_ENTRIES` at a time.
 */
import { CorruptObjectError, decodeJson, encodeJson } from '../layout/schema.js';
import type { ResultRecord } from './result-record.js';

export const MAX_DIGEST_ENTRIES = 1_000;

/** What a reader needs of a result without reading it (the observer's and status's summary, plus the item). */
export type DigestEntry = Pick<ResultRecord, 'item' | 'node' | 'epoch' | 'startHash' | 'endHash' | 'headBlockId' | 'finishedAt' | 'verdict'>;

export interface DigestRecord {
  schema: 'replay/digest/v1';
  run: string;
  node: string;
  /** Writer's wall clock, ISO; for people. */
  writtenAt: string;
  results: DigestEntry[];
}

export function digestEntryOf(result: ResultRecord): DigestEntry {
  const { item, node, epoch, startHash, endHash, headBlockId, finishedAt, verdict } = result;
  return startHash === undefined
    ? { item, node, epoch, endHash, headBlockId, finishedAt, verdict }
    : { item, node, epoch, startHash, endHash, headBlockId, finishedAt, verdict };
}

export const encodeDigest = (record: DigestRecord): string => encodeJson(record);

/** @throws CorruptObjectError */
export function decodeDigest(key: string, body: Uint8Array | string): DigestRecord {
  const r = decodeJson<DigestRecord>(key, body, 'digest');
  if (typeof r.node !== 'string' || r.node === '') throw new CorruptObjectError(key, 'field "node" missing or invalid');
  if (!Array.isArray(r.results) || r.results.length > MAX_DIGEST_ENTRIES) throw new CorruptObjectError(key, 'field "results" missing or invalid');
  for (const e of r.results) {
    if (typeof e?.item !== 'string' || typeof e.endHash !== 'string' || e.endHash === '' || (e.startHash !== undefined && typeof e.startHash !== 'string')
      || !['match', 'mismatch', 'unverified'].includes(e.verdict) || e.node !== r.node) {
      throw new CorruptObjectError(key, `an entry is invalid (${JSON.stringify(e?.item ?? e)})`);
    }
  }
  return r;
}
