/**
 * fast-check arbitraries for feature-store rows: base features (store 0–24) always present and inside the worker's
 * validation ranges, every other feature NULL or a value on either side of its fills and defaults, and the row-level
 * days_rest NULL or 0–4.
 */
import fc from 'fast-check';
import { ORIGINAL_STORE_NAMES, type StoreRowInput } from './original-vectors.js';

const tenths = (min: number, max: number) => fc.integer({ min: Math.round(min * 10), max: Math.round(max * 10) }).map((x) => x / 10);
const hundredths = (min: number, max: number) => fc.integer({ min: Math.round(min * 100), max: Math.round(max * 100) }).map((x) => x / 100);

/** A value for store feature `i` (never NULL). */
// eslint-disable-next-line complexity -- one switch case per feature, giving each its realistic range
function featureValue(i: number): fc.Arbitrary<number> {
  const name = ORIGINAL_STORE_NAMES[i] as string;
  switch (name) {
    case 'points_avg_last_5':
    case 'points_avg_last_10':
    case 'points_avg_season':
      return tenths(2, 34);
    case 'points_std_last_10':
      return tenths(0.5, 11);
    case 'games_in_last_7_days':
      return fc.integer({ min: 0, max: 4 });
    case 'fatigue_score':
      return tenths(0, 100);
    case 'opponent_def_rating':
      return tenths(100, 122);
    case 'opponent_pace':
    case 'team_pace':
      return tenths(94, 106);
    case 'team_off_rating':
      return tenths(104, 122);
    case 'home_away':
    case 'back_to_back':
    case 'playoff_game':
    case 'has_vegas_line':
    case 'breakout_flag':
      return fc.constantFrom(0, 1);
    case 'pct_paint':
    case 'pct_mid_range':
    case 'pct_three':
    case 'pct_free_throw':
    case 'team_win_pct':
      return hundredths(0, 0.8);
    case 'vegas_points_line':
    case 'vegas_opening_line':
      return tenths(6, 36);
    case 'vegas_line_move':
      return tenths(-2.5, 2.5);
    case 'avg_points_vs_opponent':
      return tenths(0, 40);
    case 'games_vs_opponent':
      return fc.integer({ min: 0, max: 9 });
    case 'minutes_avg_last_10':
      return fc.oneof(fc.constant(0), tenths(4, 40));
    case 'ppm_avg_last_10':
      return hundredths(0.05, 1.3);
    case 'days_rest':
      return fc.integer({ min: 0, max: 5 });
    case 'game_total_line':
      return tenths(205, 245);
    case 'minutes_load_last_7d':
      return tenths(30, 130);
    case 'implied_team_total':
      return tenths(100, 125);
    case 'usage_rate_last_5':
      return tenths(8, 35);
    case 'games_since_structural_change':
      return fc.integer({ min: 0, max: 60 });
    case 'points_avg_last_3':
      return tenths(0, 40);
    default:
      return tenths(-4, 6);
  }
}

export function storeRowArbitrary(opts: { nullWeight?: number } = {}): fc.Arbitrary<StoreRowInput> {
  const nullWeight = opts.nullWeight ?? 2;
  const values = ORIGINAL_STORE_NAMES.map((_, i) =>
    i < 25 ? featureValue(i) : fc.option(featureValue(i), { nil: null, freq: nullWeight }),
  );
  return fc.record({
    values: fc.tuple<Array<number | null>>(...values),
    daysRest: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
  });
}
