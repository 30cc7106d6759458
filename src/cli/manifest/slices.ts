import { Command } from 'commander';
import { cutSlices, defaultSliceOptions, type Slice } from '../../manifest/slices.js';
import { listSnapshots, type SnapshotIndex } from '../../manifest/snapshots.js';
import { integerOption, userErrors } from './cli-support.js';
import { formatTable } from '../../util/table.js';
import { readSpacingIntervals } from './spacing-input.js';
import { withStore } from './store-option.js';

interface SlicesOptions {
  spacing: string;
  count: number;
  stride: number;
  store?: string;
  json?: boolean;
}

/** `replay-manifest slices`: instructions for the snapshot-building runs. */
export function slicesCommand(): Command {
  return new Command('slices')
    .summary('instructions for the snapshot-building runs')
    .description(
      'Cut the intervals into slices for the snapshot-building runs: near-equal interval counts, boundaries on stride ' +
        'multiples, the last slice reaching the last block, each starting from the latest snapshot at or below its start.',
    )
    .requiredOption('--spacing <file>', 'the block-spacing table')
    .option('--count <n>', 'number of slices', integerOption(1), defaultSliceOptions.count)
    .option('--stride <blocks>', 'slice boundaries are multiples of this', integerOption(1), defaultSliceOptions.stride)
    .option('--store <url>', 'store whose snapshots/ to choose from (without it every slice starts from genesis)')
    .option('--json', 'print JSON instead of a table')
    .action(
      userErrors(async (options: SlicesOptions) => {
        const { intervals } = await readSpacingIntervals(options.spacing);
        const snapshots = options.store ? await withStore(options.store, { probe: false }, listSnapshots) : undefined;
        const slices = cutSlices(intervals, { count: options.count, stride: options.stride }, snapshots);
        process.stdout.write(options.json ? `${JSON.stringify(slicesJson(options, intervals.length, slices), null, 2)}\n` : slicesTable(slices, snapshots));
      }),
    );
}

function slicesJson(options: SlicesOptions, intervals: number, slices: Slice[]) {
  return {
    count: options.count,
    stride: options.stride,
    intervals,
    firstBlock: slices[0]!.start,
    lastBlock: slices.at(-1)!.end,
    snapshotsFrom: options.store ?? null,
    slices,
  };
}

function slicesTable(slices: Slice[], snapshots: SnapshotIndex | undefined): string {
  const table = formatTable(
    ['slice', 'start', 'end', 'blocks', 'intervals', 'first interval', 'last interval', 'start from'],
    slices.map((s) => [s.slice, s.start, s.end, s.end - s.start, s.intervals, s.firstIntervalStart ?? '-', s.lastIntervalStart ?? '-', s.snapshot ?? 'genesis']),
  );
  const note = snapshots ? `${snapshots.size} snapshots found under snapshots/\n` : 'no --store given: every slice starts from genesis\n';
  return table + note;
}
