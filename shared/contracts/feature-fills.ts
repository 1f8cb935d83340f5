/**
 * Every feature fill, in one pure module: values in, filled values out (original-worker §2.2, §2.4, §2.10).
 *
 * Two steps, both as the original did them:
 *  1. `fillFeatures` — per player, before any vector is built: the feature-store row's own `days_rest` column overrides
 *     feature 39 (NULL → 1); then the opponent and minutes features the store left NULL are filled:
 *     avg_points_vs_opponent = points_avg_season, games_vs_opponent = 0, minutes_avg_last_10 = 30,
 *     ppm_avg_last_10 = points_avg_last_10 / minutes_avg_last_10 (0.5 when the minutes are not positive).
 *  2. `missingValue` — per family, for a name still absent when a vector is built:
 *     - v9 (the original's positional 33-value vector): the vegas values are NaN; has_vegas_line is 0;
 *     - v12 and v12_noveg (built by name from the feature contract's defaults): vegas_points_line, vegas_opening_line and
 *       avg_points_vs_opponent are NaN, vegas_line_move is 0.0, and every other name takes its contract default.
 *
 * A NULL feature-store column arrives here as an absent key. Base features (store 0–24) have no fill: the worker refuses a
 * request without them before it gets here. The vegas values themselves are decided earlier (services/worker/predict/vegas.ts).
 */
import type { FeatureName, FeatureValues, ModelFamily } from './feature-contract.js';

/** Feature 39 when the feature-store row's `days_rest` column is NULL. */
export const DAYS_REST_WHEN_NULL = 1;
/** minutes_avg_last_10 when the store has none (a starter's minutes). */
export const MINUTES_WHEN_MISSING = 30;
/** ppm_avg_last_10 when the minutes are zero or negative. */
export const PPM_WHEN_NO_MINUTES = 0.5;
/** points_avg_season when absent (unreachable in the worker: a base feature, validated before filling). */
const SEASON_AVG_WHEN_MISSING = 15;

/**
 * The player-level fills. `rowDaysRest` is the feature-store row's own `days_rest` column (not feature 39): it always wins,
 * NULL meaning 1, a fraction truncated as the original's `int()` did.
 */
export function fillFeatures(values: FeatureValues, rowDaysRest: number | null): FeatureValues {
  const out: FeatureValues = { ...values };
  out.days_rest = rowDaysRest === null ? DAYS_REST_WHEN_NULL : Math.trunc(rowDaysRest);
  const seasonAvg = out.points_avg_season ?? SEASON_AVG_WHEN_MISSING;
  if (out.avg_points_vs_opponent === undefined) out.avg_points_vs_opponent = seasonAvg;
  if (out.games_vs_opponent === undefined) out.games_vs_opponent = 0;
  if (out.minutes_avg_last_10 === undefined) out.minutes_avg_last_10 = MINUTES_WHEN_MISSING;
  if (out.ppm_avg_last_10 === undefined) {
    const minutes = out.minutes_avg_last_10;
    out.ppm_avg_last_10 = minutes > 0 ? (out.points_avg_last_10 ?? seasonAvg) / minutes : PPM_WHEN_NO_MINUTES;
  }
  return out;
}

/**
 * The by-name defaults (the original feature contract's FEATURE_DEFAULTS, where None is NaN here: CatBoost's nan_mode
 * decides the branch) used by v12 and v12_noveg. Its base-feature defaults never apply in the original worker (validation
 * refuses a request without them) and are left out, so a missing base feature is an error. minutes_avg_last_10 (25) and
 * ppm_avg_last_10 (0.4) never apply after `fillFeatures` either.
 */
const BY_NAME_DEFAULTS: Readonly<Partial<Record<FeatureName, number>>> = {
  vegas_points_line: Number.NaN,
  vegas_opening_line: Number.NaN,
  vegas_line_move: 0,
  has_vegas_line: 0,
  avg_points_vs_opponent: Number.NaN,
  games_vs_opponent: 0,
  minutes_avg_last_10: 25,
  ppm_avg_last_10: 0.4,
  dnp_rate: 0,
  pts_slope_10g: 0,
  pts_vs_season_zscore: 0,
  breakout_flag: 0,
  star_teammates_out: 0,
  game_total_line: 224,
  days_rest: DAYS_REST_WHEN_NULL,
  minutes_load_last_7d: 80,
  spread_magnitude: 5,
  implied_team_total: 112,
  points_avg_last_3: 10,
  scoring_trend_slope: 0,
  deviation_from_avg_last3: 0,
  consecutive_games_below_avg: 0,
  teammate_usage_available: 0,
  usage_rate_last_5: 20,
  games_since_structural_change: 30,
  multi_book_line_std: 0.5,
  prop_over_streak: 0,
  prop_under_streak: 0,
  line_vs_season_avg: 0,
  prop_line_delta: 0,
};

/**
 * The original's positional v9 vector (catboost_v8 `_prepare_feature_vector`): vegas values NaN when absent, has_vegas_line
 * 0 without a line. Positions 29–32 are always present after `fillFeatures`; the original's positional defaults for them
 * (0, 25, 0.4; the season average for 29, NaN here) only matter to a vector built without the fills.
 */
const POSITIONAL_DEFAULTS: Readonly<Partial<Record<FeatureName, number>>> = {
  vegas_points_line: Number.NaN,
  vegas_opening_line: Number.NaN,
  vegas_line_move: Number.NaN,
  has_vegas_line: 0,
  avg_points_vs_opponent: Number.NaN,
  games_vs_opponent: 0,
  minutes_avg_last_10: 25,
  ppm_avg_last_10: 0.4,
};

/** The value `family`'s vector takes for `name` when the player's values lack it; undefined when there is none (a base feature). */
export function missingValue(family: ModelFamily, name: FeatureName): number | undefined {
  return family === 'v9' ? POSITIONAL_DEFAULTS[name] : BY_NAME_DEFAULTS[name];
}
