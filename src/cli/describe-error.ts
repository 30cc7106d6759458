import { StoreError } from '../store/errors.js';
import { redactSecrets } from '../util/redact.js';

/** Errors that already carry a user-facing message and an exit code. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

/**
 * The one line a CLI prints for a failure. Redacted: a message may quote
 * what a user typed (a URL with user:pass@) or what a server or library
 * said (an SDK error echoing a request), and stderr ends up in CI logs.
 */
export function describeError(error: unknown): string {
  return redactSecrets(rawDescription(error));
}

/** The stack `--debug` prints, redacted like the one line. */
export function describeStack(error: unknown): string | undefined {
  return error instanceof Error && error.stack ? redactSecrets(error.stack) : undefined;
}

function rawDescription(error: unknown): string {
  if (error instanceof UserError) return error.message;
  if (error instanceof StoreError) return `${error.name}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UserError) return error.exitCode;
  return 1;
}
