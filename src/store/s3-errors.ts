import {
  AlreadyExistsError,
  NotFoundError,
  NotSupportedError,
  PreconditionFailedError,
  StoreConfigError,
  StoreError,
  UnavailableError,
  WriteOutcomeUnknownError,
} from './errors.js';

/**
 * The one place that knows HTTP status codes and S3 error codes: every SDK
 * failure becomes one of the store's typed errors, with a one-line message
 * that names the problem and the fix. Quirks normalised here
 * (../shared/reference/s3-conditional-writes.md):
 *
 * - create: 412 and 304 mean the key exists (AlreadyExists);
 * - update: 412 is a stale ETag, 404 (AWS) a missing key: both
 *   PreconditionFailed;
 * - conditional writes: 409 ConditionalRequestConflict, 5xx (RGW answers
 *   500 to CAS race losers), timeouts and resets after sending say nothing
 *   about whether the write landed: WriteOutcomeUnknown, for the caller to
 *   resolve by reading back;
 * - a connection never made (refused, unknown host) changed nothing:
 *   Unavailable, for every kind of request.
 */
export type S3Operation = 'get' | 'head' | 'list' | 'delete' | 'create' | 'update' | 'overwrite';

export interface S3ErrorContext {
  operation: S3Operation;
  /** The store key (relative to the prefix); absent for list. */
  key?: string;
  bucket: string;
  /** Where requests go, for messages: the endpoint or "AWS S3". */
  endpoint: string;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  Code?: string;
}

const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

export function translateS3Error(error: unknown, c: S3ErrorContext): Error {
  if (error instanceof StoreError) return error;
  const e = (error ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const code = e.Code ?? e.name ?? 'Unknown';
  const key = c.key ?? '';
  const conditional = c.operation === 'create' || c.operation === 'update';
  const detail = oneLine(`${status ?? 'no response'} ${code}${e.message && e.message !== code ? `: ${e.message}` : ''}`);
  const options = { cause: error };

  if (isAbort(error)) return error as Error;
  if (code === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return new StoreConfigError(
      `no AWS credentials found for s3://${c.bucket}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)`,
      options,
    );
  }
  if (status === undefined) {
    const sysCode = e.code ?? (error as { cause?: { code?: string } }).cause?.code ?? '';
    const neverConnected = NOT_CONNECTED.has(sysCode) || /Connection timed out|connect ECONNREFUSED|getaddrinfo/i.test(e.message ?? '');
    if (neverConnected || !conditional) {
      return new UnavailableError(
        `cannot reach the S3 endpoint ${c.endpoint} (${oneLine(sysCode || e.message || code)}); check the endpoint in the store URL and that the server is running`,
        options,
      );
    }
    return new WriteOutcomeUnknownError(key, `no response: ${oneLine(e.message ?? code)}`, options);
  }
  if (c.operation === 'create' && (status === 412 || status === 304)) return new AlreadyExistsError(key, options);
  if (c.operation === 'update' && (status === 412 || (status === 404 && code !== 'NoSuchBucket'))) return new PreconditionFailedError(key, options);
  if (status === 404 && code === 'NoSuchBucket') {
    return new StoreConfigError(`bucket ${c.bucket} does not exist at ${c.endpoint}; create it (aws s3 mb s3://${c.bucket}) or fix the store URL`, options);
  }
  if (status === 404 && (c.operation === 'get' || c.operation === 'head' || c.operation === 'delete')) return new NotFoundError(key, options);
  if (status === 403 || status === 401) return new StoreConfigError(forbidden(code, c), options);
  if (status === 301 || code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed') {
    return new StoreConfigError(`bucket ${c.bucket} is not in the region the store URL says (${code}); set region= in the URL to the bucket's region`, options);
  }
  if (status === 501 && conditional) {
    return new NotSupportedError(`the S3 endpoint ${c.endpoint} does not implement conditional writes (${detail}); use a store that honours If-None-Match and If-Match`, options);
  }
  if (conditional && (status === 409 || status >= 500 || status === 429 || status === 408)) return new WriteOutcomeUnknownError(key, detail, options);
  if (status >= 500 || status === 429 || status === 408 || status === 409) {
    return new UnavailableError(`S3 endpoint ${c.endpoint} answered ${detail} on ${c.operation}${key ? ` of ${key}` : ''}; retry later`, options);
  }
  return new StoreConfigError(`S3 endpoint ${c.endpoint} refused ${c.operation}${key ? ` of ${key}` : ''} in bucket ${c.bucket}: ${detail}`, options);
}

function forbidden(code: string, c: S3ErrorContext): string {
  switch (code) {
    case 'InvalidAccessKeyId':
      return `the S3 endpoint ${c.endpoint} does not know the access key (InvalidAccessKeyId); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to keys of this endpoint`;
    case 'SignatureDoesNotMatch':
      return `the S3 endpoint ${c.endpoint} rejected the request signature (SignatureDoesNotMatch); check AWS_SECRET_ACCESS_KEY for this access key`;
    case 'RequestTimeTooSkewed':
      return `this host's clock differs from the S3 endpoint's by more than 15 minutes (RequestTimeTooSkewed); fix the clock (NTP)`;
    default:
      return `access denied to bucket ${c.bucket} at ${c.endpoint} (${code}); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and that they may read, write, list and delete in the bucket`;
  }
}

function isAbort(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'AbortError';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
