import { describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/manifest/build-manifest.js';
import { ManifestInputError } from '../../src/manifest/errors.js';
import { parseEnfManifest } from '../../src/manifest/import-enf.js';
import { snapshotBlock } from '../../src/manifest/snapshots.js';
import { realEnfManifest } from './support/real-data.js';

const slice = (start: number, end: number, extra: Record<string, unknown> = {}) => ({
  start_block_id: start,
  end_block_id: end,
  snapshot_path: `s3://chicken-dance/mainnet/snapshots/snapshot-2020-01-01-00-eos-v6-${start}.bin.zst`,
  storage_type: 's3',
  expected_integrity_hash: '',
  leap_version: '5.0.2',
  ...extra,
});
const parse = (slices: unknown, options?: { allowGaps?: boolean }) => parseEnfManifest(JSON.stringify(slices), 'job.json', options);

describe('ENF import: the real 899-slice job manifest', () => {
  const imported = parseEnfManifest(realEnfManifest(), 'full-production-run-20240101.json');

  it('becomes 899 contiguous intervals from block 0 to 349,798,134 on leap 5.0.2', () => {
    expect(imported.slices).toBe(899);
    expect(imported.intervals).toHaveLength(899);
    expect(imported.nodeosVersion).toBe('5.0.2');
    expect(imported.intervals[0]).toEqual({ start: 0, end: 15819, snapshot: { key: 'snapshots/snapshot-2018-06-10-01-eos-v6-0000000000.bin.zst' } });
    expect(imported.intervals.at(-1)).toEqual({
      start: 349448297,
      end: 349798134,
      snapshot: { key: 'snapshots/snapshot-2023-12-30-06-eos-v6-349448297.bin.zst' },
    });
    for (let i = 1; i < 899; i++) expect(imported.intervals[i]!.start).toBe(imported.intervals[i - 1]!.end);
  });

  it('maps every snapshot path to a key under snapshots/ whose block is the interval start', () => {
    for (const interval of imported.intervals) {
      expect(interval.snapshot!.key).toMatch(/^snapshots\/snapshot-[\d-]+-eos-v6-\d+\.bin\.zst$/);
      expect(snapshotBlock(interval.snapshot!.key)).toBe(interval.start);
      expect(interval.expectedEndHash).toBeUndefined(); // all empty in this file
    }
  });

  it('builds a sound manifest', () => {
    const manifest = buildManifest({ run: 'enf-20240101', createdAt: '2026-03-01T00:00:00.000Z', intervals: imported.intervals, nodeos: { version: '5.0.2' } });
    expect(manifest.intervals).toHaveLength(899);
  });
});

describe('ENF import: accepted variations', () => {
  it('an empty snapshot path is genesis; a hash is kept, lowercase; a missing leap_version names no nodeos', () => {
    const imported = parse([
      slice(0, 10, { snapshot_path: '', leap_version: undefined }),
      slice(10, 20, { expected_integrity_hash: 'AB'.repeat(32), snapshot_path: 'snapshots/x-10.bin' }),
    ]);
    expect(imported.intervals).toEqual([
      { start: 0, end: 10, snapshot: null },
      { start: 10, end: 20, snapshot: { key: 'snapshots/x-10.bin' }, expectedEndHash: 'ab'.repeat(32) },
    ]);
    expect(imported.nodeosVersion).toBe('5.0.2');
    expect(parse([slice(0, 10, { leap_version: undefined })]).nodeosVersion).toBeUndefined();
  });

  it('a gap only with allowGaps', () => {
    const slices = [slice(0, 10), slice(20, 30)];
    expect(() => parse(slices)).toThrow(/job\.json: slice \[1\]: start_block_id 20 leaves blocks 10-20 uncovered after the previous slice; fix the file or pass --allow-gaps/);
    expect(parse(slices, { allowGaps: true }).intervals.map((i) => i.start)).toEqual([0, 20]);
  });
});

describe('ENF import: refused, naming the slice', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '[{"start_block_id": 0,', /job\.json: not valid JSON .*; give the anchor's job manifest file/],
    ['an object', '{}', /not a non-empty JSON array of slices/],
    ['an empty array', '[]', /not a non-empty JSON array of slices/],
    ['a slice that is not an object', '[1]', /slice \[0\]: not an object/],
    ['a missing end', JSON.stringify([{ start_block_id: 0 }]), /slice \[0\]: end_block_id undefined is not a block number/],
    ['a string block', JSON.stringify([slice(0, 10), { ...slice(10, 20), start_block_id: '10' }]), /slice \[1\]: start_block_id "10" is not a block number/],
    ['a fractional block', JSON.stringify([slice(0, 10.5)]), /slice \[0\]: end_block_id 10\.5 is not a block number/],
    ['a block beyond 10 digits', JSON.stringify([slice(0, 1e10)]), /beyond block 9999999999/],
    ['end <= start', JSON.stringify([slice(10, 10)]), /slice \[0\]: end_block_id 10 is not after start_block_id 10/],
    ['an overlap', JSON.stringify([slice(0, 10), slice(5, 20)]), /slice \[1\]: start_block_id 5 is before the previous slice's end 10 \(unsorted or overlapping\)/],
    ['a path without snapshots/', JSON.stringify([slice(0, 10, { snapshot_path: 's3://b/mainnet/snap-0.bin' })]), /slice \[0\]: snapshot_path s3:\/\/b\/mainnet\/snap-0\.bin has no snapshots\/ directory/],
    ['a path escaping', JSON.stringify([slice(0, 10, { snapshot_path: 's3://b/snapshots/../x-0.bin' })]), /does not map to a store key/],
    ['a snapshot after the start', JSON.stringify([slice(0, 10, { snapshot_path: 's3://b/snapshots/s-5.bin' })]), /snapshot_path s3:\/\/b\/snapshots\/s-5\.bin is of block 5, after the slice's start 0/],
    ['a bad hash', JSON.stringify([slice(0, 10, { expected_integrity_hash: 'abc' })]), /expected_integrity_hash "abc" is neither empty nor 64 hex digits/],
    ['two leap versions', JSON.stringify([slice(0, 10), slice(10, 20, { leap_version: '5.0.3' })]), /slice \[1\]: leap_version 5\.0\.3 differs from 5\.0\.2 in slice \[0\]; a run has one nodeos version: split the file/],
  ];
  for (const [name, text, message] of cases) {
    it(name, () => {
      expect(() => parseEnfManifest(text, 'job.json')).toThrow(ManifestInputError);
      expect(() => parseEnfManifest(text, 'job.json')).toThrow(message);
    });
  }
});
