import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3Location } from './s3-url.js';

/**
 * The SDK clients of one S3 store. Two, because a retried conditional write
 * is ambiguous (a 412 on the retry can hide a first attempt that landed):
 * conditional writes go through `once` (one attempt, every failure after
 * sending is reported as such), everything else through `retrying` (the
 * SDK's standard retries, safe for reads, lists, deletes and overwrites).
 */
export interface S3Clients {
  retrying: S3Client;
  once: S3Client;
  /** Sets the socket (idle) timeout of each client: `once` gets `onceMs`, `retrying` gets `retryingMs`. */
  setTimeouts(onceMs: number, retryingMs: number): void;
  destroy(): void;
}

export interface S3ClientOptions {
  /** Default: the standard AWS chain (environment, profile, SSO, web identity, instance metadata). */
  credentials?: S3ClientConfig['credentials'];
  /** SDK attempts for requests that may be retried. Default 3 (the SDK's). */
  maxAttempts?: number;
}

export function createS3Clients(location: S3Location, options: S3ClientOptions = {}): S3Clients {
  // The project supports Node 20 on purpose (engines >=20.19); the SDK's
  // once-per-process notice about future versions would break the CLI's
  // one-line stderr contract. A documented opt-out; a user's own setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const make = (maxAttempts: number): S3Client => {
    const client = new S3Client({
      region: location.region,
      ...(location.endpoint ? { endpoint: location.endpoint } : {}),
      forcePathStyle: location.pathStyle,
      maxAttempts,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // The SDK's default checksum trailers (aws-chunked streaming bodies) get
      // 411 from several S3-compatible servers, RGW among them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // socketTimeout is an idle timeout: a many-GB stream may take long, but never goes silent for long.
      requestHandler: { connectionTimeout: Math.min(location.timeoutMs, 10_000), socketTimeout: location.timeoutMs },
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const date = (result.response as { headers?: Record<string, string> } | undefined)?.headers?.date;
        if (date && typeof result.output === 'object' && result.output !== null) {
          Object.defineProperty(result.output, STORE_DATE, { value: new Date(date), enumerable: false });
        }
        return result;
      },
      // build step: outside the deserializer (the output exists) and the retries (the last attempt's response).
      { step: 'build', name: 'replayStoreDate' },
    );
    return client;
  };
  const retrying = make(options.maxAttempts ?? 3);
  const once = make(1);
  const setSocketTimeout = (client: S3Client, ms: number): void => {
    (client.config.requestHandler as { updateHttpClientConfig?(key: string, value: unknown): void }).updateHttpClientConfig?.('socketTimeout', ms);
  };
  return {
    retrying,
    once,
    setTimeouts: (onceMs, retryingMs) => {
      setSocketTimeout(once, onceMs);
      setSocketTimeout(retrying, retryingMs);
    },
    destroy: () => {
      retrying.destroy();
      once.destroy();
    },
  };
}

const STORE_DATE = Symbol('storeDate');

/** The response `Date` header of an SDK output or error: the store's clock. */
export function storeDateOf(outputOrError: unknown, fallback: () => Date): Date {
  const fromOutput = (outputOrError as { [STORE_DATE]?: Date } | undefined)?.[STORE_DATE];
  if (fromOutput && !Number.isNaN(fromOutput.getTime())) return fromOutput;
  const header = (outputOrError as { $response?: { headers?: Record<string, string> } } | undefined)?.$response?.headers?.date;
  const parsed = header ? new Date(header) : undefined;
  return parsed && !Number.isNaN(parsed.getTime()) ? parsed : fallback();
}
