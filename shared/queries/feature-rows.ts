/**
 * One query for feature-store rows (the latest per player) for a date: the coordinator reads every candidate's row once for
 * all models' gates and ships the values; the worker reads a whole date at once when a request arrives without values.
 */
import { param, type Warehouse } from '../ports/warehouse.js';
import { FEATURE_COUNT, FEATURE_NAMES, featureColumn, type FeatureValues } from '../contracts/feature-contract.js';
import type { FeatureQuality } from '../contracts/messages.js';
import { bool, num, nums, reqStr, str } from './row-values.js';

export interface FeatureRow {
  values: FeatureValues;
  quality: FeatureQuality;
  /** The row's own `days_rest` column (not feature 39, which it overrides when the vector is built). */
  days_rest: number | null;
}

const FEATURE_COLUMNS = Array.from({ length: FEATURE_COUNT }, (_, i) => featureColumn(i)).join(', ');

const SQL = `
SELECT player_lookup, ${FEATURE_COLUMNS},
  feature_quality_score, is_quality_ready, quality_alert_level, matchup_quality_pct,
  default_feature_count, COALESCE(required_default_count, default_feature_count) AS required_default_count, vegas_line_source,
  default_feature_indices, days_rest
FROM {{nba_predictions.ml_feature_store_v2}}
WHERE game_date = @game_date AND (@all_players OR player_lookup IN UNNEST(@players))
QUALIFY ROW_NUMBER() OVER (PARTITION BY player_lookup ORDER BY created_at DESC) = 1`;

export async function loadFeatureRows(
  warehouse: Warehouse,
  gameDate: string,
  datasetPrefix: string,
  /** null: every player of the date. */
  players: readonly string[] | null,
): Promise<Map<string, FeatureRow>> {
  const out = new Map<string, FeatureRow>();
  if (players !== null && players.length === 0) return out;
  const rows = await warehouse.query({
    name: 'features',
    sql: SQL,
    params: { game_date: param.date(gameDate), all_players: param.bool(players === null), players: param.strings(players ?? []) },
    datasetPrefix,
  });
  for (const row of rows) {
    const values: FeatureValues = {};
    FEATURE_NAMES.forEach((name, i) => {
      const v = num(row, featureColumn(i));
      if (v !== null) values[name] = v;
    });
    out.set(reqStr(row, 'player_lookup'), {
      values,
      quality: {
        feature_quality_score: num(row, 'feature_quality_score'),
        is_quality_ready: bool(row, 'is_quality_ready'),
        quality_alert_level: str(row, 'quality_alert_level'),
        matchup_quality_pct: num(row, 'matchup_quality_pct'),
        default_feature_count: num(row, 'default_feature_count'),
        required_default_count: num(row, 'required_default_count'),
        vegas_line_source: str(row, 'vegas_line_source'),
        default_feature_indices: nums(row, 'default_feature_indices'),
      },
      days_rest: num(row, 'days_rest'),
    });
  }
  return out;
}
