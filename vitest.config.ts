import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{shared,control-plane,data-plane,test}/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['./test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Secrets must never reach a log line; tests that check this capture output themselves.
    reporters: ['default'],
  },
});
