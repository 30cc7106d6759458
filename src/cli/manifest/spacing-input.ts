import { expandSpacing, type SpanInterval } from '../../manifest/expand.js';
import { parseSpacing } from '../../manifest/spacing.js';
import { readInputFile } from './cli-support.js';

/** Reads, validates and expands `--spacing FILE`. */
export async function readSpacingIntervals(path: string): Promise<{ intervals: SpanInterval[]; rows: number }> {
  const rows = parseSpacing(await readInputFile(path, 'spacing file'), path);
  return { intervals: expandSpacing(rows), rows: rows.length };
}
