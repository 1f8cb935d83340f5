/**
 * One run of every test file (`npm test` runs `vitest run` beside lint, type check, layering and format check):
 *  - `test/unit`, `test/component`: no emulators, no build;
 *  - `test/integration`, `test/e2e`: after test/global-setup.ts has made the production build once and started the
 *    Pub/Sub and Firestore emulators once for all of them.
 * All in one project, so that the two forked processes (the machines have 2 cores) serve every file: each keeps its module
 * cache from file to file (`isolate: false`), and vitest reuses a worker only for a file of the same project — as two
 * projects, the run forked two more workers for the unit and component files, which imported DuckDB, express and the
 * SDKs again (docs/testing.md → "How long it takes").
 * `--mode fast` (`npm run test:fast`) selects the unit and component files alone, without the global setup.
 * The longest files start first (test/sequencer.ts) so the run does not end waiting for one of them. The timeouts are
 * bounds, not assertions.
 */
import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/sequencer.js';

const FAST = ['test/unit/**/*.test.ts', 'test/component/**/*.test.ts'];
const NEEDS_SETUP = ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'];

export default defineConfig(({ mode }) => {
  const fast = mode === 'fast';
  return {
    test: {
      include: fast ? FAST : [...NEEDS_SETUP, ...FAST],
      testTimeout: 180_000,
      hookTimeout: 300_000,
      teardownTimeout: 60_000,
      pool: 'forks',
      maxWorkers: 2,
      fileParallelism: true,
      // One module cache per worker: each file in a fresh process cost ≈ 1.7 CPU-s of forking and importing (the SDKs,
      // DuckDB, onnxruntime), ≈ 30 CPU-s over test/integration alone. Safe because no file changes process.env, mocks a
      // module or keeps state in a module it shares (test/helpers/crash-pair.ts resets its own per file).
      isolate: false,
      env: { METADATA_SERVER_DETECTION: 'none', LOG_LEVEL: 'silent' },
      sequence: { sequencer: LongestFirstSequencer },
      globalSetup: fast ? [] : ['test/global-setup.ts', 'test/helpers/fixtures-notice.ts'],
    },
  };
});
