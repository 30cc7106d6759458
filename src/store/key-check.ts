import { StoreError } from './errors.js';

/** A key no backend should accept (empty, absolute, `..`, NUL, too long). */
export class InvalidKeyError extends StoreError {
  override readonly name = 'InvalidKey';
  readonly retryable = false;
  constructor(readonly key: string, reason: string) {
    super(`invalid store key ${JSON.stringify(key)}: ${reason}`);
  }
}

/** S3's limit; the file backend inherits it so keys stay portable. */
const MAX_KEY_BYTES = 1024;

/**
 * The keys every backend accepts: relative, `/`-separated, no empty, `.` or
 * `..` segment (a directory backend could not hold them, and `..` would
 * escape its root), no NUL. Keeping the rule common means a layout that works
 * on the memory store also works on a directory and on S3.
 */
export function checkKey(key: string): void {
  if (key.length === 0) throw new InvalidKeyError(key, 'empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new InvalidKeyError(key, `longer than ${MAX_KEY_BYTES} bytes`);
  if (key.includes('\0')) throw new InvalidKeyError(key, 'contains NUL');
  if (key.includes('\\')) throw new InvalidKeyError(key, 'contains a backslash; use / as separator');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidKeyError(key, 'empty path segment (leading, trailing or double /)');
    if (segment === '.' || segment === '..') throw new InvalidKeyError(key, `"${segment}" segment`);
  }
}
