/**
 * The `/start` pipeline. The date is claimed before anything is loaded; every query is batched (a constant count whatever
 * the number of players or models); every candidate ends with one recorded outcome; the expected count is written before a
 * completion can finish the batch; and all work is done before the answer (Cloud Run throttles CPU after it).
 */
import { randomBytes } from 'node:crypto';
import type { CoordinatorDeps } from '../deps.js';
import type { BatchRecord, PlayerOutcome } from '../../../shared/ports/batch-store.js';
import type { OutgoingMessage } from '../../../shared/ports/bus.js';
import { AppError, badRequest, dependencyFailed, errorMessage } from '../../../shared/errors/app-error.js';
import { etDate, resolveGameDate } from '../../../shared/dates/game-date.js';
import { effectiveRunMode } from './run-modes.js';
import type { StartRequest } from './start-request.js';
import { countQueries } from './query-counter.js';
import { PhaseTimer } from './phase-timer.js';
import { COMPLETENESS, loadSlate } from './slate-query.js';
import { loadCandidates } from './player-query.js';
import { loadInjuries } from './injury-query.js';
import { lookupLines } from './line-queries.js';
import { loadFeatureRows } from '../../../shared/queries/feature-rows.js';
import { loadEnabledModels } from './models-query.js';
import { buildRequests } from './build-requests.js';
import { inputHealth, summariseLines, summariseOutcomes } from './summarise.js';
import { consolidateBatch } from '../batch/consolidate.js';
import { batchProgress } from '../batch/progress.js';
import { recordRun } from '../batch/run-record.js';

export interface StartResponse {
  httpStatus: number;
  body: Record<string, unknown>;
}

export async function startBatch(deps: CoordinatorDeps, req: StartRequest): Promise<StartResponse> {
  const now = deps.clock.now();
  const resolved = resolveGameDate(req.gameDateInput, now);
  if (!resolved.ok) throw badRequest(resolved.error, { field: 'game_date' });
  const gameDate = resolved.date;
  const today = etDate(now);
  const mode = effectiveRunMode(req.requestedMode, { requireRealLines: req.requireRealLines, gameDate, today });
  const batchId = `batch_${gameDate}_${Math.floor(now.getTime() / 1000)}_${randomBytes(3).toString('hex')}`;
  const correlationId = req.correlationId ?? batchId;
  const prefix = req.datasetPrefix;
  const timer = new PhaseTimer();
  const log = deps.logger.child({ batch_id: batchId, game_date: gameDate, correlation_id: correlationId });

  // 1. Claim the date before loading anything.
  const lease = await timer.time('lease', () =>
    deps.batches.claimLease({ gameDate, batchId, ttlMs: deps.settings.leaseTtlMs, force: req.force }),
  );
  if (!lease.ok) return alreadyRunning(deps, lease.holderBatchId, gameDate);
  if (lease.tookOverBatchId) log.warn({ took_over: lease.tookOverBatchId }, 'force: took over the running batch lease');

  const record: BatchRecord = {
    batch_id: batchId,
    game_date: gameDate,
    correlation_id: correlationId,
    dataset_prefix: prefix,
    prediction_run_mode: mode,
    state: 'dispatching',
    expected: 0,
    completed: 0,
    total_predictions: 0,
    started_at: now.toISOString(),
    dispatched_at: null,
    ended_at: null,
    updated_at: now.toISOString(),
    summary: {},
    consolidation: null,
    error: null,
  };
  try {
    await deps.batches.createBatch(record);
  } catch (err) {
    await deps.batches.releaseLease(gameDate, batchId);
    throw dependencyFailed('batch_store.create', err);
  }

  const counted = countQueries(deps.warehouse);
  const wh = counted.warehouse;
  const step = async <T>(phase: string, name: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await timer.time(phase, work);
    } catch (err) {
      throw err instanceof AppError ? err : dependencyFailed(name, err);
    }
  };

  try {
    // 2. Fixed checks: games, completeness, postponements (one query).
    const slate = await step('completeness', 'slate', () => loadSlate(wh, gameDate, prefix));
    const warnings: string[] = [];
    if (!req.skipPostponementCheck && slate.postponed.length > 0) {
      warnings.push(`postponed games on ${gameDate}: ${slate.postponed.map((p) => p.game_id + (p.detail ? ` ${p.detail}` : '')).join(', ')}`);
    }
    const completeness = {
      checked: !req.skipCompletenessCheck,
      lookback_days: COMPLETENESS.lookbackDays,
      final_games: slate.finalGames,
      analysed_games: slate.analysedGames,
      coverage_pct: slate.coveragePct,
    };
    const baseSummary = {
      game_date: gameDate, run_mode: mode, requested_mode: req.requestedMode, run_mode_label: req.runModeLabel, dataset_prefix: prefix,
      trigger_source: req.triggerSource, parent_processor: req.parentProcessor,
      games: slate.gamesScheduled, context_games: slate.contextGames, completeness,
    };

    if (!req.skipCompletenessCheck && slate.coveragePct !== null && slate.coveragePct < COMPLETENESS.thresholdPct) {
      await endWithoutWork(deps, record, 'failed', `DATA_INCOMPLETE: coverage ${slate.coveragePct}%`, baseSummary);
      return {
        httpStatus: 503,
        body: {
          status: 'error',
          error: 'DATA_INCOMPLETE',
          message: `analytics cover ${slate.coveragePct}% of the last ${COMPLETENESS.lookbackDays} days' final games (threshold ${COMPLETENESS.thresholdPct}%); pass skip_completeness_check to override`,
          details: completeness,
          game_date: gameDate,
          batch_id: batchId,
        },
      };
    }
    // 3. Players (one query). An empty schedule alone does not end the run: the context table's players decide.
    const candidates = await step('players', 'players', () => loadCandidates(wh, gameDate, prefix, req.playerLookups));
    if (candidates.length === 0) {
      if (slate.gamesScheduled === 0 && slate.contextGames === 0) {
        await endWithoutWork(deps, record, 'complete', null, { ...baseSummary, outcome: 'no_games_scheduled' });
        return { httpStatus: 200, body: { status: 'no_games_scheduled', message: `no games scheduled on ${gameDate}`, game_date: gameDate, summary: baseSummary } };
      }
      await endWithoutWork(deps, record, 'complete', null, { ...baseSummary, outcome: 'no_players' });
      return { httpStatus: 404, body: { status: 'error', message: `No players found for ${gameDate}`, game_date: gameDate, summary: baseSummary } };
    }
    if (slate.gamesScheduled === 0) warnings.push(`the schedule has no games on ${gameDate}, but the context table has ${candidates.length} candidate players: predicting them`);
    const players = candidates.map((c) => c.player_lookup);

    // 3b. The injury re-check, once for everyone (one query).
    const injuriesCheckedAt = deps.clock.now().toISOString();
    const injuries = await step('injuries', 'injuries', () => loadInjuries(wh, gameDate, prefix, players));

    // 4. Lines (at most three queries).
    const lines = await step('lines', 'lines', () => lookupLines(wh, gameDate, prefix, players));

    // 5. Gate inputs: feature rows for everyone (one query), models and existing predictions (one query).
    const features = await step('gate', 'features', () => loadFeatureRows(wh, gameDate, prefix, players));
    const models = await step('gate', 'models_and_existing', () => loadEnabledModels(wh, gameDate, prefix, players));
    if (models.systems.length === 0) {
      throw new AppError('NO_MODELS', 'no enabled, active models in the model registry', { httpStatus: 503, details: { step: 'models_and_existing' } });
    }
    const built = await timer.time('gate', async () =>
      buildRequests({
        batchId, correlationId, gameDate, datasetPrefix: prefix, mode, runModeLabel: req.runModeLabel, requireRealLines: req.requireRealLines,
        useMultipleLines: req.useMultipleLines, candidates, lines, features, models, injuries, injuriesCheckedAt,
      }),
    );

    // 6. Publish in chunks; a message the bus fails marks its player publish_failed.
    const published = await timer.time('publish', () => publishRequests(deps, built.requests, built.outcomes, gameDate));

    const lineSummary = summariseLines(players, lines);
    const health = inputHealth(lineSummary, players.length, features);
    const summary = {
      ...baseSummary,
      candidates: candidates.length,
      total_requests: built.totalRequests,
      published: published.length,
      lines: lineSummary,
      gate: { ...summariseOutcomes(built.outcomes), per_model: built.perModel },
      models: { champion: models.champion, systems: models.systems },
      warnings: [...warnings, ...health],
      warehouse_queries: counted.count(),
      phase_ms: { ...timer.phases, total: timer.totalMs() },
    };

    await deps.batches.putOutcomes(batchId, built.outcomes);
    const done = await deps.batches.finishDispatch(batchId, published, summary);
    log.info({ event: 'BATCH_DISPATCHED', ...summary }, `dispatched ${published.length}/${candidates.length} players in ${summary.phase_ms.total} ms with ${summary.warehouse_queries} warehouse queries`);
    for (const w of summary.warnings) log.warn({ event: 'INPUT_HEALTH' }, w);

    // Every completion may already be in (or nothing was published): the batch finishes now.
    if (done.finished) await consolidateBatch(deps, batchId);

    return {
      httpStatus: 202,
      body: {
        status: 'started',
        batch_id: batchId,
        game_date: gameDate,
        correlation_id: correlationId,
        total_requests: built.totalRequests,
        published: published.length,
        summary,
        monitor_url: `/status?batch_id=${batchId}`,
      },
    };
  } catch (err) {
    const appErr = err instanceof AppError ? err : dependencyFailed('dispatch', err);
    log.error({ err: errorMessage(err), step: appErr.details?.step }, `start failed: ${appErr.message}`);
    await endWithoutWork(deps, record, 'failed', appErr.message, { game_date: gameDate, trigger_source: req.triggerSource, parent_processor: req.parentProcessor, phase_ms: timer.phases, warehouse_queries: counted.count() }).catch(
      (cleanupErr: unknown) => log.error({ err: errorMessage(cleanupErr) }, 'could not record the failed batch'),
    );
    throw appErr;
  }
}

async function publishRequests(
  deps: CoordinatorDeps,
  requests: ReturnType<typeof buildRequests>['requests'],
  outcomes: PlayerOutcome[],
  gameDate: string,
): Promise<string[]> {
  const published: string[] = [];
  const byPlayer = new Map(outcomes.map((o) => [o.player_lookup, o]));
  const size = deps.settings.publishChunkSize;
  for (let i = 0; i < requests.length; i += size) {
    const chunk = requests.slice(i, i + size);
    const messages: OutgoingMessage[] = chunk.map((r) => ({ data: r, attributes: { batch_id: r.batch_id, game_date: gameDate } }));
    let results;
    try {
      results = await deps.bus.publish(deps.settings.topics.request, messages);
    } catch (err) {
      results = chunk.map(() => ({ ok: false as const, error: errorMessage(err) }));
    }
    results.forEach((res, j) => {
      const player = chunk[j]?.player_lookup;
      if (player === undefined) return;
      if (res.ok) published.push(player);
      else {
        const o = byPlayer.get(player);
        if (o) {
          o.outcome = 'publish_failed';
          o.reason = `publish_failed: ${res.error}`;
        }
      }
    });
  }
  return published;
}

async function alreadyRunning(deps: CoordinatorDeps, holder: string, gameDate: string): Promise<StartResponse> {
  const batch = await deps.batches.getBatch(holder);
  return {
    httpStatus: 409,
    body: {
      status: 'already_running',
      batch_id: holder,
      game_date: gameDate,
      message: `batch ${holder} is already running for ${gameDate}; wait for it (GET /status?batch_id=${holder}) or pass "force": true to take over`,
      progress: batch ? batchProgress(batch, deps.clock.now()) : null,
    },
  };
}

/** Ends a batch that published nothing (or failed before publishing) and frees the date. */
async function endWithoutWork(
  deps: CoordinatorDeps,
  record: BatchRecord,
  state: 'complete' | 'failed',
  error: string | null,
  summary: Record<string, unknown>,
): Promise<void> {
  const ended = await deps.batches.transition(record.batch_id, 'dispatching', state, { error, summary });
  await deps.batches.releaseLease(record.game_date, record.batch_id);
  if (ended) await recordRun(deps, ended);
}
