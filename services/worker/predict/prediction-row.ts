/** One staging row per (model, line), with every column of the prediction tables (shared/contracts/tables.ts). */
import type { PlayerJob, FeatureQuality } from '../../../shared/contracts/messages.js';
import type { FeatureValues } from '../../../shared/contracts/feature-contract.js';
import type { Row } from '../../../shared/ports/warehouse.js';
import type { LoadedModel } from '../models/model-set.js';
import type { VegasSource } from './vegas.js';
import { actionable, clampPrediction, confidence, directionGuard, recommend, scoringTier } from './recommendation.js';
import { predictionId } from './prediction-id.js';
import { TIER_ADJUSTMENT, classifyScenario } from './scenario.js';

export interface RowContext {
  req: PlayerJob;
  values: FeatureValues;
  quality: FeatureQuality | undefined;
  vegasSource: VegasSource;
  championId: string | null;
  /** The request's publish time (else the worker's clock): created_at and predicted_at, identical on a redelivery. */
  createdAt: string;
  snapshot: string;
  build: { commitSha: string; revision: string };
}

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

// eslint-disable-next-line complexity -- one output row: every nullable column is a `??` or `?.` the complexity count includes
export function predictionRow(ctx: RowContext, model: LoadedModel, raw: number, line: number | null): Row {
  const { req, values, quality } = ctx;
  const predicted = clampPrediction(raw);
  const conf = confidence(model.family, quality?.feature_quality_score ?? null, values.points_std_last_10);
  const rec = directionGuard(recommend(model.family, model.quantileAlpha, predicted, line), predicted, line);
  const act = actionable({
    systemId: model.systemId,
    championId: ctx.championId,
    recommendation: rec,
    predicted,
    line,
    confidence: conf,
    seasonAvg: values.points_avg_season,
    last5Avg: values.points_avg_last_5,
    isQualityReady: quality?.is_quality_ready ?? null,
    requiredDefaults: quality?.required_default_count ?? null,
  });
  const tier = scoringTier(values.points_avg_season);
  const scenario = classifyScenario(rec, predicted, line, req.player_lookup, req.opponent_team_abbr);
  const qualityScore = quality?.feature_quality_score ?? null;
  return {
    prediction_id: predictionId(req.batch_id, req.game_id, req.player_lookup, model.systemId, line),
    system_id: model.systemId,
    player_lookup: req.player_lookup,
    universal_player_id: req.universal_player_id ?? null,
    game_date: req.game_date,
    game_id: req.game_id,
    batch_id: req.batch_id,
    prediction_version: 1,
    predicted_points: round(predicted, 1),
    confidence_score: round(conf, 2),
    recommendation: rec,
    has_prop_line: req.line_source === 'ACTUAL_PROP',
    current_points_line: line === null ? null : round(line, 1),
    line_margin: line === null ? null : round(predicted - line, 2),
    line_source: req.line_source,
    line_source_api: req.line_source_api,
    sportsbook: req.sportsbook,
    was_line_fallback: req.was_line_fallback,
    line_minutes_before_game: req.line_minutes_before_game,
    // A reference line only (the player's recent average); 0 is no value, as the original wrote it.
    estimated_line_value: req.estimated_line_value ? round(req.estimated_line_value, 1) : null,
    // Estimated lines are off (as in the original since v3.10): no line is ever estimated, so no method.
    estimation_method: null,
    model_version: model.version,
    model_file_name: model.fileName,
    model_sha256: model.sha256,
    feature_quality_score: quality?.feature_quality_score ?? null,
    // The original wrote the loader's value, where NULL had become false; no quality block → unknown.
    is_quality_ready: quality === undefined ? null : (quality.is_quality_ready ?? false),
    quality_alert_level: quality?.quality_alert_level ?? null,
    matchup_quality_pct: quality?.matchup_quality_pct ?? null,
    default_feature_count: quality?.default_feature_count ?? null,
    required_default_count: quality?.required_default_count ?? null,
    vegas_line_source: quality?.vegas_line_source ?? null,
    default_feature_indices: quality?.default_feature_indices ?? [],
    critical_features: criticalFeatures(values),
    features_snapshot: ctx.snapshot,
    is_actionable: act.isActionable,
    filter_reason: act.filterReason,
    scoring_tier: tier,
    tier_adjustment: TIER_ADJUSTMENT[tier],
    scenario_category: scenario.category,
    scenario_flags: JSON.stringify(scenario.flags),
    low_quality_flag: qualityScore === null ? null : qualityScore < 70,
    prediction_run_mode: req.prediction_run_mode,
    prediction_made_before_game: req.prediction_run_mode !== 'BACKFILL',
    injury_status_at_prediction: req.injury_status ?? null,
    injury_flag_at_prediction: req.injury_flag ?? null,
    injury_reason_at_prediction: req.injury_reason ?? null,
    injury_checked_at: req.injury_checked_at ?? null,
    build_commit_sha: ctx.build.commitSha,
    deployment_revision: ctx.build.revision,
    predicted_at: ctx.createdAt,
    is_active: true,
    // Nothing in the product replaces a row by id or invalidates one (postponement handling lives upstream): see data-contracts.
    superseded_by: null,
    invalidation_reason: null,
    invalidated_at: null,
    created_at: ctx.createdAt,
    updated_at: null,
  };
}

/** The five inputs the original kept for debugging, after the vegas override and the fills (has_vegas_line from the line). */
function criticalFeatures(values: FeatureValues): string {
  return JSON.stringify({
    vegas_points_line: values.vegas_points_line ?? null,
    has_vegas_line: values.vegas_points_line ? 1 : 0,
    ppm_avg_last_10: values.ppm_avg_last_10 ?? null,
    avg_points_vs_opponent: values.avg_points_vs_opponent ?? null,
    team_win_pct: values.team_win_pct ?? null,
  });
}
