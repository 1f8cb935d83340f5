/** vitest global setup: one line per run when the CatBoost fixtures are absent (test/helpers/fixtures.ts). */
import { fixturesNotice } from './fixtures.js';

export default function setup(): void {
  const notice = fixturesNotice();
  if (notice !== null) console.log(notice);
}
