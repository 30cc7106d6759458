import { Command } from 'commander';
import { RunNotFoundError } from '../manifest/errors.js';
import { computeRunStatus, formatStatus, RunReader } from '../status/index.js';
import { systemClock } from '../time/system-clock.js';
import { userErrors } from './manifest/cli-support.js';
import { checkRunId } from './manifest/publish-run.js';
import { withStore } from './manifest/store-option.js';

/**
 * `replay-node status`: one read of the run from the store (no gossip), the
 * same computation the observer shows. Staleness is judged by the store's
 * clock, so the answer does not depend on this host's wall clock.
 */
export function statusCommand(): Command {
  return new Command('status')
    .summary("print a run's status from the store")
    .description(
      "Print a run's status read from the store: items per state, progress and speed, hash verdicts, chain-continuity breaks, " +
        'the nodes with their state and heartbeat age, failed and conflicting items. --json prints the documented replay/status/v1 object (docs/status.md).',
    )
    .requiredOption('--store <url>', 'the shared store')
    .requiredOption('--run <run>', 'the run id')
    .option('--json', 'print the replay/status/v1 JSON object instead of text')
    .action(
      userErrors(async (options: { store: string; run: string; json?: boolean }) => {
        const run = checkRunId(options.run);
        const status = await withStore(options.store, { probe: false }, async (store) => {
          const reader = new RunReader({ store, clock: systemClock, run });
          const state = await reader.refresh();
          if (reader.manifestStatus === 'missing') throw new RunNotFoundError(run, store.description);
          return computeRunStatus(state, { now: { monotonic: systemClock.monotonic(), wall: systemClock.now() } });
        });
        process.stdout.write(options.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      }),
    );
}
