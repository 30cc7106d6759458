import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Multi-process tests spawn real CLIs; two cores do not want more.
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
    // No SDK in a test may ask an instance-metadata address for credentials (only 127.0.0.1 is ours).
    env: { AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
