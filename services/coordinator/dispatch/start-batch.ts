/**
 * The `/start` use case, as a short story: resolve the date; claim it (a `force` supersedes the batch holding it); open a
 * batch; load the slate, players, lines, feature rows and models with a constant number of queries; gate every candidate;
 * publish the viable players, several per message; record every candidate's outcome and end dispatch. All work is done
 * before the answer (Cloud Run throttles CPU after it). It returns an outcome; the HTTP mapping is the app's business.
 */
import { randomBytes } from 'node:crypto';
import type { CoordinatorDeps } from '../deps.js';
import type { BatchRecord, DispatchSummary, PlayerOutcome } from '../../../shared/batch/batch-record.js';
import {
  batchProgress,
  beginPublishing,
  failDispatch,
  newBatch,
  supersede,
  type BatchProgress,
} from '../../../shared/batch/batch-machine.js';
import type { OutgoingMessage } from '../../../shared/ports/bus.js';
import { WarehouseError } from '../../../shared/ports/warehouse.js';
import type { PlayerRequestInput, PredictionRequestInput } from '../../../shared/contracts/messages.js';
import { errorMessage } from '../../../shared/errors/error-message.js';
import { etDate, resolveGameDate } from '../../../shared/dates/game-date.js';
import { addLogContext } from '../../../shared/logging/log-context.js';
import { effectiveRunMode } from './run-modes.js';
import type { StartRequest } from './start-request.js';
import { countQueries } from './query-counter.js';
import { PhaseTimer } from './phase-timer.js';
import { COMPLETENESS, loadSlate, type Slate } from './slate-query.js';
import { loadCandidates } from './player-query.js';
import { loadInjuries } from './injury-query.js';
import { lookupLines } from './line-queries.js';
import { loadFeatureRows } from '../../../shared/queries/feature-rows.js';
import { loadEnabledModels } from './models-query.js';
import { buildRequests, type BuiltRequests } from './build-requests.js';
import { inputHealth, summariseLines, summariseOutcomes } from './summarise.js';
import { consolidateBatch, requestConsolidation } from '../batch/consolidate.js';
import { closeBatch } from '../batch/closing.js';
import { crashPoint } from '../../../shared/faults/crash-points.js';

export type StartOutcome =
  | {
      kind: 'started';
      batch_id: string;
      game_date: string;
      correlation_id: string;
      total_requests: number;
      published: number;
      publish_failed: number;
      messages: number;
      superseded: string | null;
      summary: DispatchSummary;
    }
  | { kind: 'invalid'; field: string; message: string }
  | { kind: 'already_running'; batch_id: string; game_date: string; progress: BatchProgress | null }
  | { kind: 'data_incomplete'; batch_id: string; game_date: string; message: string; completeness: DispatchSummary['completeness'] }
  | { kind: 'no_games'; batch_id: string; game_date: string; summary: DispatchSummary }
  | { kind: 'no_players'; batch_id: string; game_date: string; summary: DispatchSummary }
  | { kind: 'nothing_published'; batch_id: string; game_date: string; publish_failed: number; error: string; summary: DispatchSummary }
  | { kind: 'no_models'; batch_id: string; game_date: string }
  | { kind: 'unknown_dataset'; batch_id: string; field: 'dataset_prefix'; message: string }
  | { kind: 'superseded'; batch_id: string; game_date: string; by: string | null };

interface Context {
  deps: CoordinatorDeps;
  req: StartRequest;
  batch: BatchRecord;
  timer: PhaseTimer;
  counted: ReturnType<typeof countQueries>;
}

export async function startBatch(deps: CoordinatorDeps, req: StartRequest): Promise<StartOutcome> {
  const now = deps.clock.now();
  const resolved = resolveGameDate(req.gameDateInput, now, { backfill: req.requestedMode === 'BACKFILL' });
  if (!resolved.ok) return { kind: 'invalid', field: 'game_date', message: resolved.error };
  const gameDate = resolved.date;
  const mode = effectiveRunMode(req.requestedMode, { requireRealLines: req.requireRealLines, gameDate, today: etDate(now) });
  const batchId = `batch_${gameDate}_${Math.floor(now.getTime() / 1000)}_${randomBytes(3).toString('hex')}`;
  addLogContext({ batch_id: batchId, game_date: gameDate });
  const timer = new PhaseTimer();

  // 1. Claim the date before loading anything; a forced start supersedes the batch that held it.
  const lease = await timer.time('lease', () =>
    deps.batches.claimLease({ gameDate, batchId, ttlMs: deps.settings.leaseTtlMs, force: req.force }),
  );
  if (!lease.ok) {
    const holder = await deps.batches.getBatch(lease.holderBatchId);
    return {
      kind: 'already_running',
      batch_id: lease.holderBatchId,
      game_date: gameDate,
      progress: holder ? batchProgress(holder, deps.clock.now()) : null,
    };
  }
  const batch = newBatch({
    batch_id: batchId,
    game_date: gameDate,
    correlation_id: req.correlationId ?? batchId,
    dataset_prefix: req.datasetPrefix,
    prediction_run_mode: mode,
    requested_run_mode: req.runModeLabel,
    purpose: req.purpose,
    trigger_source: req.triggerSource,
    parent_processor: req.parentProcessor,
    parent_batch_id: req.parentBatchId ?? null,
    supersede: req.supersede ?? null,
    now: now.toISOString(),
  });
  try {
    await deps.batches.createBatch(batch);
  } catch (err) {
    await deps.batches.releaseLease(gameDate, batchId);
    throw err;
  }
  const superseded = lease.tookOverBatchId;
  if (superseded) await supersedeBatch(deps, superseded, batchId);

  const ctx: Context = { deps, req, batch, timer, counted: countQueries(deps.warehouse) };
  try {
    return await dispatch(ctx, superseded);
  } catch (err) {
    await failAndClose(ctx, errorMessage(err));
    if (err instanceof WarehouseError && err.code === 'NOT_FOUND' && req.datasetPrefix !== '') {
      return {
        kind: 'unknown_dataset',
        batch_id: batchId,
        field: 'dataset_prefix',
        message: `dataset_prefix '${req.datasetPrefix}' names datasets that do not exist: ${err.message}`,
      };
    }
    throw err;
  }
}

// eslint-disable-next-line complexity -- the dispatch phases in order (lease, completeness, players, lines, gate, publish), each with its early outcome
async function dispatch(ctx: Context, superseded: string | null): Promise<StartOutcome> {
  const { deps, req, batch, timer } = ctx;
  const wh = ctx.counted.warehouse;
  const gameDate = batch.game_date;
  const prefix = batch.dataset_prefix;

  // 2. Fixed checks: games, completeness, postponements (one query).
  const slate = await timer.time('completeness', () => loadSlate(wh, gameDate, prefix));
  const base = baseSummary(ctx, slate);
  if (!req.skipCompletenessCheck && slate.coveragePct !== null && slate.coveragePct < COMPLETENESS.thresholdPct) {
    const message = `DATA_INCOMPLETE: analytics cover ${slate.coveragePct}% of the last ${COMPLETENESS.lookbackDays} days' final games (threshold ${COMPLETENESS.thresholdPct}%); pass skip_completeness_check to override`;
    await failAndClose(ctx, message, { ...base, outcome: 'data_incomplete' });
    return { kind: 'data_incomplete', batch_id: batch.batch_id, game_date: gameDate, message, completeness: base.completeness };
  }

  // 3. Players (one query). An empty schedule alone does not end the run: the context table's players decide.
  const candidates = await timer.time('players', () => loadCandidates(wh, gameDate, prefix, req.playerLookups));
  if (candidates.length === 0) {
    const outcome = slate.gamesScheduled === 0 && slate.contextGames === 0 ? 'no_games_scheduled' : 'no_players';
    const summary = {
      ...base,
      outcome,
      warehouse_queries: ctx.counted.count(),
      phase_ms: { ...timer.phases, total: timer.totalMs() },
    } as const;
    await endWithoutPlayers(ctx, summary);
    return outcome === 'no_games_scheduled'
      ? { kind: 'no_games', batch_id: batch.batch_id, game_date: gameDate, summary }
      : { kind: 'no_players', batch_id: batch.batch_id, game_date: gameDate, summary };
  }
  if (slate.gamesScheduled === 0)
    base.warnings.push(
      `the schedule has no games on ${gameDate}, but the context table has ${candidates.length} candidate players: predicting them`,
    );
  const players = candidates.map((c) => c.player_lookup);

  // 3b. The injury re-check, once for everyone (one query).
  const injuriesCheckedAt = deps.clock.now().toISOString();
  const injuries = await timer.time('injuries', () => loadInjuries(wh, gameDate, prefix, players));

  // 4. Lines (at most three queries); 5. feature rows for everyone (one query), models and existing predictions (one query).
  const lines = await timer.time('lines', () => lookupLines(wh, gameDate, prefix, players));
  const features = await timer.time('gate', () => loadFeatureRows(wh, gameDate, prefix, players));
  const models = await timer.time('gate', () => loadEnabledModels(wh, gameDate, prefix, players));
  if (models.systems.length === 0) {
    await failAndClose(ctx, 'no enabled, active models in the model registry', { ...base, outcome: 'dispatch_failed' });
    return { kind: 'no_models', batch_id: batch.batch_id, game_date: gameDate };
  }
  const built = buildRequests({
    batchId: batch.batch_id,
    gameDate,
    mode: batch.prediction_run_mode as Parameters<typeof buildRequests>[0]['mode'],
    replacing: batch.supersede !== null,
    requireRealLines: req.requireRealLines,
    useMultipleLines: req.useMultipleLines,
    candidates,
    lines,
    features,
    models,
    injuries,
    injuriesCheckedAt,
  });

  // 6. Record the plan — every candidate's outcome and the summary — before publishing: a dispatch that dies while
  // publishing is finished from it after a restart (recovery.ts), and no published player is forgotten.
  const lineSummary = summariseLines(players, lines);
  const plan: DispatchSummary = {
    ...base,
    outcome: built.requests.length > 0 ? 'planned' : 'nothing_published',
    candidates: candidates.length,
    total_requests: built.totalRequests,
    published: built.requests.length,
    lines: lineSummary,
    gate: { ...summariseOutcomes(built.outcomes), per_model: built.perModel },
    models: { champion: models.champion, systems: models.systems },
    warnings: [...base.warnings, ...inputHealth(lineSummary, players.length, features)],
    warehouse_queries: ctx.counted.count(),
    phase_ms: { ...timer.phases, total: timer.totalMs() },
  };
  await deps.batches.putOutcomes(batch.batch_id, built.outcomes);
  await deps.batches.update(batch.batch_id, (r) => (r.state === 'dispatching' ? { ...r, summary: plan } : null));
  crashPoint('dispatch.planned');

  // 7. Mark the plan as publishing (a dispatch that died before this line published nothing: recovery fails it and frees the
  // date; after it, recovery finishes it from the plan), then publish, several players per message; a message the bus
  // refuses makes its players publish_failed. A batch superseded meanwhile publishes nothing.
  if (
    built.requests.length > 0 &&
    !(await deps.batches.update(batch.batch_id, (r) => beginPublishing(r, deps.clock.now().toISOString())))
  ) {
    const current = await deps.batches.getBatch(batch.batch_id);
    return { kind: 'superseded', batch_id: batch.batch_id, game_date: gameDate, by: current?.superseded_by ?? null };
  }
  const sent = await timer.time('publish', () => publishRequests(deps, batch, built));
  crashPoint('dispatch.published');
  const summary: DispatchSummary = {
    ...plan,
    outcome: sent.published.length > 0 ? 'dispatched' : built.requests.length > 0 ? 'dispatch_failed' : 'nothing_published',
    published: sent.published.length,
    publish_failed: sent.failed,
    messages: sent.messages,
    gate: { ...summariseOutcomes(built.outcomes), per_model: built.perModel },
    phase_ms: { ...timer.phases, total: timer.totalMs() },
  };

  // 8. End dispatch (the expected count is written before anything can finish the batch).
  if (sent.failed > 0) await deps.batches.putOutcomes(batch.batch_id, built.outcomes);
  let done;
  try {
    done = await deps.batches.finishDispatch(batch.batch_id, sent.published, summary);
  } catch (err) {
    const current = await deps.batches.getBatch(batch.batch_id);
    if (current && current.state !== 'dispatching')
      return { kind: 'superseded', batch_id: batch.batch_id, game_date: gameDate, by: current.superseded_by };
    throw err;
  }
  deps.logger.info(
    { event: 'BATCH_DISPATCHED', summary },
    `dispatched ${sent.published.length}/${candidates.length} players in ${sent.messages} messages, ${summary.phase_ms.total} ms, ${summary.warehouse_queries} warehouse queries`,
  );
  for (const w of summary.warnings) deps.logger.warn({ event: 'INPUT_HEALTH' }, w);
  if (done.finished) await finish(deps, done.batch);

  if (sent.published.length === 0 && sent.failed > 0) {
    return {
      kind: 'nothing_published',
      batch_id: batch.batch_id,
      game_date: gameDate,
      publish_failed: sent.failed,
      error: sent.firstError ?? 'publish failed',
      summary,
    };
  }
  return {
    kind: 'started',
    batch_id: batch.batch_id,
    game_date: gameDate,
    correlation_id: batch.correlation_id,
    total_requests: built.totalRequests,
    published: sent.published.length,
    publish_failed: sent.failed,
    messages: sent.messages,
    superseded,
    summary,
  };
}

/** A summary with nothing found yet: what a dispatch that failed before its first query records. */
function emptySummary(r: BatchRecord, ctx: Context, outcome: DispatchSummary['outcome']): DispatchSummary {
  return {
    outcome,
    game_date: r.game_date,
    run_mode: r.prediction_run_mode,
    requested_mode: r.requested_run_mode,
    dataset_prefix: r.dataset_prefix,
    games: 0,
    context_games: 0,
    completeness: null,
    candidates: 0,
    total_requests: 0,
    published: 0,
    publish_failed: 0,
    messages: 0,
    lines: null,
    gate: null,
    models: null,
    warnings: [],
    warehouse_queries: ctx.counted.count(),
    phase_ms: { ...ctx.timer.phases, total: ctx.timer.totalMs() },
    stall_reason: null,
  };
}

function baseSummary(ctx: Context, slate: Slate): DispatchSummary {
  const { req, batch } = ctx;
  const warnings: string[] = [];
  if (!req.skipPostponementCheck && slate.postponed.length > 0) {
    warnings.push(
      `postponed games on ${batch.game_date}: ${slate.postponed.map((p) => p.game_id + (p.detail ? ` ${p.detail}` : '')).join(', ')}`,
    );
  }
  return {
    ...emptySummary(batch, ctx, 'dispatched'),
    games: slate.gamesScheduled,
    context_games: slate.contextGames,
    completeness: {
      checked: !req.skipCompletenessCheck,
      lookback_days: COMPLETENESS.lookbackDays,
      final_games: slate.finalGames,
      analysed_games: slate.analysedGames,
      coverage_pct: slate.coveragePct,
    },
    warnings,
  };
}

interface Sent {
  published: string[];
  failed: number;
  messages: number;
  firstError: string | null;
}

async function publishRequests(deps: CoordinatorDeps, batch: BatchRecord, built: BuiltRequests): Promise<Sent> {
  const byPlayer = new Map(built.outcomes.map((o) => [o.player_lookup, o]));
  const k = deps.settings.playersPerMessage;
  const messages: Array<{ players: PlayerRequestInput[]; message: OutgoingMessage }> = [];
  for (let i = 0; i < built.requests.length; i += k) {
    const players = built.requests.slice(i, i + k);
    const data: PredictionRequestInput = {
      batch_id: batch.batch_id,
      correlation_id: batch.correlation_id,
      game_date: batch.game_date,
      // What rows record: the mode as requested (the gate used its normalised form, batch.prediction_run_mode).
      prediction_run_mode: batch.requested_run_mode,
      dataset_prefix: batch.dataset_prefix,
      players,
    };
    messages.push({
      players,
      message: { data, attributes: { batch_id: batch.batch_id, game_date: batch.game_date, players: String(players.length) } },
    });
  }
  const sent: Sent = { published: [], failed: 0, messages: 0, firstError: null };
  const perCall = deps.settings.publishChunkSize;
  for (let i = 0; i < messages.length; i += perCall) {
    const group = messages.slice(i, i + perCall);
    let results;
    try {
      results = await deps.bus.publish(
        deps.settings.topics.request,
        group.map((g) => g.message),
      );
    } catch (err) {
      results = group.map(() => ({ ok: false as const, error: errorMessage(err) }));
    }
    group.forEach((g, j) => {
      const res = results[j] ?? { ok: false as const, error: 'no publish outcome' };
      if (res.ok) {
        sent.messages++;
        for (const p of g.players) sent.published.push(p.player_lookup);
        return;
      }
      sent.firstError ??= res.error;
      for (const p of g.players) {
        sent.failed++;
        const o = byPlayer.get(p.player_lookup);
        if (o) markPublishFailed(o, res.error);
      }
    });
  }
  if (sent.failed > 0)
    deps.logger.error(
      { event: 'PUBLISH_FAILED', players: sent.failed, err: sent.firstError },
      `${sent.failed} players' requests could not be published`,
    );
  return sent;
}

function markPublishFailed(o: PlayerOutcome, error: string): void {
  o.outcome = 'publish_failed';
  o.reason = `publish_failed: ${error}`;
}

/** The batch finished at dispatch: with nothing published there is nothing to merge, so it ends here; else the step runs. */
async function finish(deps: CoordinatorDeps, batch: BatchRecord): Promise<void> {
  if (batch.expected === 0) await consolidateBatch(deps, batch.batch_id);
  else await requestConsolidation(deps, batch, 'dispatch');
}

async function endWithoutPlayers(ctx: Context, summary: DispatchSummary): Promise<void> {
  await ctx.deps.batches.putOutcomes(ctx.batch.batch_id, []);
  const done = await ctx.deps.batches.finishDispatch(ctx.batch.batch_id, [], summary);
  if (done.finished) await finish(ctx.deps, done.batch);
}

/** Dispatch failed before anything was published: the batch fails, is closed (phase 5, run history) and frees its date. */
async function failAndClose(ctx: Context, error: string, summary?: DispatchSummary): Promise<void> {
  const { deps, batch } = ctx;
  deps.logger.error({ event: 'DISPATCH_FAILED', err: error }, `dispatch failed: ${error}`);
  try {
    const failed = await deps.batches.update(batch.batch_id, (r) =>
      failDispatch(r, error, summary ?? emptySummary(r, ctx, 'dispatch_failed'), deps.clock.now().toISOString()),
    );
    if (failed) await closeBatch(deps, failed);
  } catch (err) {
    deps.logger.error(
      { err: errorMessage(err) },
      'could not record the failed dispatch; /check-stalled ends the batch after its maximum age',
    );
  }
}

/** A forced start took the date: the batch that held it ends `superseded` at once, and is closed (its phase 5 is not success). */
async function supersedeBatch(deps: CoordinatorDeps, oldBatchId: string, byBatchId: string): Promise<void> {
  const ended = await deps.batches.update(oldBatchId, (r) => supersede(r, byBatchId, deps.clock.now().toISOString()));
  if (!ended) return;
  deps.logger.warn({ event: 'BATCH_SUPERSEDED', superseded: oldBatchId, by: byBatchId }, `force: batch ${oldBatchId} superseded`);
  await closeBatch(deps, ended).catch((err: unknown) =>
    deps.logger.error({ err: errorMessage(err), superseded: oldBatchId }, 'superseded batch not closed yet; /check-stalled closes it'),
  );
}
