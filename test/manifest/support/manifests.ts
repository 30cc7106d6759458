import { buildManifest, type BuildManifestInput } from '../../../src/manifest/build-manifest.js';
import type { Manifest } from '../../../src/manifest/manifest.js';

/** A small sound manifest: three contiguous intervals, the middle one from a snapshot. */
export function sampleManifest(run: string, overrides: Partial<BuildManifestInput> = {}): Manifest {
  return buildManifest({
    run,
    createdAt: '2026-03-01T10:00:00.000Z',
    intervals: [
      { start: 0, end: 1000 },
      { start: 1000, end: 2000, snapshot: { key: 'snapshots/s-0000001000.bin.zst' } },
      { start: 2000, end: 2600, snapshot: { key: 'snapshots/s-0000001000.bin.zst' }, expectedEndHash: 'e'.repeat(64) },
    ],
    chainId: 'aca376f206b8fc25a6ed44dbdc66547c36c6c33e3a119ffbeaef943642f0e906',
    nodeos: { version: 'v5.0.2', artifact: { key: 'artifacts/leap_5.0.2_amd64.deb', sha256: 'a'.repeat(64) } },
    source: { kind: 'test' },
    ...overrides,
  });
}
