import { Command } from 'commander';
import type { Manifest } from '../../manifest/manifest.js';
import { manifestItems } from '../../manifest/items.js';
import { readManifest } from '../../manifest/read-manifest.js';
import { userErrors } from './cli-support.js';
import { formatTable } from '../../util/table.js';
import { checkRunId } from './publish-run.js';
import { withStore } from './store-option.js';

/** `replay-manifest show`: a run's manifest, as stored or as a table. */
export function showCommand(): Command {
  return new Command('show')
    .summary("print a run's manifest")
    .description("Print a run's manifest (validated): the JSON as stored, or a summary and interval table with --table.")
    .requiredOption('--store <url>', 'the shared store')
    .requiredOption('--run <run>', 'the run id')
    .option('--table', 'a readable summary and interval table instead of JSON')
    .action(
      userErrors(async (options: { store: string; run: string; table?: boolean }) => {
        const run = checkRunId(options.run);
        const { manifest } = await withStore(options.store, { probe: false }, (store) => readManifest(store, run));
        process.stdout.write(options.table ? manifestTable(manifest) : `${JSON.stringify(manifest, null, 2)}\n`);
      }),
    );
}

function manifestTable(m: Manifest): string {
  const lines = [
    `run         ${m.run}`,
    `created     ${m.createdAt}`,
    `chain id    ${m.chainId ?? '-'}`,
    `nodeos      ${m.nodeos ? `${m.nodeos.version}${m.nodeos.artifact ? ` (${m.nodeos.artifact.key}, sha256 ${m.nodeos.artifact.sha256})` : ''}` : '-'}`,
    `replicas    ${m.replicas}`,
    `intervals   ${m.intervals.length} (${manifestItems(m).length} items), blocks ${m.intervals[0]!.start}-${m.intervals.at(-1)!.end}`,
    `defaults    lease TTL ${m.defaults.leaseTtlMs} ms, ${m.defaults.maxAttempts} attempts, ${m.defaults.minFreeDiskBytes} bytes free disk`,
    `source      ${m.source ? JSON.stringify(m.source) : '-'}`,
    '',
  ];
  const table = formatTable(
    ['start', 'end', 'blocks', 'start from', 'expected end hash'],
    m.intervals.map((i) => [i.start, i.end, i.end - i.start, i.snapshot?.key ?? 'genesis', i.expectedEndHash ?? '-']),
  );
  return `${lines.join('\n')}\n${table}`;
}
