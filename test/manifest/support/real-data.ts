import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The ENF replay-test project's real inputs (MIT), carried in the repository under data/enf/. */
export const realSpacingPath = fileURLToPath(new URL('../../../data/enf/optimized_block_spacing.tsv', import.meta.url));
export const realEnfManifestPath = fileURLToPath(new URL('../../../data/enf/full-production-run-20240101.json', import.meta.url));

export const realSpacing = (): string => readFileSync(realSpacingPath, 'utf8');
export const realEnfManifest = (): string => readFileSync(realEnfManifestPath, 'utf8');
