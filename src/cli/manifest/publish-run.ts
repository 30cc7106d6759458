import { isValidName } from '../../layout/keys.js';
import type { Manifest } from '../../manifest/manifest.js';
import { manifestItems } from '../../manifest/items.js';
import { publishManifest } from '../../manifest/publish.js';
import type { Store } from '../../store/store.js';
import { UserError } from '../describe-error.js';
import { stderrLine, withSnapshotHashes } from './snapshot-hashes.js';

/** Refuses a run id that cannot be a key segment, before anything is read or written. */
export function checkRunId(run: string, option = '--run'): string {
  if (!isValidName(run)) {
    throw new UserError(`${option} ${JSON.stringify(run)} is not a valid run id; use letters, digits, ".", "_" and "-" (at most 128, starting with a letter or digit)`);
  }
  return run;
}

/**
 * Publishes (or with --dry-run prints) a built manifest and tells the user
 * what happened, on stdout. First each snapshot's sha256 is filled in where
 * the store has it (or, with --hash-snapshots, by hashing); the notes about
 * that follow on stderr once it is done, so an error stays one line.
 */
export async function publishOrPrint(store: Store, built: Manifest, options: { dryRun?: boolean; hashSnapshots?: boolean }): Promise<void> {
  const { manifest, notes } = await withSnapshotHashes(store, built, options.hashSnapshots === true);
  if (options.dryRun) {
    process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
    notes.forEach(stderrLine);
    return;
  }
  const outcome = await publishManifest(store, manifest);
  const fromGenesis = manifest.intervals.filter((i) => i.snapshot === null).length;
  const summary =
    `${manifest.intervals.length} intervals, ${manifestItems(manifest).length} items, ` +
    `blocks ${manifest.intervals[0]!.start}-${manifest.intervals.at(-1)!.end}, ${fromGenesis} from genesis`;
  process.stdout.write(
    outcome.outcome === 'created'
      ? `published run ${manifest.run} (${summary}) at ${outcome.key}\n`
      : `run ${manifest.run} is already published with the same content (${summary}); nothing written\n`,
  );
  notes.forEach(stderrLine);
}
