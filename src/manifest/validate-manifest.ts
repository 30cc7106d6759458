import { MAX_BLOCK } from '../layout/keys.js';
import { schemaOf } from '../layout/schema.js';
import type { Manifest } from './manifest.js';
import { snapshotBlock } from './snapshots.js';

/**
 * What every manifest must satisfy, whether just built or read back from the
 * store. Returns the first problem found, naming the field (`intervals[3].end`),
 * or undefined when the manifest is sound. Unknown extra fields are allowed,
 * so a newer writer's additions do not break older readers.
 *
 * Intervals must be sorted and must not overlap; they need not be contiguous,
 * because a re-run holds a subset of another run's intervals.
 */
export function manifestProblem(value: unknown, expectedRun?: string): string | undefined {
  if (!isObject(value)) return 'not a JSON object';
  const m = value as Record<string, unknown>;
  if (m.schema !== schemaOf('manifest')) return `schema is ${JSON.stringify(m.schema)}, expected "${schemaOf('manifest')}"`;
  if (typeof m.run !== 'string' || m.run === '') return 'run is not a non-empty string';
  if (expectedRun !== undefined && m.run !== expectedRun) return `run is ${JSON.stringify(m.run)} but the manifest is stored under run ${expectedRun}`;
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt))) return 'createdAt is not an ISO time';
  if (m.chainId !== undefined && !isNonEmptyString(m.chainId)) return 'chainId is not a non-empty string';
  const nodeos = nodeosProblem(m.nodeos);
  if (nodeos) return nodeos;
  if (!isInteger(m.replicas, 1, 9999)) return 'replicas is not a whole number from 1 to 9999';
  const defaults = defaultsProblem(m.defaults);
  if (defaults) return defaults;
  if (m.source !== undefined && !isObject(m.source)) return 'source is not an object';
  return intervalsProblem(m.intervals);
}

function nodeosProblem(nodeos: unknown): string | undefined {
  if (nodeos === undefined) return undefined;
  if (!isObject(nodeos)) return 'nodeos is not an object';
  if (!isNonEmptyString(nodeos.version)) return 'nodeos.version is not a non-empty string';
  if (nodeos.artifact === undefined) return undefined;
  if (!isObject(nodeos.artifact)) return 'nodeos.artifact is not an object';
  if (!isNonEmptyString(nodeos.artifact.key)) return 'nodeos.artifact.key is not a non-empty string';
  if (!isSha256(nodeos.artifact.sha256)) return 'nodeos.artifact.sha256 is not 64 lowercase hex digits';
  return undefined;
}

function defaultsProblem(defaults: unknown): string | undefined {
  if (!isObject(defaults)) return 'defaults is not an object';
  if (!isInteger(defaults.leaseTtlMs, 1)) return 'defaults.leaseTtlMs is not a whole number >= 1';
  if (!isInteger(defaults.maxAttempts, 1)) return 'defaults.maxAttempts is not a whole number >= 1';
  if (!isInteger(defaults.minFreeDiskBytes, 0)) return 'defaults.minFreeDiskBytes is not a whole number >= 0';
  return undefined;
}

function intervalsProblem(intervals: unknown): string | undefined {
  if (!Array.isArray(intervals) || intervals.length === 0) return 'intervals is not a non-empty array';
  let previousEnd = -1;
  for (const [i, interval] of intervals.entries()) {
    const at = `intervals[${i}]`;
    if (!isObject(interval)) return `${at} is not an object`;
    const { start, end, snapshot, expectedEndHash } = interval;
    if (!isInteger(start, 0, MAX_BLOCK)) return `${at}.start is not a block number`;
    if (!isInteger(end, 0, MAX_BLOCK)) return `${at}.end is not a block number`;
    if (end <= start) return `${at} ends at ${end}, not after its start ${start}`;
    if (start < previousEnd) return `${at} starts at ${start}, before the previous interval's end ${previousEnd} (unsorted or overlapping)`;
    previousEnd = end;
    if (snapshot !== null) {
      if (!isObject(snapshot) || !isNonEmptyString(snapshot.key)) return `${at}.snapshot is neither null (genesis) nor {"key": ...}`;
      if (snapshot.sha256 !== undefined && !isSha256(snapshot.sha256)) return `${at}.snapshot.sha256 is not 64 lowercase hex digits`;
      const block = snapshotBlock(snapshot.key);
      if (block !== undefined && block > start) return `${at}.snapshot ${snapshot.key} is of block ${block}, after the interval's start ${start}`;
    }
    if (expectedEndHash !== undefined && !isSha256(expectedEndHash)) return `${at}.expectedEndHash is not 64 lowercase hex digits`;
  }
  return undefined;
}

/** Narrowing helper for callers that already know the value is sound. */
export function isManifest(value: unknown): value is Manifest {
  return manifestProblem(value) === undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isInteger(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

function isSha256(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}
