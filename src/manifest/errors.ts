/**
 * The manifest tools' typed outcomes. Each has a stable `name`; the CLI turns
 * them into one-line messages with a non-zero exit.
 */

/**
 * A file the user gave (spacing table, expected hashes, item list, ENF job
 * manifest) is wrong. `line` is 1-based when the problem sits on one line;
 * the message already says what to do.
 */
export class ManifestInputError extends Error {
  override readonly name = 'ManifestInput';
  constructor(
    /** The file (or other input) as the user named it. */
    readonly source: string,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(line === undefined ? `${source}: ${problem}` : `${source} line ${line}: ${problem}`);
  }
}

/** A run id with no manifest in the store. */
export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFound';
  constructor(readonly run: string, storeDescription: string) {
    super(`run ${run} has no manifest in ${storeDescription}; list the runs with "replay-manifest list --store URL"`);
  }
}

/**
 * A different manifest is already published under the run id. Runs are
 * immutable (a re-run is a new run id), so this is refused, never merged.
 */
export class ManifestConflictError extends Error {
  override readonly name = 'ManifestConflict';
  constructor(
    readonly run: string,
    /** Top-level fields whose content differs (e.g. `intervals`, `replicas`). */
    readonly differences: string[],
    existingCreatedAt: string,
  ) {
    super(
      `run ${run} already has a different manifest (published ${existingCreatedAt}; differs in ${differences.join(', ')}); ` +
        'runs are immutable: publish under a new run id, or use "replay-manifest rerun" to derive one',
    );
  }
}

/**
 * A snapshot's sha256 cannot be settled for the manifest: its record or
 * `.sha256` file is corrupt, the record's size disagrees with the object,
 * or hashing it failed. `key` is the object at fault.
 */
export class SnapshotHashError extends Error {
  override readonly name = 'SnapshotHash';
  constructor(readonly key: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
