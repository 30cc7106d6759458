import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Multi-process tests spawn real CLIs; two cores do not want more.
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
