/**
 * The feature contract: the 55 feature-store features in store order, and the model families as named subsets.
 * Single source of truth for the coordinator (which ships values), the worker (which builds vectors), the demo world
 * and the model tooling. New features may only be appended. The fill rules live in ./feature-fills.ts, the
 * model input row in ./feature-vector.ts.
 */

export const FEATURE_NAMES = [
  'points_avg_last_5',
  'points_avg_last_10',
  'points_avg_season',
  'points_std_last_10',
  'games_in_last_7_days',
  'fatigue_score',
  'shot_zone_mismatch_score',
  'pace_score',
  'usage_spike_score',
  'rest_advantage',
  'injury_risk',
  'recent_trend',
  'minutes_change',
  'opponent_def_rating',
  'opponent_pace',
  'home_away',
  'back_to_back',
  'playoff_game',
  'pct_paint',
  'pct_mid_range',
  'pct_three',
  'pct_free_throw',
  'team_pace',
  'team_off_rating',
  'team_win_pct',
  'vegas_points_line',
  'vegas_opening_line',
  'vegas_line_move',
  'has_vegas_line',
  'avg_points_vs_opponent',
  'games_vs_opponent',
  'minutes_avg_last_10',
  'ppm_avg_last_10',
  'dnp_rate',
  'pts_slope_10g',
  'pts_vs_season_zscore',
  'breakout_flag',
  'star_teammates_out',
  'game_total_line',
  'days_rest',
  'minutes_load_last_7d',
  'spread_magnitude',
  'implied_team_total',
  'points_avg_last_3',
  'scoring_trend_slope',
  'deviation_from_avg_last3',
  'consecutive_games_below_avg',
  'teammate_usage_available',
  'usage_rate_last_5',
  'games_since_structural_change',
  'multi_book_line_std',
  'prop_over_streak',
  'prop_under_streak',
  'line_vs_season_avg',
  'prop_line_delta',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length; // 55

export type FeatureValues = Partial<Record<FeatureName, number>>;

/** The 25 base features every prediction needs (store indices 0–24). */
export const BASE_FEATURES: readonly FeatureName[] = FEATURE_NAMES.slice(0, 25);

export const VEGAS_FEATURES: readonly FeatureName[] = ['vegas_points_line', 'vegas_opening_line', 'vegas_line_move', 'has_vegas_line'];

/** Features the store may leave NULL without it counting against zero tolerance (store indices 25, 26, 27, 38, 41, 42, 47, 50–54). */
export const OPTIONAL_FEATURES: ReadonlySet<FeatureName> = new Set<FeatureName>([
  'vegas_points_line',
  'vegas_opening_line',
  'vegas_line_move',
  'game_total_line',
  'spread_magnitude',
  'implied_team_total',
  'teammate_usage_available',
  'multi_book_line_std',
  'prop_over_streak',
  'prop_under_streak',
  'line_vs_season_avg',
  'prop_line_delta',
]);

export type ModelFamily = 'v9' | 'v12' | 'v12_noveg';
export const MODEL_FAMILIES: readonly ModelFamily[] = ['v9', 'v12', 'v12_noveg'];

const V9: readonly FeatureName[] = FEATURE_NAMES.slice(0, 33);
const V12: readonly FeatureName[] = FEATURE_NAMES.slice(0, 54);
const V12_NOVEG: readonly FeatureName[] = V12.filter((n) => !VEGAS_FEATURES.includes(n));

/** Each family's inputs, in model input order. */
export const FAMILY_FEATURES: Readonly<Record<ModelFamily, readonly FeatureName[]>> = {
  v9: V9,
  v12: V12,
  v12_noveg: V12_NOVEG,
};

/** Registry `feature_set` → family. `null` means v9 (the original registry's rule); anything unknown is refused. */
export function familyOf(featureSet: string | null): ModelFamily {
  if (featureSet === null || featureSet === '') return 'v9';
  const normalised = featureSet.toLowerCase();
  if (normalised.startsWith('v12_noveg')) return 'v12_noveg';
  if (normalised.startsWith('v12')) return 'v12';
  if (normalised.startsWith('v9')) return 'v9';
  throw new Error(`unknown feature_set '${featureSet}': expected v9, v12 or v12_noveg`);
}

/** Store column name of feature i (`feature_0_value` …). */
export function featureColumn(index: number): string {
  return `feature_${index}_value`;
}
