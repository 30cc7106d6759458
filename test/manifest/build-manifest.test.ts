import { describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/manifest/build-manifest.js';
import { ManifestInputError } from '../../src/manifest/errors.js';
import { expandSpacing } from '../../src/manifest/expand.js';
import { parseEnfManifest } from '../../src/manifest/import-enf.js';
import { manifestItems } from '../../src/manifest/items.js';
import { defaultRunDefaults } from '../../src/manifest/manifest.js';
import { SnapshotIndex, snapshotBlock } from '../../src/manifest/snapshots.js';
import { parseSpacing } from '../../src/manifest/spacing.js';
import { manifestProblem } from '../../src/manifest/validate-manifest.js';
import { sampleManifest } from './support/manifests.js';
import { realEnfManifest, realSpacing } from './support/real-data.js';

describe('buildManifest', () => {
  it('builds the real table with the ENF snapshots: each interval from the latest snapshot at or below its start', () => {
    const enfSnapshotKeys = parseEnfManifest(realEnfManifest(), 'enf').intervals.map((i) => i.snapshot!.key);
    const snapshots = new SnapshotIndex(enfSnapshotKeys);
    const intervals = expandSpacing(parseSpacing(realSpacing(), 'real'));
    const manifest = buildManifest({ run: 'mainnet-1', createdAt: '2026-03-01T10:00:00.000Z', intervals, snapshots });

    expect(manifest.intervals).toHaveLength(860);
    expect(manifest.intervals[0]!.snapshot).toEqual({ key: 'snapshots/snapshot-2018-06-10-01-eos-v6-0000000000.bin.zst' });
    const blocks = snapshots.all().map((s) => s.block);
    for (const interval of manifest.intervals) {
      const block = snapshotBlock(interval.snapshot!.key)!;
      expect(block).toBeLessThanOrEqual(interval.start);
      // No snapshot lies strictly between the chosen one and the start.
      expect(blocks.some((b) => b > block && b <= interval.start)).toBe(false);
    }
    expect(manifest.replicas).toBe(1);
    expect(manifest.defaults).toEqual(defaultRunDefaults);
    expect(manifestProblem(manifest)).toBeUndefined();
  });

  it('starts every interval from genesis when no snapshot is known, keeps given snapshots and hashes', () => {
    const manifest = sampleManifest('r1', { snapshots: new SnapshotIndex(['snapshots/s-0000000000.bin']) });
    expect(manifest.intervals.map((i) => i.snapshot?.key ?? 'genesis')).toEqual([
      'snapshots/s-0000000000.bin',
      'snapshots/s-0000001000.bin.zst',
      'snapshots/s-0000001000.bin.zst',
    ]);
    expect(sampleManifest('r1').intervals[0]!.snapshot).toBeNull();
    expect(sampleManifest('r1').intervals[2]!.expectedEndHash).toBe('e'.repeat(64));
  });

  it('merges run defaults over the project defaults and expands replicas into .r<k> item ids', () => {
    const manifest = sampleManifest('r1', { replicas: 3, defaults: { leaseTtlMs: 90_000, maxAttempts: undefined } });
    expect(manifest.defaults).toEqual({ ...defaultRunDefaults, leaseTtlMs: 90_000 });
    expect(manifestItems(manifest).map((i) => i.id)).toEqual([
      '0000000000-0000001000.r1', '0000000000-0000001000.r2', '0000000000-0000001000.r3',
      '0000001000-0000002000.r1', '0000001000-0000002000.r2', '0000001000-0000002000.r3',
      '0000002000-0000002600.r1', '0000002000-0000002600.r2', '0000002000-0000002600.r3',
    ]);
    expect(manifestItems(sampleManifest('r1')).map((i) => i.id)).toEqual([
      '0000000000-0000001000', '0000001000-0000002000', '0000002000-0000002600',
    ]);
  });

  it('refuses what a reader would refuse', () => {
    expect(() => sampleManifest('r1', { replicas: 0 })).toThrow(ManifestInputError);
    expect(() => sampleManifest('r1', { replicas: 0 })).toThrow(/replicas is not a whole number from 1 to 9999/);
    expect(() => sampleManifest('r1', { intervals: [] })).toThrow(/intervals is not a non-empty array/);
    expect(() => sampleManifest('r1', { defaults: { leaseTtlMs: 0 } })).toThrow(/defaults\.leaseTtlMs/);
  });
});

describe('manifestProblem: what makes a stored manifest corrupt', () => {
  const good = () => JSON.parse(JSON.stringify(sampleManifest('r1'))) as Record<string, unknown> & { intervals: Record<string, unknown>[] };

  const cases: Array<[string, (m: ReturnType<typeof good>) => unknown, RegExp]> = [
    ['an array', () => [], /not a JSON object/],
    ['another schema', (m) => ({ ...m, schema: 'replay/manifest/v2' }), /schema is "replay\/manifest\/v2"/],
    ['another run', (m) => ({ ...m, run: 'r2' }), /run is "r2" but the manifest is stored under run r1/],
    ['a bad createdAt', (m) => ({ ...m, createdAt: 'yesterday' }), /createdAt is not an ISO time/],
    ['fractional replicas', (m) => ({ ...m, replicas: 1.5 }), /replicas/],
    ['no defaults', (m) => ({ ...m, defaults: undefined }), /defaults is not an object/],
    ['a bad artifact hash', (m) => ({ ...m, nodeos: { version: 'v5', artifact: { key: 'artifacts/x.deb', sha256: 'x' } } }), /nodeos\.artifact\.sha256/],
    ['a nodeos without version', (m) => ({ ...m, nodeos: {} }), /nodeos\.version/],
    ['unsorted intervals', (m) => ({ ...m, intervals: [m.intervals[1], m.intervals[0]] }), /intervals\[1\] starts at 0, before the previous interval's end 2000/],
    ['overlapping intervals', (m) => ({ ...m, intervals: [m.intervals[0], { ...m.intervals[1], start: 999 }] }), /intervals\[1\] starts at 999/],
    ['an empty interval', (m) => ({ ...m, intervals: [{ ...m.intervals[0], end: 0 }] }), /intervals\[0\] ends at 0, not after its start 0/],
    ['a block beyond 10 digits', (m) => ({ ...m, intervals: [{ ...m.intervals[0], end: 1e10 }] }), /intervals\[0\]\.end is not a block number/],
    ['a string block', (m) => ({ ...m, intervals: [{ ...m.intervals[0], start: '0' }] }), /intervals\[0\]\.start is not a block number/],
    ['a missing snapshot field', (m) => ({ ...m, intervals: [{ start: 0, end: 5 }] }), /intervals\[0\]\.snapshot is neither null/],
    ['a snapshot after the start', (m) => ({ ...m, intervals: [{ start: 0, end: 5, snapshot: { key: 'snapshots/s-3.bin' } }] }), /snapshot snapshots\/s-3\.bin is of block 3, after the interval's start 0/],
    ['a bad expected hash', (m) => ({ ...m, intervals: [{ ...m.intervals[0], expectedEndHash: 'E'.repeat(64) }] }), /intervals\[0\]\.expectedEndHash/],
  ];
  it('accepts a sound manifest and unknown extra fields', () => {
    expect(manifestProblem(good(), 'r1')).toBeUndefined();
    expect(manifestProblem({ ...good(), futureField: { x: 1 } }, 'r1')).toBeUndefined();
  });
  for (const [name, corrupt, problem] of cases) {
    it(`refuses ${name}`, () => {
      expect(manifestProblem(corrupt(good()), 'r1')).toMatch(problem);
    });
  }
});
