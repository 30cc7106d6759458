import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildManifest } from '../manifest/build-manifest.js';
import { expandSpacing } from '../manifest/expand.js';
import type { Manifest } from '../manifest/manifest.js';
import { parseSpacing } from '../manifest/spacing.js';

/** The real EOS mainnet spacing table, carried in the package for the demo (data/enf/, MIT). */
export const ENF_SPACING = fileURLToPath(new URL('../../data/enf/optimized_block_spacing.tsv', import.meta.url));

/**
 * The real table's 860 intervals with every block number divided by
 * `scale` (rounded): the same shape of run (short intervals early, long
 * ones late) at a size a laptop replays on the simulated chain in a minute.
 */
export function scaledEnfManifest(run: string, createdAt: string, options: { scale: number; leaseTtlMs: number }): Manifest {
  const rows = parseSpacing(readFileSync(ENF_SPACING, 'utf8'), ENF_SPACING);
  const intervals = expandSpacing(rows).map((i) => ({ start: Math.round(i.start / options.scale), end: Math.round(i.end / options.scale) }));
  if (intervals.some((i) => i.end <= i.start)) throw new RangeError(`scale ${options.scale} collapses an interval; use a smaller one`);
  return buildManifest({
    run,
    createdAt,
    intervals,
    chainId: 'sim-eos-mainnet',
    defaults: { leaseTtlMs: options.leaseTtlMs },
    source: { kind: 'demo', table: 'data/enf/optimized_block_spacing.tsv', scale: options.scale },
  });
}
