import type { SpanInterval } from './expand.js';
import { ManifestInputError } from './errors.js';
import type { SnapshotIndex } from './snapshots.js';

/**
 * Instructions for the snapshot-building runs (the anchor's
 * `--instructions`): a few long syncs, run in parallel, that leave a
 * snapshot at every interval start. The intervals are cut into `count`
 * slices of near-equal interval count, with inner boundaries on multiples of
 * `stride` blocks.
 *
 * Slice i covers blocks [start, end] and is responsible for the interval
 * starts in [start, end) (the last slice also owns its end). Boundaries are
 * shared, so the slices together cover every block from the first
 * interval's start to the last interval's end; unlike the anchor, the last
 * slice reaches the last block instead of stopping at a rounded stride.
 */
export interface Slice {
  /** 1-based. */
  slice: number;
  start: number;
  end: number;
  /** Interval starts this slice must leave a snapshot at. */
  intervals: number;
  firstIntervalStart?: number;
  lastIntervalStart?: number;
  /** Snapshot key to start from (latest at or below `start`); null means genesis. */
  snapshot: string | null;
}

export interface SliceOptions {
  count: number;
  stride: number;
}

export const defaultSliceOptions: SliceOptions = { count: 10, stride: 2_000_000 };

export function cutSlices(intervals: readonly SpanInterval[], options: SliceOptions, snapshots?: SnapshotIndex): Slice[] {
  const { count, stride } = options;
  const n = intervals.length;
  const fail = (problem: string): never => {
    throw new ManifestInputError('slices', problem);
  };
  if (!Number.isSafeInteger(count) || count < 1) fail(`--count ${count} must be a whole number >= 1`);
  if (!Number.isSafeInteger(stride) || stride < 1) fail(`--stride ${stride} must be a whole number >= 1`);
  if (count > n) fail(`--count ${count} is more than the ${n} intervals; ask for at most ${n} slices`);

  const first = intervals[0]!.start;
  const last = intervals[n - 1]!.end;
  // Inner boundary k sits at the stride multiple nearest to the start of interval floor(k*n/count).
  const boundaries = [first];
  for (let k = 1; k < count; k++) {
    const boundary = nearestMultiple(intervals[Math.floor((k * n) / count)]!.start, stride);
    if (boundary <= boundaries.at(-1)! || boundary >= last) {
      fail(
        `cannot cut ${n} intervals into ${count} slices on ${stride}-block boundaries (slice ${k + 1} would be empty); ` +
          'use a smaller --stride or a smaller --count',
      );
    }
    boundaries.push(boundary);
  }
  boundaries.push(last);

  const slices: Slice[] = [];
  let next = 0; // index of the first interval not yet owned by a slice
  for (let k = 0; k < count; k++) {
    const start = boundaries[k]!;
    const end = boundaries[k + 1]!;
    const isLast = k === count - 1;
    const from = next;
    while (next < n && (isLast || intervals[next]!.start < end)) next++;
    const owned = intervals.slice(from, next);
    slices.push({
      slice: k + 1,
      start,
      end,
      intervals: owned.length,
      firstIntervalStart: owned[0]?.start,
      lastIntervalStart: owned.at(-1)?.start,
      snapshot: snapshots?.latestAtOrBelow(start)?.key ?? null,
    });
  }
  return slices;
}

/** The multiple of `stride` nearest to `value` (halves round up), in exact integer arithmetic. */
export function nearestMultiple(value: number, stride: number): number {
  const below = value - (value % stride);
  return (value - below) * 2 >= stride ? below + stride : below;
}
