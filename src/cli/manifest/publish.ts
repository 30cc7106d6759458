import { Command } from 'commander';
import { buildManifest } from '../../manifest/build-manifest.js';
import { listSnapshots } from '../../manifest/snapshots.js';
import { systemClock } from '../../time/system-clock.js';
import { userErrors } from './cli-support.js';
import { checkRunId, publishOrPrint } from './publish-run.js';
import { addRunOptions, resolveRunOptions, type RunOptionValues } from './run-options.js';
import { readSpacingIntervals } from './spacing-input.js';
import { withStore } from './store-option.js';
import { basename } from 'node:path';

/** `replay-manifest publish`: a spacing table becomes a run's immutable manifest. */
export function publishCommand(): Command {
  const command = new Command('publish')
    .summary("publish a run's manifest built from a block-spacing table")
    .description(
      'Build a run from a block-spacing table and write runs/<run>/manifest.json if absent. Each interval starts from the ' +
        'latest snapshot under snapshots/ at or below its start (or genesis). Each snapshot gets the sha256 the nodes verify ' +
        'it against from snapshots/<name>.json (its record), else <key>.sha256 (sha256sum output), else with --hash-snapshots ' +
        'by streaming it from the store; without one it is unverified (a note says how many). The same manifest again is a ' +
        'no-op; a different one under an existing run id is refused (exit 4): runs are immutable.',
    )
    .requiredOption('--store <url>', 'the shared store')
    .requiredOption('--run <run>', 'the new run id')
    .requiredOption('--spacing <file>', 'the block-spacing table');
  return addRunOptions(command).action(
    userErrors(async (options: RunOptionValues & { store: string; run: string; spacing: string }) => {
      const run = checkRunId(options.run);
      const { intervals, rows } = await readSpacingIntervals(options.spacing);
      await withStore(options.store, { probe: !options.dryRun }, async (store) => {
        const manifest = buildManifest({
          run,
          createdAt: new Date(systemClock.now()).toISOString(),
          intervals,
          snapshots: await listSnapshots(store),
          ...(await resolveRunOptions(options, store)),
          source: { kind: 'spacing', file: basename(options.spacing), rows },
        });
        await publishOrPrint(store, manifest, options);
      });
    }),
  );
}
