import { MAX_BLOCK, SNAPSHOTS_PREFIX } from '../layout/keys.js';
import { checkKey } from '../store/key-check.js';
import type { IntervalInput } from './build-manifest.js';
import { ManifestInputError } from './errors.js';
import { snapshotBlock } from './snapshots.js';
import { messageOf } from '../util/message-of.js';

/**
 * Migration from the anchor: its JSON job manifest (an array of slices with
 * start_block_id, end_block_id, snapshot_path, storage_type,
 * expected_integrity_hash, leap_version) becomes our intervals.
 *
 * - snapshot_path `s3://bucket/any/prefix/snapshots/<name>` maps to the key
 *   `snapshots/<name>` (the part from the last `snapshots/` directory on), so
 *   the snapshots copied into our store's `snapshots/` are found; an empty
 *   path means genesis;
 * - an empty expected_integrity_hash means none;
 * - leap_version must be the same in every slice (a run has one nodeos);
 * - slices must be sorted and must not overlap; a gap is refused unless
 *   `allowGaps` (a partial job list), since a full run with a hole would pass
 *   without ever replaying the missing blocks.
 */
export interface EnfImport {
  intervals: IntervalInput[];
  /** The slices' leap_version, when they name one. */
  nodeosVersion?: string;
  slices: number;
}

const HASH = /^[0-9a-fA-F]{64}$/;

export function parseEnfManifest(text: string, source: string, options: { allowGaps?: boolean } = {}): EnfImport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ManifestInputError(source, `not valid JSON (${messageOf(error)}); give the anchor's job manifest file`);
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new ManifestInputError(source, 'not a non-empty JSON array of slices; give the anchor\'s job manifest file');
  }
  const intervals: IntervalInput[] = [];
  let version: { value: string; index: number } | undefined;
  value.forEach((slice: unknown, index) => {
    const fail = (problem: string): never => {
      throw new ManifestInputError(source, `slice [${index}]: ${problem}`);
    };
    if (typeof slice !== 'object' || slice === null || Array.isArray(slice)) fail('not an object');
    const s = slice as Record<string, unknown>;
    const start = blockField(s, 'start_block_id', fail);
    const end = blockField(s, 'end_block_id', fail);
    if (end <= start) fail(`end_block_id ${end} is not after start_block_id ${start}`);
    const previous = intervals.at(-1);
    if (previous && start < previous.end) {
      fail(`start_block_id ${start} is before the previous slice's end ${previous.end} (unsorted or overlapping); sort the slices and remove overlaps`);
    }
    if (previous && start > previous.end && !options.allowGaps) {
      fail(`start_block_id ${start} leaves blocks ${previous.end}-${start} uncovered after the previous slice; fix the file or pass --allow-gaps`);
    }
    const snapshot = snapshotKey(s.snapshot_path, start, fail);
    const hash = s.expected_integrity_hash;
    if (hash !== undefined && hash !== null && hash !== '' && (typeof hash !== 'string' || !HASH.test(hash))) {
      fail(`expected_integrity_hash ${JSON.stringify(hash)} is neither empty nor 64 hex digits`);
    }
    const leap = s.leap_version;
    if (leap !== undefined && leap !== null && leap !== '') {
      if (typeof leap !== 'string') fail('leap_version is not a string');
      if (version && version.value !== leap) {
        fail(`leap_version ${leap} differs from ${version.value} in slice [${version.index}]; a run has one nodeos version: split the file`);
      }
      version ??= { value: leap as string, index };
    }
    intervals.push({
      start,
      end,
      snapshot,
      ...(typeof hash === 'string' && hash !== '' ? { expectedEndHash: hash.toLowerCase() } : {}),
    });
  });
  return { intervals, slices: value.length, ...(version ? { nodeosVersion: version.value } : {}) };
}

function blockField(slice: Record<string, unknown>, field: string, fail: (problem: string) => never): number {
  const value = slice[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`${field} ${JSON.stringify(value)} is not a block number`);
  if ((value as number) > MAX_BLOCK) fail(`${field} ${value} is beyond block ${MAX_BLOCK}, the largest the bucket layout can name`);
  return value as number;
}

/** `s3://chicken-dance/mainnet/snapshots/x.bin.zst` -> `snapshots/x.bin.zst`; empty -> genesis (null). */
function snapshotKey(path: unknown, start: number, fail: (problem: string) => never): { key: string } | null {
  if (path === undefined || path === null || path === '') return null;
  if (typeof path !== 'string') return fail('snapshot_path is not a string');
  const at = `/${path}`.lastIndexOf(`/${SNAPSHOTS_PREFIX}`);
  if (at === -1) return fail(`snapshot_path ${path} has no snapshots/ directory; keep the snapshots under a snapshots/ directory`);
  const key = `/${path}`.slice(at + 1);
  try {
    checkKey(key);
  } catch (error) {
    fail(`snapshot_path ${path} does not map to a store key (${messageOf(error)})`);
  }
  const block = snapshotBlock(key);
  if (block !== undefined && block > start) fail(`snapshot_path ${path} is of block ${block}, after the slice's start ${start}`);
  return { key };
}
