/**
 * The canonical result of one work item, `runs/<run>/results/<item>.json`
 * (schema `replay/result/v1`). Written once with create-if-absent by the
 * first finisher; never overwritten (docs/protocol.md §3.7). A later
 * finisher with the same hashes confirms it; one with different hashes
 * writes a conflict (conflict-record.ts).
 */
import { CorruptObjectError, decodeJson, encodeJson } from '../layout/schema.js';

/** The end hash against the manifest's expected one. */
export type Verdict = 'match' | 'mismatch' | 'unverified';

export interface ResultRecord {
  schema: 'replay/result/v1';
  run: string;
  item: string;
  start: number;
  end: number;
  replica?: number;
  /** Integrity hash of the state loaded at `start`; absent at genesis or when the runner could not tell. */
  startHash?: string;
  /** Integrity hash of the state at `end`. */
  endHash: string;
  headBlock: number;
  headBlockId: string;
  /** Node that replayed it, and the lease epoch it held when it started (audit; results do not depend on it). */
  node: string;
  epoch: number;
  /** Fresh per write: how the writer recognises its own result after an ambiguous outcome. */
  nonce: string;
  /** Writer's wall clock, ISO; for people. */
  startedAt: string;
  finishedAt: string;
  /** Runner name and version (`sim/1`, `nodeos`), and the nodeos version when it ran one. */
  runner: string;
  nodeosVersion?: string;
  expectedEndHash?: string;
  verdict: Verdict;
  /** Milliseconds per phase, as the runner measured them. */
  timings: Record<string, number>;
}

export function verdictOf(endHash: string, expectedEndHash: string | undefined): Verdict {
  if (expectedEndHash === undefined) return 'unverified';
  return endHash.toLowerCase() === expectedEndHash.toLowerCase() ? 'match' : 'mismatch';
}

/** Same replay outcome: the end hashes agree, and the start hashes where both are known. */
export function sameOutcome(a: Pick<ResultRecord, 'startHash' | 'endHash'>, b: Pick<ResultRecord, 'startHash' | 'endHash'>): boolean {
  if (a.endHash.toLowerCase() !== b.endHash.toLowerCase()) return false;
  if (a.startHash === undefined || b.startHash === undefined) return true;
  return a.startHash.toLowerCase() === b.startHash.toLowerCase();
}

export const encodeResult = (record: ResultRecord): string => encodeJson(record);

/** @throws CorruptObjectError */
export function decodeResult(key: string, body: Uint8Array | string): ResultRecord {
  const r = decodeJson<ResultRecord>(key, body, 'result');
  const bad = (field: string): never => {
    throw new CorruptObjectError(key, `field "${field}" missing or invalid`);
  };
  if (typeof r.item !== 'string') bad('item');
  if (typeof r.endHash !== 'string' || r.endHash === '') bad('endHash');
  if (r.startHash !== undefined && typeof r.startHash !== 'string') bad('startHash');
  if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end)) bad('start/end');
  if (typeof r.node !== 'string') bad('node');
  if (typeof r.nonce !== 'string') bad('nonce');
  if (!['match', 'mismatch', 'unverified'].includes(r.verdict)) bad('verdict');
  return r;
}
