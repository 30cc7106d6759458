/**
 * The store's typed outcomes. Only the S3 backend knows HTTP status codes;
 * every caller sees these classes, each with a stable `name` and a
 * `retryable` flag that says whether trying again can help.
 */
export abstract class StoreError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A create-if-absent write found the key already present. */
export class AlreadyExistsError extends StoreError {
  override readonly name = 'AlreadyExists';
  readonly retryable = false;
  constructor(readonly key: string, options?: { cause?: unknown }) {
    super(`object already exists: ${key}`, options);
  }
}

/** A compare-and-swap found a different version than the ETag given. */
export class PreconditionFailedError extends StoreError {
  override readonly name = 'PreconditionFailed';
  readonly retryable = false;
  constructor(readonly key: string, options?: { cause?: unknown }) {
    super(`object changed since it was read (ETag mismatch): ${key}`, options);
  }
}

export class NotFoundError extends StoreError {
  override readonly name = 'NotFound';
  readonly retryable = false;
  constructor(readonly key: string, options?: { cause?: unknown }) {
    super(`object not found: ${key}`, options);
  }
}

/** The store could not be reached or answered with a transient error; nothing is known to have changed. */
export class UnavailableError extends StoreError {
  override readonly name = 'Unavailable';
  readonly retryable = true;
}

/**
 * A conditional write whose outcome is unknown: a timeout, a 5xx or a 409
 * after the request was sent. It may or may not have landed. Callers decide
 * by reading the object back and comparing the nonce they wrote (design §3).
 */
export class WriteOutcomeUnknownError extends StoreError {
  override readonly name = 'WriteOutcomeUnknown';
  readonly retryable = true;
  constructor(readonly key: string, detail: string, options?: { cause?: unknown }) {
    super(`write outcome unknown for ${key} (${detail}); read it back to decide`, options);
  }
}

/** The store cannot do what was asked (for example it ignores conditional headers). */
export class NotSupportedError extends StoreError {
  override readonly name = 'NotSupported';
  readonly retryable = false;
}

/** Misconfiguration the user must fix: bad URL, wrong credentials, missing bucket. */
export class StoreConfigError extends StoreError {
  override readonly name = 'StoreConfig';
  readonly retryable = false;
}
