/**
 * The coordinator's one mapper from use-case outcomes to HTTP answers. Domain code returns outcomes and never names a
 * status; this file is where `no_players` becomes a 404 and `nothing_published` a 503.
 */
import type { StartOutcome } from './dispatch/start-batch.js';
import type { ResetOutcome } from './batch/stalls.js';
import type { RedriveOutcome } from './batch/redrive.js';
import type { ConsolidateOutcome } from './batch/consolidate.js';
import type { CompletionOutcome } from './batch/completions.js';
import type { PushDecision } from '../../shared/http/push-route.js';
import { DRY_RUN_LIST, type CheckLinesOutcome, type LineUpdateOutcome } from './lines/check-lines.js';
import type { RegenerateOutcome, TriggerOutcome } from './regeneration/regenerate.js';
import type { CheckSignalOutcome } from './signals/check-signal.js';
import type { MorningSummaryOutcome } from './summary/morning-summary.js';

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

const error = (status: number, code: string, message: string, extra: Record<string, unknown> = {}): HttpAnswer => ({
  status,
  body: { status: 'error', error: code, message, ...extra },
});

export function startAnswer(o: StartOutcome): HttpAnswer {
  switch (o.kind) {
    case 'started':
      return {
        status: 202,
        body: {
          status: 'started',
          batch_id: o.batch_id,
          game_date: o.game_date,
          correlation_id: o.correlation_id,
          // As the original counted: requests before the quality gate (`published` is what went out).
          total_requests: o.total_requests,
          published: o.published,
          publish_failed: o.publish_failed,
          messages: o.messages,
          superseded_batch_id: o.superseded,
          summary: o.summary,
          monitor_url: `/status?batch_id=${o.batch_id}`,
        },
      };
    case 'invalid':
      return error(400, 'BAD_REQUEST', o.message, { field: o.field });
    case 'already_running':
      return {
        status: 409,
        body: {
          status: 'already_running',
          batch_id: o.batch_id,
          game_date: o.game_date,
          message: `batch ${o.batch_id} is already running for ${o.game_date}; wait for it (GET /status?batch_id=${o.batch_id}) or pass "force": true to supersede it`,
          progress: o.progress,
        },
      };
    case 'data_incomplete':
      return error(503, 'DATA_INCOMPLETE', o.message, { details: o.completeness, game_date: o.game_date, batch_id: o.batch_id });
    case 'no_games':
      return {
        status: 200,
        body: {
          status: 'no_games_scheduled',
          message: `no games scheduled on ${o.game_date}`,
          game_date: o.game_date,
          batch_id: o.batch_id,
          summary: o.summary,
        },
      };
    case 'no_players':
      return {
        status: 404,
        body: {
          status: 'error',
          error: 'NO_PLAYERS',
          message: `No players found for ${o.game_date}`,
          game_date: o.game_date,
          batch_id: o.batch_id,
          summary: o.summary,
        },
      };
    case 'nothing_published':
      return error(503, 'PUBLISH_FAILED', `none of the ${o.publish_failed} players' requests could be published: ${o.error}`, {
        batch_id: o.batch_id,
        game_date: o.game_date,
        summary: o.summary,
      });
    case 'no_models':
      return error(503, 'NO_MODELS', 'no enabled, active models in the model registry', { batch_id: o.batch_id, game_date: o.game_date });
    case 'unknown_dataset':
      return error(400, 'BAD_REQUEST', o.message, { field: o.field, batch_id: o.batch_id });
    case 'superseded':
      return error(409, 'SUPERSEDED', `batch ${o.batch_id} was superseded by ${o.by ?? 'another batch'} while it dispatched`, {
        batch_id: o.batch_id,
        game_date: o.game_date,
      });
  }
}

export function resetAnswer(o: ResetOutcome): HttpAnswer {
  if (o.kind === 'not_found')
    return { status: 404, body: { status: 'not_found', message: 'no such batch, and no active batch for that date' } };
  if (o.kind === 'already_ended')
    return { status: 200, body: { status: 'already_ended', batch_id: o.batch.batch_id, state: o.batch.state } };
  return {
    status: 200,
    body: { status: 'reset', batch_id: o.batch.batch_id, previous_state: o.previous, state: o.batch.state, lease_released: true },
  };
}

export function redriveAnswer(o: RedriveOutcome): HttpAnswer {
  switch (o.kind) {
    case 'not_found':
      return { status: 404, body: { status: 'not_found', message: `no batch ${o.batch_id}` } };
    case 'still_running':
      return error(409, 'STILL_RUNNING', `batch ${o.batch_id} is ${o.state}: redrive its failed players once it has ended`, {
        batch_id: o.batch_id,
      });
    case 'nothing_to_redrive':
      return {
        status: 200,
        body: {
          status: 'nothing_to_redrive',
          batch_id: o.batch_id,
          message: 'every published player of the batch reported without failing',
        },
      };
    case 'redriven': {
      const start = startAnswer(o.start);
      return { status: start.status, body: { ...start.body, redrive_of: o.batch_id, players: o.players } };
    }
  }
}

/** Completions are acked whatever happened to them (recorded, duplicate, late); an unknown batch says so in a 200. */
export function completionDecision(o: CompletionOutcome): PushDecision {
  if (o.kind === 'unknown_batch') return { kind: 'ack', status: 200, body: { status: 'unknown_batch', batch_id: o.batch_id } };
  return { kind: 'ack' };
}

export function consolidateDecision(o: ConsolidateOutcome): PushDecision {
  return o.kind === 'retry' ? { kind: 'retry', reason: o.reason } : { kind: 'ack' };
}

/** A re-prediction that started is the /start answer plus what it re-predicts; one that did not keeps /start's status. */
function withStart(start: StartOutcome, extra: Record<string, unknown>): HttpAnswer {
  const a = startAnswer(start);
  return { status: a.status, body: { ...a.body, ...extra } };
}

export function checkLinesAnswer(o: CheckLinesOutcome): HttpAnswer {
  if (o.kind === 'invalid') return error(400, 'BAD_REQUEST', o.message, { field: o.field });
  if (o.kind === 'no_games')
    return {
      status: 200,
      body: {
        status: 'no_games',
        game_date: o.game_date,
        message: `no games on the schedule for ${o.game_date}`,
        scan_queries: o.scan_queries,
      },
    };
  if (o.kind === 'all_games_started')
    return {
      status: 200,
      body: {
        status: 'all_games_started',
        game_date: o.game_date,
        games: o.games,
        message: `every game of ${o.game_date} has started: nothing to re-predict`,
        scan_queries: o.scan_queries,
      },
    };
  const found = {
    game_date: o.game_date,
    new_lines: o.new_lines,
    line_moves: o.line_moves,
    total_affected: o.total_affected,
    players: o.players.slice(0, DRY_RUN_LIST),
    scan_queries: o.scan_queries,
  };
  switch (o.kind) {
    case 'no_changes':
      return {
        status: 200,
        body: { status: 'no_changes', ...found, predicted_players: o.predicted_players, started_players: o.started_players },
      };
    case 'dry_run':
      return {
        status: 200,
        body: { status: 'dry_run', dry_run: true, ...found, predicted_players: o.predicted_players, started_players: o.started_players },
      };
    case 'started':
    case 'not_started':
      return withStart(o.start, found);
  }
}

export function lineUpdateAnswer(o: LineUpdateOutcome): HttpAnswer {
  switch (o.kind) {
    case 'invalid':
      return error(400, 'BAD_REQUEST', o.message, { field: o.field });
    case 'no_players':
      return {
        status: 200,
        body: { status: 'no_players', game_date: o.game_date, message: 'player_lookups is empty: nothing to re-predict' },
      };
    case 'dry_run':
      return { status: 200, body: { status: 'dry_run', dry_run: true, game_date: o.game_date, players: o.players } };
    case 'started':
    case 'not_started':
      return withStart(o.start, { players: o.players });
  }
}

export function regenerateAnswer(o: RegenerateOutcome): HttpAnswer {
  if (o.kind === 'invalid') return error(400, 'BAD_REQUEST', o.message, { field: o.field });
  return withStart(o.start, {
    reason: o.reason,
    ...(o.kind === 'started'
      ? { note: "this batch's merge supersedes the date's active rows it replaces, in one transaction; until it merges they stay active" }
      : {}),
  });
}

/** A Pub/Sub regeneration trigger: acked once acted on (or never possible), retried while the date is busy. */
export function regenerationTriggerDecision(o: TriggerOutcome): PushDecision {
  if (o.kind === 'duplicate') return { kind: 'ack', status: 200, body: { status: 'duplicate', message_id: o.message_id } };
  if (o.kind === 'busy') {
    const start = o.outcome.kind === 'not_started' ? o.outcome.start : null;
    return {
      kind: 'retry',
      reason: `regeneration not started: ${start?.kind ?? 'unknown'}${start && 'batch_id' in start ? ` (batch ${start.batch_id})` : ''}`,
    };
  }
  const answer = regenerateAnswer(o.outcome);
  return { kind: 'ack', status: 200, body: { ...answer.body, http_status: answer.status } };
}

export function checkSignalAnswer(o: CheckSignalOutcome): HttpAnswer {
  if (o.kind === 'invalid') return error(400, 'BAD_REQUEST', o.message, { field: o.field });
  if (o.kind === 'no_signal')
    return {
      status: 200,
      body: {
        status: 'warning',
        signal: null,
        game_date: o.game_date,
        message: `no signal for ${o.game_date}: the champion has fewer than 10 active predictions with a line, or no batch has consolidated yet`,
      },
    };
  const s = o.signal;
  return {
    status: 200,
    body: {
      status: 'success',
      game_date: s.game_date,
      system_id: s.system_id,
      signal: s.daily_signal,
      pct_over: s.pct_over,
      pct_under: s.pct_under,
      total_picks: s.total_picks,
      high_edge_picks: s.high_edge_picks,
      skew_category: s.skew_category,
      volume_category: s.volume_category,
      slate_size: s.slate_size,
      explanation: s.signal_explanation,
      calculated_at: s.calculated_at,
      alert: o.delivery,
    },
  };
}

export function morningSummaryAnswer(o: MorningSummaryOutcome): HttpAnswer {
  if (o.kind === 'invalid') return error(400, 'BAD_REQUEST', o.message, { field: o.field });
  const status = o.delivery === 'sent' ? 'sent' : o.delivery === 'duplicate' ? 'already_sent' : 'not_sent';
  return {
    status: 200,
    body: {
      status,
      ...o.summary,
      ...(status === 'already_sent' ? { message: 'already sent for this date; pass "force": true to send it again' } : {}),
      ...(status === 'not_sent' ? { message: 'the notifier failed (see the coordinator log, ALERT_NOT_SENT)' } : {}),
    },
  };
}
