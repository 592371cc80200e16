import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CommonJS and ESM side by side without an exports map. Node (and so Pothos and
    // yoga) loads the CommonJS build; vite would give our own imports the ESM one, and graphql-js
    // rejects types from a second copy. One copy: ours resolve to the same file Node loads.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['{shared,control-plane,data-plane,test}/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['./test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
