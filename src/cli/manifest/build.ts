import { Command, Option } from 'commander';
import { formatIntervalsCsv } from '../../manifest/expand.js';
import { userErrors } from './cli-support.js';
import { readSpacingIntervals } from './spacing-input.js';

/** `replay-manifest build`: the spacing table expanded into intervals, in the anchor's CSV or as JSON. */
export function buildCommand(): Command {
  return new Command('build')
    .summary('print the intervals a block-spacing table expands to')
    .description('Validate a block-spacing table (tab-separated start, end, span) and print the intervals it expands to.')
    .requiredOption('--spacing <file>', 'the block-spacing table')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .action(
      userErrors(async (options: { spacing: string; format: 'csv' | 'json' }) => {
        const { intervals } = await readSpacingIntervals(options.spacing);
        process.stdout.write(options.format === 'csv' ? formatIntervalsCsv(intervals) : `${JSON.stringify(intervals, null, 2)}\n`);
      }),
    );
}
