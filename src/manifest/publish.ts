import { runKeys } from '../layout/keys.js';
import { encodeJson } from '../layout/schema.js';
import { AlreadyExistsError, WriteOutcomeUnknownError } from '../store/errors.js';
import { create, type Store } from '../store/store.js';
import { manifestDifferences } from './compare-manifests.js';
import { ManifestConflictError, ManifestInputError, RunNotFoundError } from './errors.js';
import type { Manifest } from './manifest.js';
import { readManifest } from './read-manifest.js';
import { manifestProblem } from './validate-manifest.js';

export type PublishOutcome =
  /** This call wrote the manifest. */
  | { outcome: 'created'; key: string; etag: string }
  /** The run already had a manifest defining the same run (createdAt and source aside): nothing written. */
  | { outcome: 'identical'; key: string; etag: string; existing: Manifest };

/**
 * Publishes a run's manifest with create-if-absent: one store request when
 * the run is new, of any number of concurrent publishers exactly one writes.
 * Runs are immutable, so an existing manifest is never overwritten: the same
 * run again is a no-op, a different one is refused.
 *
 * An ambiguous write (timeout, 5xx) is settled by reading the key back: our
 * exact bytes there mean our write landed.
 *
 * @throws ManifestConflictError when the run id holds a different manifest
 * @throws CorruptObjectError when the run id holds something that is not a sound manifest
 */
export async function publishManifest(store: Store, manifest: Manifest): Promise<PublishOutcome> {
  const problem = manifestProblem(manifest);
  if (problem) throw new ManifestInputError(`manifest for run ${manifest.run}`, problem);
  const key = runKeys(manifest.run).manifest;
  const body = encodeJson(manifest);
  for (let attempt = 1; ; attempt++) {
    try {
      const put = await store.put(key, body, create);
      return { outcome: 'created', key, etag: put.etag };
    } catch (error) {
      if (!(error instanceof AlreadyExistsError) && !(error instanceof WriteOutcomeUnknownError)) throw error;
      const ambiguous = error instanceof WriteOutcomeUnknownError;
      let stored;
      try {
        stored = await readManifest(store, manifest.run);
      } catch (readError) {
        // Nothing there after an ambiguous write: it did not land; try again (a few times).
        if (ambiguous && readError instanceof RunNotFoundError && attempt < MAX_ATTEMPTS) continue;
        throw ambiguous && readError instanceof RunNotFoundError ? error : readError;
      }
      if (ambiguous && JSON.stringify(stored.manifest) === JSON.stringify(manifest)) {
        return { outcome: 'created', key, etag: stored.etag };
      }
      const differences = manifestDifferences(stored.manifest, manifest);
      if (differences.length > 0) throw new ManifestConflictError(manifest.run, differences, stored.manifest.createdAt);
      return { outcome: 'identical', key, etag: stored.etag, existing: stored.manifest };
    }
  }
}

/** Ambiguous writes retried before giving up with the store's error. */
const MAX_ATTEMPTS = 3;
