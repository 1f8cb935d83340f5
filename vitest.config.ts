/**
 * Two projects, one run (`npm test` = typecheck + `vitest run`, both projects):
 *  - `fast`: unit and component tests — no emulators, no build (`npm run test:fast`);
 *  - `full`: integration and end-to-end tests, after test/global-setup.ts has made the production build once and started
 *    the Pub/Sub and Firestore emulators once for all of them.
 * Files run in forked processes, two at a time (the machines have 2 cores); the longest files start first
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
          globalSetup: ['test/global-setup.ts', 'test/helpers/fixtures-notice.ts'],
        },
      },
    ],
  },
});
