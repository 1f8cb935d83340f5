import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One line per run when the CatBoost fixtures are absent (their tests skip): test/helpers/fixtures.ts.
    globalSetup: ['test/helpers/fixtures-notice.ts'],
    env: { METADATA_SERVER_DETECTION: 'none', LOG_LEVEL: 'silent' },
  },
});
