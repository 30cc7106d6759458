import { rgwUnavailableReason, startRgw, type RunningRgw } from './rgw.js';

/**
 * Which S3 server the test run uses, decided once by the global setup and
 * handed to every test file through vitest's provide/inject:
 *
 *   REPLAY_S3_ENDPOINT=http://127.0.0.1:9000   use this server (MinIO from docker-compose.minio.yml, ...);
 *                                               "aws" for AWS S3 itself (no endpoint)
 *   REPLAY_S3_ACCESS_KEY_ID / REPLAY_S3_SECRET_ACCESS_KEY   its keys (default: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
 *   REPLAY_S3_REGION                           default us-east-1
 *   REPLAY_S3_BUCKET                           an existing bucket: tests then use fresh prefixes in it
 *                                               instead of creating a bucket each (for AWS)
 *   REPLAY_S3=off                              no S3: the S3 suites are skipped (loudly)
 *   REPLAY_REQUIRE_S3=1                        no S3 is a failure, not a skip (.ci/run sets it)
 *
 * Without REPLAY_S3_ENDPOINT the setup starts a throwaway Ceph RGW
 * (test/support/rgw.ts), installing its Debian packages first when they are
 * missing and the tests run as root.
 */
export interface S3TestTarget {
  source: 'rgw' | 'env';
  /** undefined: AWS S3 itself. */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A fixed, existing bucket to share (prefixes per test); absent: each test may create buckets. */
  bucket?: string;
}

export type S3Availability = { ok: true; target: S3TestTarget } | { ok: false; reason: string };

declare module 'vitest' {
  export interface ProvidedContext {
    s3: S3Availability;
  }
}

export async function resolveS3Target(log: (line: string) => void, env = process.env): Promise<{ availability: S3Availability; rgw?: RunningRgw }> {
  if (env.REPLAY_S3_ENDPOINT) {
    const accessKeyId = env.REPLAY_S3_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.REPLAY_S3_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      return { availability: { ok: false, reason: 'REPLAY_S3_ENDPOINT is set but REPLAY_S3_ACCESS_KEY_ID / REPLAY_S3_SECRET_ACCESS_KEY are not' } };
    }
    const target: S3TestTarget = {
      source: 'env',
      ...(env.REPLAY_S3_ENDPOINT !== 'aws' ? { endpoint: env.REPLAY_S3_ENDPOINT.replace(/\/$/, '') } : {}),
      region: env.REPLAY_S3_REGION ?? 'us-east-1',
      accessKeyId,
      secretAccessKey,
      ...(env.REPLAY_S3_BUCKET ? { bucket: env.REPLAY_S3_BUCKET } : {}),
    };
    return { availability: { ok: true, target } };
  }
  if (env.REPLAY_S3 === 'off') return { availability: { ok: false, reason: 'REPLAY_S3=off' } };
  const missing = await rgwUnavailableReason(log);
  if (missing) return { availability: { ok: false, reason: missing } };
  try {
    const rgw = await startRgw(log);
    const { endpoint, region, accessKeyId, secretAccessKey } = rgw;
    log(`S3 tests: Ceph RGW at ${endpoint} (up in ${rgw.startSeconds.toFixed(1)} s, data ${rgw.dataDir})`);
    return { availability: { ok: true, target: { source: 'rgw', endpoint, region, accessKeyId, secretAccessKey } }, rgw };
  } catch (error) {
    return { availability: { ok: false, reason: `Ceph RGW did not start: ${(error as Error).message}` } };
  }
}

/**
 * What the run does about S3: 'run', or 'skip' after saying so loudly on
 * `write`; with REPLAY_REQUIRE_S3=1 a missing server throws (the run fails).
 */
export function s3Verdict(availability: S3Availability, env: NodeJS.ProcessEnv, write: (text: string) => void): 'run' | 'skip' {
  if (availability.ok) return 'run';
  if (env.REPLAY_REQUIRE_S3 === '1') throw new Error(`REPLAY_REQUIRE_S3=1 but no S3 server for the tests: ${availability.reason}`);
  const bar = '!'.repeat(78);
  write(`\n${bar}\n!! S3 SUITES SKIPPED: ${availability.reason}\n!! (set REPLAY_S3_ENDPOINT, or run as root so Ceph RGW can be installed)\n${bar}\n\n`);
  return 'skip';
}
