import { Command } from 'commander';
import { readManifest } from '../../manifest/read-manifest.js';
import { buildRerunManifest, selectRerunIntervals, type RerunMode } from '../../manifest/rerun.js';
import { systemClock } from '../../time/system-clock.js';
import { UserError } from '../describe-error.js';
import { integerOption, readInputFile, userErrors } from './cli-support.js';
import { checkRunId, publishOrPrint } from './publish-run.js';
import { addRunOptions, resolveRunOptions, type RunOptionValues } from './run-options.js';
import { withStore } from './store-option.js';

interface RerunOptions extends RunOptionValues {
  store: string;
  from: string;
  run: string;
  fromBlock?: number;
  items?: string;
  failed?: boolean;
}

/** `replay-manifest rerun`: a new run holding a subset of an old run's intervals. */
export function rerunCommand(): Command {
  const command = new Command('rerun')
    .summary("publish a new run with a subset of an old run's intervals")
    .description(
      "Publish a new run holding a subset of an old run's intervals (runs are immutable, so a re-run is a new run id). " +
        'Exactly one of: --from-block N (every interval ending after N), --items FILE (the listed item ids), --failed ' +
        '(items with failure records and no result, with conflicts, or with a mismatching or corrupt result). ' +
        'Snapshots, expected hashes, replicas, nodeos and defaults are copied unless overridden.',
    )
    .requiredOption('--store <url>', 'the shared store')
    .requiredOption('--from <run>', 'the run to take intervals from')
    .requiredOption('--run <run>', 'the new run id')
    .option('--from-block <n>', 'every interval that ends after block N', integerOption(0))
    .option('--items <file>', 'item ids, one per line (<start>-<end>[.r<k>], `aws s3 ls` lines work)')
    .option('--failed', 'the failed, conflicting and mismatching items');
  return addRunOptions(command, true).action(
    userErrors(async (options: RerunOptions) => {
      const from = checkRunId(options.from, '--from');
      const run = checkRunId(options.run);
      if (from === run) throw new UserError('--run must differ from --from: runs are immutable, a re-run is a new run id');
      const mode = await rerunMode(options);
      await withStore(options.store, { probe: !options.dryRun }, async (store) => {
        const old = (await readManifest(store, from)).manifest;
        const selection = await selectRerunIntervals(store, old, mode);
        const resolved = await resolveRunOptions(options, store, { nodeos: old.nodeos });
        const source =
          mode.kind === 'from-block' ? { mode: 'from-block', fromBlock: mode.block }
          : mode.kind === 'items' ? { mode: 'items', file: mode.source }
          : { mode: 'failed', items: Object.fromEntries(selection.reasons ?? []) };
        const manifest = buildRerunManifest(old, selection, { run, createdAt: new Date(systemClock.now()).toISOString(), ...resolved }, source);
        await publishOrPrint(store, manifest, options);
      });
    }),
  );
}

async function rerunMode(options: RerunOptions): Promise<RerunMode> {
  const given = [options.fromBlock !== undefined, options.items !== undefined, options.failed === true].filter(Boolean).length;
  if (given !== 1) throw new UserError('give exactly one of --from-block N, --items FILE, --failed');
  if (options.fromBlock !== undefined) return { kind: 'from-block', block: options.fromBlock };
  if (options.items !== undefined) return { kind: 'items', text: await readInputFile(options.items, 'items file'), source: options.items };
  return { kind: 'failed' };
}
