/**
 * One failed attempt at an item: `runs/<run>/failures/<item>/<ulid>.json`
 * (schema `replay/failure/v1`). Immutable; the ULID makes the key new by
 * construction and sorts attempts by time. The lease's `failedBy` counts
 * failures for the retry limit; these records explain them.
 */
import { CorruptObjectError, decodeJson, encodeJson } from '../layout/schema.js';

export interface FailureRecord {
  schema: 'replay/failure/v1';
  run: string;
  item: string;
  node: string;
  epoch: number;
  /** 1-based attempt number across the cluster (the lease's `attempts`). */
  attempt: number;
  /** Short machine-friendly reason: `crashed`, `stalled`, `corrupt-snapshot`, `lost-holder`, ... */
  reason: string;
  message: string;
  exitCode?: number | null;
  signal?: string | null;
  /** The last lines of the runner's log (at most 200). */
  logTail: string[];
  /** True when this failure used up the item's attempts: the item is marked failed. */
  final: boolean;
  /**
   * False when the attempt was not counted against the item's attempts (the
   * node was not added to `failedBy`): a host fault, or a repeat by a node
   * that had not proved healthy since (src/node/retry-rule.ts). Absent: counted.
   */
  counted?: boolean;
  /** The runner failed because of this host, not the item (src/node/host-fault.ts); the node stopped claiming. */
  hostFault?: boolean;
  /** Writer's wall clock, ISO; for people. */
  at: string;
}

export const MAX_LOG_TAIL = 200;

export const encodeFailure = (record: FailureRecord): string => encodeJson(record);

/** @throws CorruptObjectError */
export function decodeFailure(key: string, body: Uint8Array | string): FailureRecord {
  const r = decodeJson<FailureRecord>(key, body, 'failure');
  if (typeof r.item !== 'string') throw new CorruptObjectError(key, 'field "item" missing or invalid');
  if (typeof r.reason !== 'string') throw new CorruptObjectError(key, 'field "reason" missing or invalid');
  if (!Array.isArray(r.logTail)) throw new CorruptObjectError(key, 'field "logTail" missing or invalid');
  return r;
}
