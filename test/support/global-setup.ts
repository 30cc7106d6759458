import type { TestProject } from 'vitest/node';
import { resolveS3Target, s3Verdict } from './s3-target.js';

/**
 * Runs once before all test files (npm test builds first). Decides the S3
 * server of the run (test/support/s3-target.ts: a throwaway Ceph RGW, or the
 * endpoint in REPLAY_S3_ENDPOINT) and provides it to the tests; stops RGW at
 * teardown. Missing S3 is loud, and fatal with REPLAY_REQUIRE_S3=1.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // No SDK in a test may ask an instance-metadata address for credentials (only 127.0.0.1 is ours).
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const log = (line: string): void => void process.stderr.write(`[s3] ${line}\n`);
  const { availability, rgw } = await resolveS3Target(log);
  s3Verdict(availability, process.env, (text) => void process.stderr.write(text));
  project.provide('s3', availability);
  return async () => {
    await rgw?.stop();
  };
}
