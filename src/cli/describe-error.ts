import { StoreError } from '../store/errors.js';

/** Errors that already carry a user-facing message and an exit code. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof UserError) return error.message;
  if (error instanceof StoreError) return `${error.name}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UserError) return error.exitCode;
  return 1;
}
