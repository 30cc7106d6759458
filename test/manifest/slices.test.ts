import { describe, expect, it } from 'vitest';
import { ManifestInputError } from '../../src/manifest/errors.js';
import { expandSpacing, type SpanInterval } from '../../src/manifest/expand.js';
import { cutSlices, nearestMultiple } from '../../src/manifest/slices.js';
import { SnapshotIndex } from '../../src/manifest/snapshots.js';
import { parseSpacing } from '../../src/manifest/spacing.js';
import { realSpacing } from './support/real-data.js';

const real = expandSpacing(parseSpacing(realSpacing(), 'real'));

/** n contiguous intervals of `length` blocks from block 0. */
function uniform(n: number, length: number): SpanInterval[] {
  return Array.from({ length: n }, (_, i) => ({ start: i * length, end: (i + 1) * length, span: length }));
}

describe('slices of the real table (10 slices on 2,000,000-block strides)', () => {
  const slices = cutSlices(real, { count: 10, stride: 2_000_000 });

  it('covers every block: from block 0 to the last block 344,317,349 (the anchor stopped at 344,000,000)', () => {
    expect(slices).toHaveLength(10);
    expect(slices[0]!.start).toBe(0);
    expect(slices.at(-1)!.end).toBe(344_317_349);
    for (let i = 1; i < slices.length; i++) expect(slices[i]!.start).toBe(slices[i - 1]!.end);
  });

  it('puts inner boundaries on stride multiples, and gives each interval start to exactly one slice', () => {
    for (const slice of slices.slice(1)) expect(slice.start % 2_000_000).toBe(0);
    expect(slices.reduce((sum, s) => sum + s.intervals, 0)).toBe(860);
    for (const slice of slices) {
      const owned = real.filter((i) => i.start >= slice.start && (i.start < slice.end || slice.slice === 10));
      expect(slice.intervals).toBe(owned.length);
      expect(slice.firstIntervalStart).toBe(owned[0]!.start);
      expect(slice.lastIntervalStart).toBe(owned.at(-1)!.start);
    }
    expect(slices.at(-1)!.lastIntervalStart).toBe(343_975_667);
  });

  it('has near-equal interval counts (86 each, give or take what stride rounding moves)', () => {
    for (const slice of slices) expect(Math.abs(slice.intervals - 86)).toBeLessThanOrEqual(8);
  });

  it('starts each slice from the latest snapshot at or below its start, or genesis', () => {
    const snapshots = new SnapshotIndex([
      'snapshots/snapshot-2018-06-10-13-eos-v6-0000015819.bin.zst',
      `snapshots/snapshot-x-${slices[3]!.start}.bin.zst`, // exactly at slice 4's start
      `snapshots/snapshot-x-${slices[5]!.start - 1}.bin.zst`, // just below slice 6
      'snapshots/genesis.json',
    ]);
    const withSnapshots = cutSlices(real, { count: 10, stride: 2_000_000 }, snapshots);
    expect(withSnapshots.map((s) => s.snapshot)).toEqual([
      null,
      'snapshots/snapshot-2018-06-10-13-eos-v6-0000015819.bin.zst',
      'snapshots/snapshot-2018-06-10-13-eos-v6-0000015819.bin.zst',
      `snapshots/snapshot-x-${slices[3]!.start}.bin.zst`,
      `snapshots/snapshot-x-${slices[3]!.start}.bin.zst`,
      `snapshots/snapshot-x-${slices[5]!.start - 1}.bin.zst`,
      ...Array(4).fill(`snapshots/snapshot-x-${slices[5]!.start - 1}.bin.zst`),
    ]);
  });
});

describe('slices: small cases', () => {
  it('one slice is the whole run', () => {
    expect(cutSlices(uniform(5, 7), { count: 1, stride: 10 })).toEqual([
      { slice: 1, start: 0, end: 35, intervals: 5, firstIntervalStart: 0, lastIntervalStart: 28, snapshot: null },
    ]);
  });

  it('the last slice reaches the last block even when it is far from a stride multiple', () => {
    const slices = cutSlices(uniform(9, 1000), { count: 3, stride: 2000 });
    expect(slices.map((s) => [s.start, s.end, s.intervals])).toEqual([[0, 4000, 4], [4000, 6000, 2], [6000, 9000, 3]]);
  });

  it('rounds boundaries to the nearest stride multiple, halves up', () => {
    expect([nearestMultiple(0, 10), nearestMultiple(4, 10), nearestMultiple(5, 10), nearestMultiple(15, 10), nearestMultiple(2_999_999, 2_000_000)])
      .toEqual([0, 0, 10, 20, 2_000_000]);
  });

  it('refuses counts and strides that cannot make that many non-empty slices, saying what to change', () => {
    const cases: Array<[number, number, RegExp]> = [
      [0, 10, /--count 0 must be a whole number >= 1/],
      [10, 10, /--count 10 is more than the 9 intervals; ask for at most 9 slices/],
      [3, 0, /--stride 0 must be a whole number >= 1/],
      [3, 10_000, /cannot cut 9 intervals into 3 slices on 10000-block boundaries \(slice 2 would be empty\); use a smaller --stride or a smaller --count/],
      [8, 2000, /slice 3 would be empty/],
    ];
    for (const [count, stride, message] of cases) {
      expect(() => cutSlices(uniform(9, 1000), { count, stride }), `${count}/${stride}`).toThrow(ManifestInputError);
      expect(() => cutSlices(uniform(9, 1000), { count, stride }), `${count}/${stride}`).toThrow(message);
    }
  });
});
