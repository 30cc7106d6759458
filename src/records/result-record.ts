/**
 * The canonical result of one work item, `runs/<run>/results/<item>.json`
 * (schema `replay/result/v1`). Written once with create-if-absent by the
 * first finisher; never overwritten (docs/protocol.md §3.7). A later
 * finisher with the same hashes confirms it; one with different hashes
 * writes a conflict (conflict-record.ts).
 */
import { parseItemId } from '../layout/keys.js';
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

/** Integrity hashes and block ids are hex (sha256: 64 digits); anything else is not a replay's output. */
const HEX = /^[0-9a-fA-F]{1,128}$/;
export function isHex(value: unknown): value is string {
  return typeof value === 'string' && HEX.test(value);
}

const VERDICTS: ReadonlySet<string> = new Set<Verdict>(['match', 'mismatch', 'unverified']);

/**
 * Parses and checks a stored result like every other record (issue 19: a
 * result with a non-hex hash and a null head block counted as done). With
 * `expect`, also that it is the result its key names: that run and item.
 *
 * @throws CorruptObjectError
 */
export function decodeResult(key: string, body: Uint8Array | string, expect?: { run: string; item: string }): ResultRecord {
  const r = decodeJson<ResultRecord>(key, body, 'result');
  const bad = (field: string): never => {
    throw new CorruptObjectError(key, `field "${field}" missing or invalid`);
  };
  if (typeof r.run !== 'string' || r.run === '') bad('run');
  const ref = typeof r.item === 'string' ? parseItemId(r.item) : undefined;
  if (!ref) bad('item');
  if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end) || r.start !== ref!.start || r.end !== ref!.end) bad('start/end');
  if (r.replica !== ref!.replica) bad('replica');
  if (typeof r.endHash !== 'string' || !HEX.test(r.endHash)) bad('endHash');
  if (r.startHash !== undefined && (typeof r.startHash !== 'string' || !HEX.test(r.startHash))) bad('startHash');
  // A replay ends at its end block; a head elsewhere (or none) means the hash is not the end state's.
  if (r.headBlock !== r.end) bad('headBlock');
  // The nodeos runner writes '' when nodeos never named the end block's id.
  if (typeof r.headBlockId !== 'string' || (r.headBlockId !== '' && !HEX.test(r.headBlockId))) bad('headBlockId');
  if (typeof r.node !== 'string' || r.node === '') bad('node');
  if (!Number.isSafeInteger(r.epoch) || r.epoch < 1) bad('epoch');
  if (typeof r.nonce !== 'string' || r.nonce === '') bad('nonce');
  if (typeof r.verdict !== 'string' || !VERDICTS.has(r.verdict)) bad('verdict');
  if (expect && r.run !== expect.run) throw new CorruptObjectError(key, `names run ${JSON.stringify(r.run)}, not ${expect.run}`);
  if (expect && r.item !== expect.item) throw new CorruptObjectError(key, `names item ${JSON.stringify(r.item)}, not ${expect.item}`);
  return r;
}
