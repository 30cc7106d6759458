import { Command } from 'commander';
import { openStoreFlag } from './store-flag.js';
import { probeStore, type ProbeReport } from '../store/probe.js';
import { systemClock } from '../time/system-clock.js';
import { systemIds } from '../util/ids.js';
import { formatTable } from '../util/table.js';

/**
 * Exit code of a store that answered but cannot be trusted (scripts tell it
 * from exit 1: a config error, or a store that stayed unavailable, for which
 * the probe throws ProbeUnavailableError and run-cli prints one line).
 */
export const EXIT_UNSAFE_STORE = 3;

/** `replay-node doctor --store URL`: can this store hold leases? */
export function doctorCommand(): Command {
  return new Command('doctor')
    .summary('check that a store honours conditional writes (can hold leases)')
    .description(
      'Run the capability probe under <prefix>/_probe/<id>/: create-if-absent refused on an existing key, 8 concurrent creates ' +
        'with exactly one winner, compare-and-swap accepted with the current ETag and refused with a stale one or on a missing key, ' +
        'ETag quoting, store clock, round-trip latency; then remove the probe objects. Transient errors (5xx, timeouts, resets) are ' +
        'retried and counted in the details; ambiguous writes are resolved by reading back. Exit 0 when the store can be trusted, ' +
        `${EXIT_UNSAFE_STORE} naming the failed check when not, 1 when the store cannot be used at all (credentials, bucket, endpoint) ` +
        'or is unavailable (only transient errors, even after retries: try again later).',
    )
    .requiredOption('--store <url>', 'the shared store: s3://bucket/prefix?endpoint=..., file:///dir or a directory')
    .option('--json', 'print the report as JSON')
    .action(async (options: { store: string; json?: boolean }) => {
      const store = openStoreFlag(options.store, { clock: systemClock, ids: systemIds });
      let report: ProbeReport;
      try {
        report = await probeStore(store, { clock: systemClock, ids: systemIds });
      } finally {
        await store.close();
      }
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      if (!report.ok) {
        process.stderr.write(`replay-node: store ${report.store} cannot be trusted with leases: check ${report.failed!.name} failed: ${report.failed!.detail}\n`);
        process.exitCode = EXIT_UNSAFE_STORE;
      }
    });
}

function formatReport(report: ProbeReport): string {
  const rows = report.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAILED', c.name === 'cleanup' ? '' : `${c.ms.toFixed(0)} ms`, c.detail]);
  const n = report.transientErrors;
  // A store that passes only after retries is healthy but flaky: say so on the verdict line too.
  const retried = n > 0 ? ` (${n} transient ${n === 1 ? 'error' : 'errors'} retried)` : '';
  const verdict = report.ok ? `store ${report.store}: OK, it can hold leases${retried}` : `store ${report.store}: NOT SAFE (${report.failed!.name})${retried}`;
  return `${formatTable(['check', 'result', 'time', 'detail'], rows)}${verdict}\n`;
}
