/**
 * One prediction request message — several players — predicted together:
 *  1. a request for a batch that has ended or is consolidating is acked at once (no models run, no staging written);
 *  2. players that came without feature values get them from the feature store (one query per date, cached);
 *  3. each player is checked (features, lines and their provenance) — a player that can never be predicted is skipped
 *     alone, with its reason;
 *  4. every model runs once for the whole chunk (one inference call per model);
 *  5. rows are checked against the table schema (a bad row is dropped with its reason), then the chunk's rows are
 *     appended in one write; a write the warehouse rejects for good is retried player by player, so one player's bad row
 *     fails that player only;
 *  6. one completion event reports every player's outcome.
 * A failure that may clear is a `retry` (5xx, redelivered: the same ids, so harmless) — see ack-policy.ts for past dates.
 */
import type { WorkerDeps } from '../deps.js';
import { playerJobs, type PlayerJob, type PredictionRequest } from '../../../shared/contracts/messages.js';
import type { PlayerCompletion } from '../../../shared/batch/batch-record.js';
import { takesCompletions } from '../../../shared/batch/batch-record.js';
import { FEATURE_NAMES, type FeatureValues } from '../../../shared/contracts/feature-contract.js';
import { buildVector } from '../../../shared/contracts/feature-vector.js';
import { predictionStaging, rowProblem } from '../../../shared/contracts/tables.js';
import { WarehouseError, type Row } from '../../../shared/ports/warehouse.js';
import { errorMessage } from '../../../shared/errors/error-message.js';
import { addLogContext } from '../../../shared/logging/log-context.js';
import { resolveVegas } from './vegas.js';
import { qualityFloorProblem, validateFeatures } from './validate-features.js';
import { fillFeatures } from '../../../shared/contracts/feature-fills.js';
import { provenanceProblem } from './line-provenance.js';
import { predictionRow, type RowContext } from './prediction-row.js';
import { onTransientFailure } from './ack-policy.js';
import { publishCompletion } from './completion.js';
import { crashPoint } from '../../../shared/faults/crash-points.js';

export type PredictDecision =
  /** Rows written (or players skipped for good) and the completion published: ack. */
  | { kind: 'done'; completions: PlayerCompletion[] }
  /** The batch has ended: ack, nothing done. */
  | { kind: 'batch_ended'; state: string }
  /** A failure that may clear: 5xx, Pub/Sub redelivers. */
  | { kind: 'retry'; reason: string };

interface Prepared {
  job: PlayerJob;
  ctx: Omit<RowContext, 'championId' | 'createdAt'>;
  lines: Array<number | null>;
  dropped: string[];
}

export async function predictMessage(deps: WorkerDeps, req: PredictionRequest, publishTime: string | undefined): Promise<PredictDecision> {
  addLogContext({ batch_id: req.batch_id, players: req.players.length });
  const state = await deps.batchState.stateOf(req.batch_id);
  if (state !== null && !takesCompletions(state)) {
    deps.logger.info({ event: 'REQUEST_FOR_ENDED_BATCH', state }, `batch ${req.batch_id} is ${state}: request acked without predicting`);
    return { kind: 'batch_ended', state };
  }
  const jobs = playerJobs(req);
  const outcome = await predictPlayers(deps, jobs, publishTime);
  if (outcome.kind === 'transient') {
    const decision = onTransientFailure(jobs, outcome.reason, deps.clock.now());
    if (decision.kind === 'retry') return decision;
    deps.logger.warn(
      { event: 'STALE_TRANSIENT' },
      `transient failure for a past game date (${req.game_date}): acked, players reported failed: ${outcome.reason}`,
    );
    return complete(deps, req, decision.completions);
  }
  crashPoint('predict.staged');
  return complete(deps, req, outcome.completions);
}

async function complete(deps: WorkerDeps, req: PredictionRequest, completions: PlayerCompletion[]): Promise<PredictDecision> {
  const failed = await publishCompletion(deps, req, completions);
  return failed === null ? { kind: 'done', completions } : { kind: 'retry', reason: failed };
}

type PlayersOutcome = { kind: 'completed'; completions: PlayerCompletion[] } | { kind: 'transient'; reason: string };

// eslint-disable-next-line complexity -- per player: features, validation, lines, one call per model, each with its skip/fail reason; the order is the contract
async function predictPlayers(deps: WorkerDeps, jobs: PlayerJob[], publishTime: string | undefined): Promise<PlayersOutcome> {
  const completions = new Map<string, PlayerCompletion>();
  const skip = (job: PlayerJob, kind: 'skipped' | 'failed', reason: string) =>
    completions.set(job.player_lookup, { player_lookup: job.player_lookup, kind, predictions: 0, staged_rows: 0, reason });

  // 2–3. Feature values and per-player checks.
  const prepared: Prepared[] = [];
  for (const job of jobs) {
    let values = job.features;
    let quality = job.feature_quality;
    let daysRest = job.days_rest ?? null;
    if (values === undefined) {
      let row;
      try {
        row = await deps.features.get(job.game_date, job.dataset_prefix, job.player_lookup);
      } catch (err) {
        if (err instanceof WarehouseError && !err.retryable) {
          skip(job, 'failed', `feature store read failed for good: ${err.message}`);
          continue;
        }
        return { kind: 'transient', reason: `feature store read failed: ${errorMessage(err)}` };
      }
      if (!row) {
        skip(job, 'skipped', `no_features: no feature-store row for ${job.player_lookup} on ${job.game_date}`);
        continue;
      }
      values = row.values;
      quality = row.quality;
      daysRest = row.days_rest;
    }
    const invalid = validateFeatures(values) ?? qualityFloorProblem(quality);
    if (invalid) {
      skip(job, 'skipped', `invalid_features: ${invalid}`);
      continue;
    }
    const vegas = resolveVegas(values, job.line_values);
    // The one place fills happen, before any vector is built (shared/contracts/feature-fills.ts).
    const resolved: FeatureValues = fillFeatures(vegas.values, daysRest);
    const snapshot = JSON.stringify({
      ...Object.fromEntries(FEATURE_NAMES.filter((n) => resolved[n] !== undefined).map((n) => [n, resolved[n]])),
      vegas_source: vegas.source,
      feature_quality_score: quality?.feature_quality_score ?? null,
    });
    const dropped: string[] = [];
    const lines = job.line_values.filter((line) => {
      const problem = provenanceProblem(job, line);
      if (problem) dropped.push(`line ${String(line)}: ${problem}`);
      return problem === null;
    });
    if (lines.length === 0) {
      skip(job, 'skipped', `no_valid_lines: ${dropped.join('; ')}`);
      continue;
    }
    const build = { commitSha: deps.settings.buildCommit ?? 'unknown', revision: deps.settings.instance };
    prepared.push({ job, ctx: { req: job, values: resolved, quality, vegasSource: vegas.source, snapshot, build }, lines, dropped });
  }

  // 4. Every model once for the whole chunk.
  const rowsByPlayer = new Map<string, Row[]>(prepared.map((p) => [p.job.player_lookup, []]));
  if (prepared.length > 0) {
    const models = deps.models.loaded;
    if (models.length === 0) return { kind: 'transient', reason: 'no models are loaded (see GET /models for the refusals)' };
    const createdAt = publishTime ?? deps.clock.now().toISOString();
    const modelErrors: string[] = [];
    for (const model of models) {
      if (!model.breaker.allow()) {
        modelErrors.push(`${model.systemId}: circuit breaker open`);
        continue;
      }
      let outputs: Float32Array;
      try {
        const input = new Float32Array(prepared.length * model.width);
        prepared.forEach((p, i) => buildVector(model.family, p.ctx.values, input, i * model.width));
        outputs = await model.session.run(input, prepared.length);
        model.breaker.success();
      } catch (err) {
        model.breaker.failure(errorMessage(err));
        modelErrors.push(`${model.systemId}: ${errorMessage(err)}`);
        deps.logger.error(
          { system_id: model.systemId, err: errorMessage(err), breaker: model.breaker.view().state },
          `model ${model.systemId} failed; its rows are skipped`,
        );
        continue;
      }
      prepared.forEach((p, i) => {
        const raw = outputs[i] as number;
        if (!Number.isFinite(raw)) {
          p.dropped.push(`${model.systemId}: non-finite output ${raw}`);
          return;
        }
        const rows = rowsByPlayer.get(p.job.player_lookup) as Row[];
        for (const line of p.lines) {
          const row = predictionRow({ ...p.ctx, championId: deps.models.championId, createdAt }, model, raw, line);
          const problem = rowProblem(predictionStaging, row);
          if (problem) p.dropped.push(`${model.systemId} line ${String(line)}: ${problem}`);
          else rows.push(row);
        }
      });
    }
    if (modelErrors.length === models.length) return { kind: 'transient', reason: `every model failed: ${modelErrors.join('; ')}` };
  }

  // 5. One append for the chunk; a permanent rejection is isolated player by player.
  const writers = prepared.filter((p) => (rowsByPlayer.get(p.job.player_lookup)?.length ?? 0) > 0);
  for (const p of prepared) {
    if (!writers.includes(p)) skip(p.job, 'failed', `no row could be written: ${p.dropped.join('; ') || 'no model produced a row'}`);
  }
  const written = await writeStaging(deps, writers, rowsByPlayer);
  if (written.kind === 'transient') return written;
  for (const p of writers) {
    const error = written.failed.get(p.job.player_lookup);
    const rows = rowsByPlayer.get(p.job.player_lookup) as Row[];
    if (error !== undefined) skip(p.job, 'failed', `staging write rejected: ${error}`);
    else {
      completions.set(p.job.player_lookup, {
        player_lookup: p.job.player_lookup,
        kind: 'predicted',
        predictions: rows.length,
        staged_rows: rows.length,
        reason: p.dropped.length > 0 ? `dropped: ${p.dropped.join('; ')}` : null,
      });
      if (p.dropped.length > 0)
        deps.logger.warn({ player_lookup: p.job.player_lookup, dropped: p.dropped }, `${p.dropped.length} row(s) dropped`);
    }
  }
  return { kind: 'completed', completions: jobs.map((j) => completions.get(j.player_lookup) as PlayerCompletion) };
}

type WriteOutcome = { kind: 'written'; failed: Map<string, string> } | { kind: 'transient'; reason: string };

async function writeStaging(deps: WorkerDeps, writers: Prepared[], rowsByPlayer: Map<string, Row[]>): Promise<WriteOutcome> {
  const failed = new Map<string, string>();
  if (writers.length === 0) return { kind: 'written', failed };
  const prefix = writers[0]?.job.dataset_prefix ?? '';
  const append = (rows: Row[]) =>
    // prediction_id hashes (batch, game, player, system, line): a redelivery sends the same ids, so BigQuery's insertAll drops
    // the copy (best effort); the merge deduplicates whatever gets through.
    deps.warehouse.insert({
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows,
      datasetPrefix: prefix,
      idColumns: ['prediction_id'],
    });
  try {
    await append(writers.flatMap((p) => rowsByPlayer.get(p.job.player_lookup) as Row[]));
    return { kind: 'written', failed };
  } catch (err) {
    if (!(err instanceof WarehouseError) || err.retryable)
      return { kind: 'transient', reason: `staging write failed: ${errorMessage(err)}` };
    if (writers.length === 1) {
      failed.set(writers[0]!.job.player_lookup, err.message);
      return { kind: 'written', failed };
    }
    deps.logger.warn({ err: err.message }, 'staging write rejected for good: writing player by player to isolate the bad rows');
  }
  for (const p of writers) {
    try {
      await append(rowsByPlayer.get(p.job.player_lookup) as Row[]);
    } catch (err) {
      if (!(err instanceof WarehouseError) || err.retryable)
        return { kind: 'transient', reason: `staging write failed: ${errorMessage(err)}` };
      failed.set(p.job.player_lookup, err.message);
    }
  }
  return { kind: 'written', failed };
}
