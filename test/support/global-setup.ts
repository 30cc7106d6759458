/**
 * Runs once before all test files. Builds nothing (npm test builds first);
 * the S3 harness hooks in here to start a throwaway Ceph RGW.
 */
export default async function setup(): Promise<void> {}
