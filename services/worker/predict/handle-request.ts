/**
 * One prediction request → one row per model per line in staging → one completion event.
 * Outcomes: rows written; a permanent skip (acked, completion with 0); or an error — transient errors are retried by
 * Pub/Sub (5xx), except for a game date more than a day in the past, which is acked with a 0 completion so a dead day's
 * batch still ends. A staging write failure is always a 5xx with no completion.
 */
import type { WorkerDeps } from '../deps.js';
import type { PredictionRequest } from '../../../shared/contracts/messages.js';
import { buildVector, FEATURE_NAMES, type FeatureValues } from '../../../shared/contracts/feature-contract.js';
import type { Row } from '../../../shared/ports/warehouse.js';
import { AppError, errorMessage } from '../../../shared/errors/app-error.js';
import { resolveVegas } from './vegas.js';
import { qualityFloorProblem, validateFeatures } from './validate-features.js';
import { fillFeatures } from '../../../shared/contracts/feature-fills.js';
import { provenanceProblem } from './line-provenance.js';
import { predictionRow } from './prediction-row.js';

export type PredictOutcome =
  | { kind: 'written'; rows: number; dropped: Array<{ system_id: string | null; line: number | null; reason: string }> }
  | { kind: 'skipped'; reason: string; detail: string };

export async function handlePredictionRequest(deps: WorkerDeps, req: PredictionRequest, publishTime: string | undefined): Promise<PredictOutcome> {
  const log = deps.logger.child({ batch_id: req.batch_id, player_lookup: req.player_lookup, game_date: req.game_date });

  let values = req.features;
  let quality = req.feature_quality;
  let daysRest = req.days_rest ?? null;
  if (values === undefined) {
    let row;
    try {
      row = await deps.features.get(req.game_date, req.dataset_prefix, req.player_lookup);
    } catch (err) {
      throw new AppError('FEATURE_STORE_UNAVAILABLE', `feature store read failed: ${errorMessage(err)}`, { httpStatus: 503, retryable: true });
    }
    if (!row) return { kind: 'skipped', reason: 'no_features', detail: `no feature-store row for ${req.player_lookup} on ${req.game_date}` };
    values = row.values;
    quality = row.quality;
    daysRest = row.days_rest;
  }
  const invalid = validateFeatures(values) ?? qualityFloorProblem(quality);
  if (invalid) return { kind: 'skipped', reason: 'invalid_features', detail: invalid };

  const vegas = resolveVegas(values, req.line_values);
  // The one place fills happen, before any vector is built (shared/contracts/feature-fills.ts).
  const resolved: FeatureValues = fillFeatures(vegas.values, daysRest);
  const snapshot = JSON.stringify({
    ...Object.fromEntries(FEATURE_NAMES.filter((n) => resolved[n] !== undefined).map((n) => [n, resolved[n]])),
    vegas_source: vegas.source,
    feature_quality_score: quality?.feature_quality_score ?? null,
  });

  const dropped: Array<{ system_id: string | null; line: number | null; reason: string }> = [];
  const lines = req.line_values.filter((line) => {
    const problem = provenanceProblem(req, line);
    if (problem) dropped.push({ system_id: null, line, reason: problem });
    return problem === null;
  });

  const models = deps.models.loaded;
  if (models.length === 0) throw new AppError('NO_MODELS', 'no models are loaded (see GET /models for the refusals)', { httpStatus: 503, retryable: true });
  // One buffer for every model's input row: the vector does not depend on the line (vegas features come from the request line).
  const buffer = new Float32Array(models.reduce((sum, m) => sum + m.width, 0));
  const ctx = {
    req, values: resolved, quality, vegasSource: vegas.source, championId: deps.models.championId, createdAt: publishTime ?? deps.clock.now().toISOString(), snapshot,
    build: { commitSha: deps.settings.buildCommit ?? 'unknown', revision: deps.settings.instance },
  };
  const rows: Row[] = [];
  let offset = 0;
  for (const model of models) {
    const input = buffer.subarray(offset, offset + model.width);
    offset += model.width;
    if (!model.breaker.allow()) {
      dropped.push({ system_id: model.systemId, line: null, reason: 'circuit_breaker_open' });
      continue;
    }
    let raw: number;
    try {
      buildVector(model.family, resolved, input);
      const out = await model.session.run(input, 1);
      raw = out[0] as number;
      if (!Number.isFinite(raw)) throw new Error(`non-finite output ${raw}`);
      model.breaker.success();
    } catch (err) {
      model.breaker.failure(errorMessage(err));
      dropped.push({ system_id: model.systemId, line: null, reason: `model_failed: ${errorMessage(err)}` });
      log.error({ system_id: model.systemId, err: errorMessage(err), breaker: model.breaker.view().state }, `model ${model.systemId} failed; its rows are skipped`);
      continue;
    }
    for (const line of lines) rows.push(predictionRow(ctx, model, raw, line));
  }

  if (rows.length === 0) {
    if (lines.length === 0) return { kind: 'skipped', reason: 'no_valid_lines', detail: dropped.map((d) => d.reason).join('; ') };
    throw new AppError('ALL_MODELS_FAILED', `every model failed: ${dropped.map((d) => `${d.system_id}: ${d.reason}`).join('; ')}`, { httpStatus: 503, retryable: true });
  }

  try {
    // prediction_id hashes (batch, game, player, system, line): a redelivered request sends the same ids, so BigQuery's
    // insertAll drops the copy (best effort); the merge deduplicates whatever gets through.
    await deps.warehouse.insert({ name: 'staging.append', table: 'nba_predictions.prediction_staging', rows, datasetPrefix: req.dataset_prefix, idColumns: ['prediction_id'] });
  } catch (err) {
    throw new AppError('STAGING_WRITE_FAILED', `staging write failed: ${errorMessage(err)}`, { httpStatus: 503, retryable: true, details: { stale_ack: false } });
  }
  if (dropped.length > 0) log.warn({ dropped }, `${dropped.length} row(s) dropped`);
  return { kind: 'written', rows: rows.length, dropped };
}
