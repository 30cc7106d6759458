import { basename } from 'node:path';
import { Command } from 'commander';
import { buildManifest } from '../../manifest/build-manifest.js';
import { parseEnfManifest } from '../../manifest/import-enf.js';
import { systemClock } from '../../time/system-clock.js';
import { readInputFile, userErrors } from './cli-support.js';
import { checkRunId, publishOrPrint } from './publish-run.js';
import { addRunOptions, resolveRunOptions, type RunOptionValues } from './run-options.js';
import { withStore } from './store-option.js';

/** `replay-manifest import-enf`: the anchor's JSON job manifest becomes a run. */
export function importEnfCommand(): Command {
  const command = new Command('import-enf')
    .summary('publish a run converted from the ENF replay-test JSON job manifest')
    .description(
      "Convert the ENF replay-test JSON job manifest into a run: slices become intervals, snapshot paths " +
        "(s3://bucket/.../snapshots/NAME) become keys snapshots/NAME, non-empty expected_integrity_hash values become " +
        'expected end hashes, leap_version the nodeos version. Published like `publish`.',
    )
    .argument('<file>', "the anchor's job manifest (JSON)")
    .requiredOption('--store <url>', 'the shared store')
    .requiredOption('--run <run>', 'the new run id')
    .option('--allow-gaps', 'accept slices that do not cover every block between the first and the last');
  return addRunOptions(command).action(
    userErrors(async (file: string, options: RunOptionValues & { store: string; run: string; allowGaps?: boolean }) => {
      const run = checkRunId(options.run);
      const imported = parseEnfManifest(await readInputFile(file, 'ENF job manifest'), file, { allowGaps: options.allowGaps });
      await withStore(options.store, { probe: !options.dryRun }, async (store) => {
        const resolved = await resolveRunOptions(options, store, {
          nodeos: imported.nodeosVersion === undefined ? undefined : { version: imported.nodeosVersion },
        });
        const manifest = buildManifest({
          run,
          createdAt: new Date(systemClock.now()).toISOString(),
          intervals: imported.intervals,
          ...resolved,
          source: { kind: 'enf-import', file: basename(file), slices: imported.slices },
        });
        await publishOrPrint(store, manifest, options);
      });
    }),
  );
}
