/**
 * The one schema definition for every table the product reads and writes (design §5). DuckDB DDL (shared/adapters/duckdb)
 * and BigQuery DDL (shared/adapters/bigquery/bigquery-ddl.ts) are rendered from it. Names follow the original system so
 * the product drops into its datasets. Column meanings: docs/data-contracts.md.
 */
import { FEATURE_COUNT, featureColumn } from './feature-contract.js';
import { canonicalScalar } from '../values/scalars.js';

export type ColumnType = 'STRING' | 'INT64' | 'FLOAT64' | 'NUMERIC' | 'BOOL' | 'DATE' | 'TIMESTAMP' | 'JSON';

export interface Column {
  name: string;
  type: ColumnType;
  /** NUMERIC precision and scale, e.g. [4, 1] for a line. */
  numeric?: readonly [number, number];
  required?: boolean;
  repeated?: boolean;
  description?: string;
}

export interface TableDef {
  dataset: string;
  name: string;
  description: string;
  columns: readonly Column[];
  partitionBy?: string;
  clusterBy?: readonly string[];
  requirePartitionFilter?: boolean;
  /** Days a partition lives (staging); DuckDB emulates it in ensureTables. */
  partitionExpirationDays?: number;
}

const c = (name: string, type: ColumnType, extra: Omit<Column, 'name' | 'type'> = {}): Column => ({ name, type, ...extra });
const req = (name: string, type: ColumnType, extra: Omit<Column, 'name' | 'type'> = {}): Column =>
  c(name, type, { ...extra, required: true });

export const upcomingPlayerGameContext: TableDef = {
  dataset: 'nba_analytics',
  name: 'upcoming_player_game_context',
  description: 'One row per player per upcoming game (several versions per day; the latest by created_at wins).',
  partitionBy: 'game_date',
  columns: [
    req('player_lookup', 'STRING'),
    c('universal_player_id', 'STRING'),
    req('game_id', 'STRING'),
    req('game_date', 'DATE'),
    c('team_abbr', 'STRING'),
    c('opponent_team_abbr', 'STRING'),
    c('home_game', 'BOOL'),
    c('days_rest', 'INT64'),
    c('back_to_back', 'BOOL'),
    c('avg_minutes_per_game_last_7', 'NUMERIC', { numeric: [5, 1] }),
    c('player_status', 'STRING', { description: 'injury status, lower case: out, doubtful, questionable, probable, available, or NULL' }),
    c('has_prop_line', 'BOOL'),
    c('current_points_line', 'NUMERIC', { numeric: [4, 1] }),
    c('is_production_ready', 'BOOL'),
    c('completeness_percentage', 'FLOAT64'),
    c('points_avg_last_5', 'NUMERIC', { numeric: [5, 1] }),
    c('points_avg_last_10', 'NUMERIC', { numeric: [5, 1] }),
    c('l10_games_used', 'INT64'),
    req('created_at', 'TIMESTAMP'),
  ],
};

export const oddsApiPlayerPointsProps: TableDef = {
  dataset: 'nba_raw',
  name: 'odds_api_player_points_props',
  description: 'OddsAPI player points props, one row per book per snapshot.',
  partitionBy: 'game_date',
  clusterBy: ['player_lookup', 'game_date', 'bookmaker'],
  columns: [
    c('game_id', 'STRING'),
    req('game_date', 'DATE'),
    req('player_lookup', 'STRING'),
    c('player_name', 'STRING'),
    req('bookmaker', 'STRING', { description: 'lower-case key: draftkings, fanduel, betmgm, pointsbet, caesars, …' }),
    c('points_line', 'FLOAT64'),
    c('over_price', 'INT64'),
    c('under_price', 'INT64'),
    req('snapshot_timestamp', 'TIMESTAMP'),
    c('minutes_before_tipoff', 'INT64'),
  ],
};

export const bettingprosPlayerPointsProps: TableDef = {
  dataset: 'nba_raw',
  name: 'bettingpros_player_points_props',
  description: 'BettingPros props across every market (points, rebounds, assists, …), both sides.',
  partitionBy: 'game_date',
  requirePartitionFilter: true,
  columns: [
    req('game_date', 'DATE'),
    req('player_lookup', 'STRING'),
    req('market_type', 'STRING'),
    req('bet_side', 'STRING'),
    req('bookmaker', 'STRING', { description: 'title case: DraftKings, FanDuel, BetMGM, Caesars, PointsBet, BettingPros Consensus' }),
    c('points_line', 'FLOAT64'),
    c('odds_american', 'INT64'),
    c('is_active', 'BOOL'),
    req('created_at', 'TIMESTAMP'),
  ],
};

export const mlFeatureStoreV2: TableDef = {
  dataset: 'nba_predictions',
  name: 'ml_feature_store_v2',
  description: 'Per-player feature vectors (55 values, NULL = no real value) with quality fields.',
  partitionBy: 'game_date',
  clusterBy: ['player_lookup'],
  columns: [
    req('player_lookup', 'STRING'),
    req('game_date', 'DATE'),
    c('game_id', 'STRING'),
    c('feature_version', 'STRING'),
    ...Array.from({ length: FEATURE_COUNT }, (_, i) => c(featureColumn(i), 'FLOAT64')),
    c('feature_quality_score', 'NUMERIC', { numeric: [5, 2] }),
    c('is_quality_ready', 'BOOL'),
    c('quality_tier', 'STRING'),
    c('quality_alert_level', 'STRING', { description: 'green, yellow, red' }),
    c('matchup_quality_pct', 'FLOAT64'),
    c('player_history_quality_pct', 'FLOAT64'),
    c('vegas_quality_pct', 'FLOAT64'),
    c('game_context_quality_pct', 'FLOAT64'),
    c('default_feature_count', 'INT64'),
    c('required_default_count', 'INT64'),
    c('default_feature_indices', 'INT64', { repeated: true }),
    c('vegas_line_source', 'STRING', { description: 'odds_api, bettingpros, both, none' }),
    c('days_rest', 'INT64'),
    c('is_production_ready', 'BOOL'),
    c('completeness_percentage', 'FLOAT64'),
    c('data_source', 'STRING'),
    req('created_at', 'TIMESTAMP'),
  ],
};

export const playerGameSummary: TableDef = {
  dataset: 'nba_analytics',
  name: 'player_game_summary',
  description: 'One row per player per played game (box score).',
  partitionBy: 'game_date',
  clusterBy: ['player_lookup'],
  columns: [
    req('game_id', 'STRING'),
    req('game_date', 'DATE'),
    req('player_lookup', 'STRING'),
    c('team_abbr', 'STRING'),
    c('opponent_team_abbr', 'STRING'),
    c('home_game', 'BOOL'),
    c('points', 'INT64'),
    c('minutes_played', 'FLOAT64'),
    c('usage_rate', 'FLOAT64'),
    c('is_dnp', 'BOOL'),
  ],
};

export const nbacSchedule: TableDef = {
  dataset: 'nba_raw',
  name: 'nbac_schedule',
  description: 'The league schedule, one row per game (latest version).',
  partitionBy: 'game_date',
  columns: [
    req('game_id', 'STRING'),
    req('game_date', 'DATE'),
    req('game_status', 'INT64', { description: '1 scheduled, 2 in progress, 3 final' }),
    c('game_status_text', 'STRING'),
    c('home_team_tricode', 'STRING'),
    c('away_team_tricode', 'STRING'),
    c('game_start_time', 'TIMESTAMP'),
  ],
};

export const gamePostponements: TableDef = {
  dataset: 'nba_orchestration',
  name: 'game_postponements',
  description: 'Games detected or confirmed as postponed.',
  columns: [
    req('game_id', 'STRING'),
    req('original_date', 'DATE'),
    c('new_date', 'DATE'),
    c('reason', 'STRING'),
    c('status', 'STRING', { description: 'detected, confirmed, resolved' }),
    c('detection_details', 'STRING', { description: 'JSON text, e.g. {"matchup": "LAL @ GSW"}' }),
    c('detected_at', 'TIMESTAMP'),
  ],
};

export const nbacInjuryReport: TableDef = {
  dataset: 'nba_raw',
  name: 'nbac_injury_report',
  description: 'NBA.com injury reports: one row per player per game per report (several reports a day); the latest report wins.',
  partitionBy: 'report_date',
  clusterBy: ['player_lookup', 'game_id', 'injury_status'],
  columns: [
    c('report_date', 'DATE', { description: 'the day the report was issued' }),
    c('report_hour', 'INT64', { description: 'hour of the report (0–23)' }),
    c('game_date', 'DATE'),
    c('game_id', 'STRING'),
    c('team', 'STRING'),
    c('player_lookup', 'STRING'),
    c('injury_status', 'STRING', { description: 'lower case: out, doubtful, questionable, probable, available' }),
    c('reason', 'STRING'),
    c('reason_category', 'STRING'),
    c('processed_at', 'TIMESTAMP'),
  ],
};

export const modelRegistry: TableDef = {
  dataset: 'nba_predictions',
  name: 'model_registry',
  description: 'Every model the worker may run: enabled AND status = active are loaded; is_production marks the champion.',
  columns: [
    req('model_id', 'STRING', { description: 'also the system_id written on prediction rows' }),
    req('model_version', 'STRING'),
    req('model_type', 'STRING'),
    req('gcs_path', 'STRING', { description: 'artefact URI: gs://…, file://…, or a path relative to the model store root; .onnx or .cbm' }),
    req('feature_count', 'INT64'),
    c('features_json', 'JSON'),
    req('training_start_date', 'DATE'),
    req('training_end_date', 'DATE'),
    c('training_samples', 'INT64'),
    c('evaluation_mae', 'FLOAT64'),
    c('evaluation_hit_rate', 'FLOAT64'),
    c('evaluation_hit_rate_edge_3plus', 'FLOAT64'),
    c('evaluation_n_edge_3plus', 'INT64'),
    req('status', 'STRING', { description: 'active, deprecated, testing, archived' }),
    req('is_production', 'BOOL'),
    c('enabled', 'BOOL'),
    c('model_family', 'STRING'),
    c('feature_set', 'STRING', { description: 'v9, v12, v12_noveg' }),
    c('loss_function', 'STRING'),
    c('quantile_alpha', 'FLOAT64'),
    c('sha256_hash', 'STRING'),
    c('notes', 'STRING'),
    req('created_at', 'TIMESTAMP'),
    c('created_by', 'STRING'),
  ],
};

/**
 * Columns of a prediction row: shared by the staging table and player_prop_predictions. Who writes each one and when:
 * docs/data-contracts.md. New columns are appended by `ensureTables` to existing tables; inserts map by name.
 */
const predictionColumns: readonly Column[] = [
  req('prediction_id', 'STRING', { description: 'sha256 of (batch, game, player, system, line): a redelivery writes the same id' }),
  req('system_id', 'STRING'),
  req('player_lookup', 'STRING'),
  c('universal_player_id', 'STRING', { description: "the context table's registry id for the player" }),
  req('game_date', 'DATE'),
  req('game_id', 'STRING'),
  c('batch_id', 'STRING'),
  c('prediction_version', 'INT64', { description: 'always 1 (as the original wrote it)' }),
  req('predicted_points', 'NUMERIC', { numeric: [5, 1] }),
  req('confidence_score', 'NUMERIC', { numeric: [5, 2] }),
  req('recommendation', 'STRING', { description: 'OVER, UNDER, PASS, HOLD, NO_LINE' }),
  c('has_prop_line', 'BOOL'),
  c('current_points_line', 'NUMERIC', { numeric: [4, 1] }),
  c('line_margin', 'NUMERIC', { numeric: [5, 2] }),
  c('line_source', 'STRING'),
  c('line_source_api', 'STRING'),
  c('sportsbook', 'STRING'),
  c('was_line_fallback', 'BOOL'),
  c('line_minutes_before_game', 'INT64'),
  c('estimated_line_value', 'NUMERIC', {
    numeric: [4, 1],
    description: "the player's latest points_avg_last_5 rounded to the nearest 0.5: a reference, never the bet line",
  }),
  c('estimation_method', 'STRING', { description: 'always NULL: estimated lines are disabled' }),
  c('model_version', 'STRING'),
  c('model_file_name', 'STRING'),
  c('model_sha256', 'STRING'),
  c('feature_quality_score', 'FLOAT64'),
  c('is_quality_ready', 'BOOL', { description: 'the store value; NULL in the store is written false (not ready)' }),
  c('quality_alert_level', 'STRING'),
  c('matchup_quality_pct', 'FLOAT64'),
  c('default_feature_count', 'INT64'),
  c('required_default_count', 'INT64'),
  c('default_feature_indices', 'INT64', { repeated: true, description: 'store indices the feature store defaulted' }),
  c('vegas_line_source', 'STRING'),
  c('critical_features', 'JSON', {
    description: 'vegas_points_line, has_vegas_line, ppm_avg_last_10, avg_points_vs_opponent, team_win_pct as the models saw them',
  }),
  c('features_snapshot', 'JSON'),
  c('is_actionable', 'BOOL'),
  c('filter_reason', 'STRING'),
  c('scoring_tier', 'STRING', { description: 'star (season avg ≥ 25), starter (≥ 15), role (≥ 5), bench' }),
  c('tier_adjustment', 'FLOAT64'),
  c('scenario_category', 'STRING', { description: 'optimal_over, high_edge_over, under_safe, anti_under_low_line, low_edge, unknown, …' }),
  c('scenario_flags', 'STRING', { description: 'JSON text: edge, line_value, blacklisted_player, risky_opponent, anti_pattern' }),
  c('low_quality_flag', 'BOOL', { description: 'feature quality below 70' }),
  c('injury_status_at_prediction', 'STRING', {
    description: 'latest injury report status at dispatch, upper case (QUESTIONABLE, DOUBTFUL, PROBABLE, …); NULL when none',
  }),
  c('injury_flag_at_prediction', 'BOOL', { description: 'true for OUT, DOUBTFUL or QUESTIONABLE' }),
  c('injury_reason_at_prediction', 'STRING'),
  c('injury_checked_at', 'TIMESTAMP', { description: 'when the coordinator read the injury report; NULL when not checked' }),
  c('build_commit_sha', 'STRING'),
  c('deployment_revision', 'STRING'),
  c('predicted_at', 'TIMESTAMP', { description: "the request's publish time, as created_at: a redelivery writes the same value" }),
  c('prediction_run_mode', 'STRING', { description: 'the mode as requested (e.g. OVERNIGHT, EARLY with require_real_lines)' }),
  c('prediction_made_before_game', 'BOOL'),
  req('is_active', 'BOOL'),
  c('superseded_by', 'STRING', {
    description: 'the batch whose rows replaced this one (line check, line update, regeneration); NULL otherwise',
  }),
  c('invalidation_reason', 'STRING', { description: 'written by upstream postponement handling, never by the product' }),
  c('invalidated_at', 'TIMESTAMP', { description: 'written by upstream postponement handling, never by the product' }),
  req('created_at', 'TIMESTAMP'),
  c('updated_at', 'TIMESTAMP'),
];

/** Staging's and the MERGE's columns (player_prop_predictions has these, then the supersede columns). */
export const PREDICTION_COLUMN_NAMES: readonly string[] = predictionColumns.map((col) => col.name);

/**
 * Set only on player_prop_predictions, by a re-prediction's consolidation (merge-sql.ts), never staged: a row a line check,
 * line update or regeneration replaced.
 */
const supersedeColumns: readonly Column[] = [
  c('superseded', 'BOOL', {
    description: 'TRUE once a re-prediction (line check, line update, regeneration) replaced the row; it is then inactive',
  }),
  c('superseded_at', 'TIMESTAMP', { description: 'when the replacing batch merged' }),
  c('superseded_reason', 'STRING', { description: 'line_check, line_update, or the regeneration reason' }),
  c('superseded_metadata', 'JSON', { description: "the regeneration's metadata; for line checks the threshold and the counts" }),
];

/**
 * Staging is append-only: workers stream rows in (BigQuery insertAll), consolidation only reads them (the MERGE source), and
 * nothing deletes them — streamed rows cannot be UPDATE/DELETE/MERGE targets for ~30 minutes. Rows expire instead, by the day
 * they were written (`created_at`: the request's publish time, else the worker's clock), not by game date, so a backfill of
 * an old date is not dropped on arrival.
 */
export const predictionStaging: TableDef = {
  dataset: 'nba_predictions',
  name: 'prediction_staging',
  description:
    "Workers' appended prediction rows, one per model per line, tagged with batch_id; read by consolidation, expired after 7 days.",
  partitionBy: 'created_at',
  clusterBy: ['batch_id'],
  partitionExpirationDays: 7,
  columns: predictionColumns,
};

export const playerPropPredictions: TableDef = {
  dataset: 'nba_predictions',
  name: 'player_prop_predictions',
  description: 'Consolidated predictions; one active row per (game, player, system, line in tenths).',
  partitionBy: 'game_date',
  clusterBy: ['system_id', 'player_lookup'],
  requirePartitionFilter: true,
  columns: [...predictionColumns, ...supersedeColumns],
};

export const processorRunHistory: TableDef = {
  dataset: 'nba_reference',
  name: 'processor_run_history',
  description: 'One row per coordinator batch when it ends: status, timings, counts and errors.',
  partitionBy: 'data_date',
  columns: [
    req('processor_name', 'STRING'),
    req('run_id', 'STRING', { description: 'the batch id' }),
    req('status', 'STRING', { description: 'success, partial, failed, no_data, or the batch state for batches that never consolidated' }),
    req('data_date', 'DATE', { description: 'the game date' }),
    req('started_at', 'TIMESTAMP'),
    c('processed_at', 'TIMESTAMP'),
    c('duration_seconds', 'FLOAT64'),
    c('records_processed', 'INT64', { description: 'players completed' }),
    c('records_skipped', 'INT64', { description: 'published players that never completed' }),
    c('predictions', 'INT64'),
    c('phase', 'STRING'),
    c('output_table', 'STRING'),
    c('output_dataset', 'STRING'),
    c('trigger_source', 'STRING', { description: "the /start body's trigger_source, else api" }),
    c('parent_processor', 'STRING', { description: "the /start body's parent_processor" }),
    c('errors', 'STRING', { description: 'JSON text' }),
    c('summary', 'STRING', { description: 'JSON text: dispatch summary and consolidation result' }),
  ],
};

/** One row per regeneration whose batch merged, written in the merge's own transaction (so its counts are exact). */
export const predictionRegenerationAudit: TableDef = {
  dataset: 'nba_predictions',
  name: 'prediction_regeneration_audit',
  description: 'One row per regeneration (POST /regenerate-with-supersede, /regenerate-pubsub) whose batch merged.',
  partitionBy: 'game_date',
  columns: [
    req('regeneration_timestamp', 'TIMESTAMP', { description: 'when the regeneration was requested' }),
    req('game_date', 'DATE'),
    req('batch_id', 'STRING', { description: 'the regeneration batch (the id the request answered with)' }),
    c('reason', 'STRING'),
    c('metadata', 'JSON'),
    c('superseded_count', 'INT64', { description: 'active rows of the date the regeneration superseded' }),
    c('regenerated_count', 'INT64', { description: 'rows of the regeneration batch now active' }),
    c('not_replaced_count', 'INT64', {
      description: 'active rows of the date from other batches left active (players the regeneration did not predict)',
    }),
    c('processing_time_seconds', 'FLOAT64', { description: 'from the request to the merge' }),
    c('triggered_by', 'STRING', { description: 'coordinator_endpoint (HTTP) or pubsub (nba-prediction-trigger)' }),
    req('created_at', 'TIMESTAMP'),
  ],
};

/** The day's signal per model, recomputed after every successful consolidation (MERGE keyed by game_date and system_id). */
export const dailyPredictionSignals: TableDef = {
  dataset: 'nba_predictions',
  name: 'daily_prediction_signals',
  description: 'Per date and model with at least 10 active lined predictions: the OVER/UNDER mix, edges and a GREEN/YELLOW/RED signal.',
  partitionBy: 'game_date',
  columns: [
    req('game_date', 'DATE'),
    req('system_id', 'STRING'),
    req('total_picks', 'INT64', { description: 'active predictions with a line' }),
    req('high_edge_picks', 'INT64', { description: '|predicted − line| ≥ 5' }),
    c('pct_over', 'FLOAT64'),
    c('pct_under', 'FLOAT64'),
    c('avg_confidence', 'FLOAT64'),
    c('avg_edge', 'FLOAT64', { description: 'mean |predicted − line|' }),
    c('avg_pvl', 'FLOAT64', { description: 'mean (predicted − line): the bias' }),
    c('skew_category', 'STRING', { description: 'UNDER_HEAVY (pct_over < 25), OVER_HEAVY (pct_over > 45), BALANCED' }),
    c('volume_category', 'STRING', { description: 'LOW (< 3 high-edge picks), NORMAL, HIGH (≥ 8)' }),
    c('slate_size', 'INT64', { description: 'games on the schedule for the date' }),
    req('daily_signal', 'STRING', { description: 'GREEN, YELLOW, RED' }),
    c('signal_explanation', 'STRING'),
    c('batch_id', 'STRING', { description: 'the batch whose consolidation computed the row' }),
    req('calculated_at', 'TIMESTAMP'),
  ],
};

export const ALL_TABLES: readonly TableDef[] = [
  upcomingPlayerGameContext,
  oddsApiPlayerPointsProps,
  bettingprosPlayerPointsProps,
  mlFeatureStoreV2,
  playerGameSummary,
  nbacSchedule,
  gamePostponements,
  nbacInjuryReport,
  modelRegistry,
  predictionStaging,
  playerPropPredictions,
  processorRunHistory,
  predictionRegenerationAudit,
  dailyPredictionSignals,
];

/**
 * What is wrong with `row` for `table`, or null: a required column NULL, a value of the wrong type, a NUMERIC that does not
 * fit its precision and scale (a line of 1000.0 in NUMERIC(4,1)). Writers check rows with it first, so one bad row is
 * dropped with its reason instead of failing — and being retried with — its whole write.
 */
/** Each table's column names as a set (rowProblem runs per row: a linear search per key made it quadratic in the columns). */
const columnNameSets = new WeakMap<TableDef, ReadonlySet<string>>();
function columnNames(table: TableDef): ReadonlySet<string> {
  let names = columnNameSets.get(table);
  if (!names) {
    names = new Set(table.columns.map((c) => c.name));
    columnNameSets.set(table, names);
  }
  return names;
}

export function rowProblem(table: TableDef, row: Readonly<Record<string, unknown>>): string | null {
  for (const col of table.columns) {
    const v = row[col.name];
    if (v === null || v === undefined) {
      if (col.required && !col.repeated) return `${col.name} is required`;
      continue;
    }
    if (col.repeated) {
      if (!Array.isArray(v)) return `${col.name} must be an array`;
      continue;
    }
    try {
      canonicalScalar(col.type, v, col.numeric ?? [38, 9]);
    } catch (err) {
      return `${col.name}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const names = columnNames(table);
  for (const key of Object.keys(row)) if (!names.has(key)) return `unknown column ${key}`;
  return null;
}

export function tableId(t: TableDef): string {
  return `${t.dataset}.${t.name}`;
}

export function findTable(id: string): TableDef {
  const found = ALL_TABLES.find((t) => tableId(t) === id);
  if (!found) throw new Error(`unknown table '${id}'`);
  return found;
}

/** The tables this product writes (and the registry it reads its models from); the rest belong to the upstream phases. */
export const PRODUCT_TABLES: readonly TableDef[] = [
  modelRegistry,
  predictionStaging,
  playerPropPredictions,
  processorRunHistory,
  predictionRegenerationAudit,
  dailyPredictionSignals,
];
