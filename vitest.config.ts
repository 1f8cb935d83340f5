/**
 * Two projects, one run (`npm test` runs `vitest run`, both projects, beside lint, typecheck and format check):
 *  - `fast`: unit and component tests — no emulators, no build (`npm run test:fast`);
 *  - `full`: integration and end-to-end tests, after test/global-setup.ts has made the production build once and started
 *    the Pub/Sub and Firestore emulators once for all of them.
 * Files run in two forked processes (the machines have 2 cores), each keeping its module cache from file to file
 * (`isolate: false`); the longest files start first
 * (test/sequencer.ts) so the run does not end waiting for one of them. The timeouts are bounds, not assertions.
 */
import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/sequencer.js';

export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    env: { METADATA_SERVER_DETECTION: 'none', LOG_LEVEL: 'silent' },
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/unit/**/*.test.ts', 'test/component/**/*.test.ts'], isolate: false } },
      {
        extends: true,
        test: {
          name: 'full',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          // One module cache per worker, as in `fast`: each file in a fresh process cost ≈ 1.7 CPU-s of forking and
          // importing (the SDKs, DuckDB, onnxruntime), ≈ 30 CPU-s over test/integration alone. Safe because no file
          // changes process.env, mocks a module or keeps state in a module it shares (test/helpers/crash-pair.ts resets its
          // own per file); docs/testing.md → "How long it takes".
          isolate: false,
          globalSetup: ['test/global-setup.ts', 'test/helpers/fixtures-notice.ts'],
        },
      },
    ],
  },
});
