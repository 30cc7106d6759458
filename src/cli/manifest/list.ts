import { Command } from 'commander';
import { listRuns, type RunListing } from '../../manifest/list-runs.js';
import { userErrors } from './cli-support.js';
import { formatTable } from '../../util/table.js';
import { withStore } from './store-option.js';

/** `replay-manifest list`: the runs in a store. */
export function listCommand(): Command {
  return new Command('list')
    .summary('list the runs in a store')
    .description('List the runs in a store with their size and creation time; runs without a sound manifest are listed with the problem.')
    .requiredOption('--store <url>', 'the shared store')
    .option('--json', 'print JSON instead of a table')
    .action(
      userErrors(async (options: { store: string; json?: boolean }) => {
        const runs = await withStore(options.store, { probe: false }, listRuns);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(runs.map(runJson), null, 2)}\n`);
          return;
        }
        if (runs.length === 0) {
          process.stdout.write('no runs\n');
          return;
        }
        process.stdout.write(
          formatTable(
            ['run', 'created', 'intervals', 'replicas', 'blocks', 'nodeos', 'source'],
            runs.map(({ run, manifest: m, problem }) =>
              m
                ? [run, m.createdAt, m.intervals.length, m.replicas, `${m.intervals[0]!.start}-${m.intervals.at(-1)!.end}`, m.nodeos?.version ?? '-', String(m.source?.kind ?? '-')]
                : [run, `(${problem})`, '', '', '', '', ''],
            ),
          ),
        );
      }),
    );
}

function runJson({ run, manifest: m, problem }: RunListing) {
  if (!m) return { run, problem };
  return {
    run,
    createdAt: m.createdAt,
    intervals: m.intervals.length,
    replicas: m.replicas,
    firstBlock: m.intervals[0]!.start,
    lastBlock: m.intervals.at(-1)!.end,
    nodeos: m.nodeos?.version ?? null,
    source: m.source ?? null,
  };
}
