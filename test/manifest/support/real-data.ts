import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The ENF replay-test project's real inputs (MIT), shared by all engineers. */
export const realSpacingPath = fileURLToPath(new URL('../../../../shared/data/enf/optimized_block_spacing.tsv', import.meta.url));
export const realEnfManifestPath = fileURLToPath(new URL('../../../../shared/data/enf/full-production-run-20240101.json', import.meta.url));

export const realSpacing = (): string => readFileSync(realSpacingPath, 'utf8');
export const realEnfManifest = (): string => readFileSync(realEnfManifestPath, 'utf8');
