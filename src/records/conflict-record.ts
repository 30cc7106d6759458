/**
 * A second, different outcome for an item whose result already exists:
 * `runs/<run>/conflicts/<item>/<node>.<ulid>.json` (schema
 * `replay/conflict/v1`). Immutable and never replacing the canonical result:
 * nondeterminism found is the most valuable thing a run can report.
 */
import { CorruptObjectError, decodeJson, encodeJson } from '../layout/schema.js';
import type { ResultRecord } from './result-record.js';

export type Outcome = Pick<ResultRecord, 'node' | 'epoch' | 'startHash' | 'endHash' | 'headBlockId' | 'runner' | 'nodeosVersion'>;

export interface ConflictRecord {
  schema: 'replay/conflict/v1';
  run: string;
  item: string;
  /** What this node found. */
  found: Outcome;
  /** What the canonical result says. */
  canonical: Outcome;
  /** Writer's wall clock, ISO; for people. */
  detectedAt: string;
}

export function outcomeOf(result: ResultRecord): Outcome {
  const { node, epoch, startHash, endHash, headBlockId, runner, nodeosVersion } = result;
  return { node, epoch, startHash, endHash, headBlockId, runner, nodeosVersion };
}

export const encodeConflict = (record: ConflictRecord): string => encodeJson(record);

/** @throws CorruptObjectError */
export function decodeConflict(key: string, body: Uint8Array | string): ConflictRecord {
  const r = decodeJson<ConflictRecord>(key, body, 'conflict');
  for (const field of ['found', 'canonical'] as const) {
    const o = r[field];
    if (typeof o !== 'object' || o === null || typeof o.endHash !== 'string' || typeof o.node !== 'string') {
      throw new CorruptObjectError(key, `field "${field}" missing or invalid`);
    }
  }
  if (typeof r.item !== 'string') throw new CorruptObjectError(key, 'field "item" missing or invalid');
  return r;
}
