import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { ManifestConflictError, ManifestInputError, RunNotFoundError, SnapshotHashError } from '../../manifest/errors.js';
import { parseNonNegativeInteger } from '../../manifest/numbers.js';
import { UserError } from '../describe-error.js';

/** Exit code when a different manifest already holds the run id (scripts can tell it from other mistakes). */
export const EXIT_RUN_EXISTS = 4;

/**
 * Wraps a command action so the manifest tools' typed errors become the
 * CLI's one-line user errors (src/cli/run-cli.ts prints them).
 */
export function userErrors<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      if (error instanceof ManifestConflictError) throw new UserError(error.message, EXIT_RUN_EXISTS);
      if (error instanceof ManifestInputError || error instanceof RunNotFoundError) throw new UserError(error.message);
      // Bad data in the store (or a store that kept failing), not a bad input file: exit 1 like corrupt objects.
      if (error instanceof SnapshotHashError) throw new UserError(error.message, 1);
      throw error;
    }
  };
}

/** A commander parser for whole-number options (`--count 10`), at least `min`. */
export function integerOption(min = 0): (value: string) => number {
  return (value: string) => {
    const parsed = parseNonNegativeInteger(value, 'the value');
    if (!parsed.ok) throw new InvalidArgumentError(`${parsed.problem}.`);
    if (parsed.value < min) throw new InvalidArgumentError(`It must be a whole number >= ${min}.`);
    return parsed.value;
  };
}

/** Reads a file the user named, with a one-line error naming it. */
export async function readInputFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    throw new UserError(`cannot read ${what} ${path}: ${why}; check the path`);
  }
}
