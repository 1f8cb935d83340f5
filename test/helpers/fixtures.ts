/**
 * Where the CatBoost fixtures are (real models and CatBoost-written oracle models; never copied into the repo): the folder
 * `../shared/fixtures` beside the repository, or `FIXTURES_DIR` when set (e.g. to check what a run without them does).
 * The tests that read them skip when they are absent; test/helpers/fixtures-notice.ts, vitest's global setup, says so
 * once per run instead of once per file.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const FIXTURES_DIR = resolve(process.env.FIXTURES_DIR ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures'));
/** Real NBA models (CatBoost 1.2.8) with their metadata. */
export const CATBOOST_NBA = join(FIXTURES_DIR, 'catboost', 'nba');
/** CatBoost-written models with CatBoost's own predictions. */
export const CATBOOST_ORACLE = join(FIXTURES_DIR, 'catboost', 'oracle');

/** The test files that read the fixtures (skipped without them). */
export const FIXTURE_TESTS = [
  'test/integration/catboost-oracle.test.ts',
  'test/integration/catboost-nba.test.ts',
  'test/integration/catboost-cli.test.ts',
  'test/integration/worker-real-catboost.test.ts',
  'test/integration/feature-fills-real-catboost.test.ts',
];

/** The one line a run prints when a fixture folder is absent; null when both are there. */
export function fixturesNotice(): string | null {
  const missing = [CATBOOST_NBA, CATBOOST_ORACLE].filter((dir) => !existsSync(dir));
  if (missing.length === 0) return null;
  const names = FIXTURE_TESTS.map((f) => f.replace(/^.*\//, '').replace(/\.test\.ts$/, ''));
  return (
    `CatBoost fixtures absent (${missing.join(', ')} not found): the tests that read them are skipped (${names.join(', ')}). ` +
    'Put the fixtures in ../shared/fixtures beside the repo, or point FIXTURES_DIR at them.'
  );
}
