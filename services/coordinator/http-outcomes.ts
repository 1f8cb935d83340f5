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

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

const error = (status: number, code: string, message: string, extra: Record<string, unknown> = {}): HttpAnswer => ({ status, body: { status: 'error', error: code, message, ...extra } });

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
      return { status: 200, body: { status: 'no_games_scheduled', message: `no games scheduled on ${o.game_date}`, game_date: o.game_date, batch_id: o.batch_id, summary: o.summary } };
    case 'no_players':
      return { status: 404, body: { status: 'error', error: 'NO_PLAYERS', message: `No players found for ${o.game_date}`, game_date: o.game_date, batch_id: o.batch_id, summary: o.summary } };
    case 'nothing_published':
      return error(503, 'PUBLISH_FAILED', `none of the ${o.publish_failed} players' requests could be published: ${o.error}`, { batch_id: o.batch_id, game_date: o.game_date, summary: o.summary });
    case 'no_models':
      return error(503, 'NO_MODELS', 'no enabled, active models in the model registry', { batch_id: o.batch_id, game_date: o.game_date });
    case 'unknown_dataset':
      return error(400, 'BAD_REQUEST', o.message, { field: o.field, batch_id: o.batch_id });
    case 'superseded':
      return error(409, 'SUPERSEDED', `batch ${o.batch_id} was superseded by ${o.by ?? 'another batch'} while it dispatched`, { batch_id: o.batch_id, game_date: o.game_date });
  }
}

export function resetAnswer(o: ResetOutcome): HttpAnswer {
  if (o.kind === 'not_found') return { status: 404, body: { status: 'not_found', message: 'no such batch, and no active batch for that date' } };
  if (o.kind === 'already_ended') return { status: 200, body: { status: 'already_ended', batch_id: o.batch.batch_id, state: o.batch.state } };
  return { status: 200, body: { status: 'reset', batch_id: o.batch.batch_id, previous_state: o.previous, state: o.batch.state, lease_released: true } };
}

export function redriveAnswer(o: RedriveOutcome): HttpAnswer {
  switch (o.kind) {
    case 'not_found':
      return { status: 404, body: { status: 'not_found', message: `no batch ${o.batch_id}` } };
    case 'still_running':
      return error(409, 'STILL_RUNNING', `batch ${o.batch_id} is ${o.state}: redrive its failed players once it has ended`, { batch_id: o.batch_id });
    case 'nothing_to_redrive':
      return { status: 200, body: { status: 'nothing_to_redrive', batch_id: o.batch_id, message: 'every published player of the batch reported without failing' } };
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
