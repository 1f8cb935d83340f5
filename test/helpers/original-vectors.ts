/**
 * The original worker's model inputs, transcribed from its rules (original-worker §2.2, §2.4, §2.10, §5) for tests to compute
 * expected values with. Deliberately written without the product's feature code (no FEATURE_NAMES, no fills, no
 * buildVector): the store order, the defaults and every rule are spelled out here again, in the original's terms — a Python
 * dict where a NULL store column is an absent key and `None` is a present key with no value.
 */

/** ml_feature_store_v2 feature_N_value order (feature_contract.py FEATURE_STORE_NAMES). */
export const ORIGINAL_STORE_NAMES: readonly string[] = [
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
];

const VEGAS = ['vegas_points_line', 'vegas_opening_line', 'vegas_line_move', 'has_vegas_line'];
/** V12 (54): store 0–53. V12_NOVEG (50): V12 without the four vegas features. */
export const ORIGINAL_V12_NAMES: readonly string[] = ORIGINAL_STORE_NAMES.slice(0, 54);
export const ORIGINAL_V12_NOVEG_NAMES: readonly string[] = ORIGINAL_V12_NAMES.filter((n) => !VEGAS.includes(n));

/** feature_contract.py FEATURE_DEFAULTS for the names past the base features; null is Python's None. */
const FEATURE_DEFAULTS: Readonly<Record<string, number | null>> = {
  vegas_points_line: null,
  vegas_opening_line: null,
  vegas_line_move: 0.0,
  has_vegas_line: 0.0,
  avg_points_vs_opponent: null,
  games_vs_opponent: 0.0,
  minutes_avg_last_10: 25.0,
  ppm_avg_last_10: 0.4,
  dnp_rate: 0.0,
  pts_slope_10g: 0.0,
  pts_vs_season_zscore: 0.0,
  breakout_flag: 0.0,
  star_teammates_out: 0.0,
  game_total_line: 224.0,
  days_rest: 1.0,
  minutes_load_last_7d: 80.0,
  spread_magnitude: 5.0,
  implied_team_total: 112.0,
  points_avg_last_3: 10.0,
  scoring_trend_slope: 0.0,
  deviation_from_avg_last3: 0.0,
  consecutive_games_below_avg: 0.0,
  teammate_usage_available: 0.0,
  usage_rate_last_5: 20.0,
  games_since_structural_change: 30.0,
  multi_book_line_std: 0.5,
  prop_over_streak: 0.0,
  prop_under_streak: 0.0,
  line_vs_season_avg: 0.0,
  prop_line_delta: 0.0,
};

/** The Python features dict: absent key ≠ key → None. */
export type OriginalDict = Map<string, number | null>;

export interface StoreRowInput {
  /** feature_N_value by N; null = NULL column. */
  values: ReadonlyArray<number | null>;
  /** The row's own days_rest column. */
  daysRest: number | null;
}

/**
 * data_loaders (§2.2) then worker enrichment (§2.4): the dict every model's vector is built from. `requestLine` is the line the
 * request carries (the coordinator's base line for ACTUAL_PROP, none otherwise).
 */
export function originalFeatures(row: StoreRowInput, requestLine: number | null): OriginalDict {
  const f: OriginalDict = new Map();
  ORIGINAL_STORE_NAMES.forEach((name, i) => {
    const v = row.values[i];
    if (v !== null && v !== undefined) f.set(name, v);
  });
  f.set('days_rest', row.daysRest !== null ? Math.trunc(row.daysRest) : 1);

  if (requestLine !== null) {
    f.set('vegas_points_line', requestLine);
    f.set('vegas_opening_line', requestLine);
    f.set('vegas_line_move', 0.0);
    f.set('has_vegas_line', 1.0);
  } else if (f.get('vegas_points_line') != null) {
    f.set('has_vegas_line', 1.0);
  } else {
    f.set('vegas_points_line', null);
    f.set('vegas_opening_line', null);
    f.set('vegas_line_move', null);
    f.set('has_vegas_line', 0.0);
  }

  const seasonAvg = f.has('points_avg_season') ? (f.get('points_avg_season') as number) : 15.0;
  if (!f.has('avg_points_vs_opponent')) f.set('avg_points_vs_opponent', seasonAvg);
  if (!f.has('games_vs_opponent')) f.set('games_vs_opponent', 0.0);
  if (!f.has('minutes_avg_last_10')) f.set('minutes_avg_last_10', 30.0);
  if (!f.has('ppm_avg_last_10')) {
    const pts = f.has('points_avg_last_10') ? (f.get('points_avg_last_10') as number) : seasonAvg;
    const mins = f.has('minutes_avg_last_10') ? (f.get('minutes_avg_last_10') as number) : 30.0;
    f.set('ppm_avg_last_10', mins && mins > 0 ? pts / mins : 0.5);
  }
  return f;
}

const get = (f: OriginalDict, name: string, dflt: number | null): number | null => (f.has(name) ? (f.get(name) as number | null) : dflt);
const orNaN = (v: number | null): number => (v === null ? Number.NaN : v);

/**
 * catboost_v8 `_prepare_feature_vector`, positions 0–32 (the 34th, has_shot_zone_data, is ignored by 33-feature models).
 * `names` is the model's own input order; it must be the V9 contract order.
 */
export function originalV9Vector(f: OriginalDict, names: readonly string[]): Float64Array {
  if (names.length !== 33 || names.some((n, i) => n !== ORIGINAL_STORE_NAMES[i]))
    throw new Error('not a V9 (33-feature contract order) model');
  const seasonAvg = get(f, 'points_avg_season', null) ?? 10.0;
  const positional: Array<number | null> = [
    get(f, 'points_avg_last_5', seasonAvg),
    get(f, 'points_avg_last_10', seasonAvg),
    get(f, 'points_avg_season', seasonAvg),
    get(f, 'points_std_last_10', 5.0),
    get(f, 'games_in_last_7_days', 2),
    get(f, 'fatigue_score', 70),
    get(f, 'shot_zone_mismatch_score', 0),
    get(f, 'pace_score', 0),
    get(f, 'usage_spike_score', 0),
    get(f, 'rest_advantage', 0),
    get(f, 'injury_risk', 0),
    get(f, 'recent_trend', 0),
    get(f, 'minutes_change', 0),
    get(f, 'opponent_def_rating', 112),
    get(f, 'opponent_pace', 100),
    get(f, 'home_away', 0),
    get(f, 'back_to_back', 0),
    get(f, 'playoff_game', 0),
    get(f, 'pct_paint', null),
    get(f, 'pct_mid_range', null),
    get(f, 'pct_three', null),
    get(f, 'pct_free_throw', 20),
    get(f, 'team_pace', 100),
    get(f, 'team_off_rating', 112),
    get(f, 'team_win_pct', 0.5),
    get(f, 'vegas_points_line', null),
    get(f, 'vegas_opening_line', null),
    get(f, 'vegas_line_move', null),
    get(f, 'vegas_points_line', null) !== null ? 1.0 : 0.0,
    get(f, 'avg_points_vs_opponent', seasonAvg),
    get(f, 'games_vs_opponent', 0.0),
    get(f, 'minutes_avg_last_10', 25),
    get(f, 'ppm_avg_last_10', 0.4),
  ];
  return Float64Array.from(positional.map(orNaN));
}

/** `_prepare_v12_feature_vector` (monthly v12 / v12_noveg models): by name. */
export function originalByNameVector(f: OriginalDict, names: readonly string[]): Float64Array {
  if (names.length !== 54 && names.length !== 50) throw new Error(`a v12-path vector has 54 or 50 values, not ${names.length}`);
  return Float64Array.from(
    names.map((name) => {
      const v = f.get(name);
      if (v !== null && v !== undefined) return v;
      if (name === 'pct_paint' || name === 'pct_mid_range' || name === 'pct_three') return Number.NaN;
      return orNaN(FEATURE_DEFAULTS[name] ?? null);
    }),
  );
}

/** The features_snapshot keys the product writes: every feature with a value after the overrides and fills. */
export function originalResolvedValues(f: OriginalDict): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ORIGINAL_STORE_NAMES) {
    const v = f.get(name);
    if (v !== null && v !== undefined) out[name] = v;
  }
  return out;
}
