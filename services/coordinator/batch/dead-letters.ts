/**
 * `POST /dead-letter`: messages a subscription gave up on (Pub/Sub's dead-letter topics, pushed here; the local bus does the
 * same). Dead letters are never silent: a prediction request's players are recorded as `dead_lettered` (so the batch ends,
 * `partial`, and `/status?players=true` says which players and why; `predict redrive` re-predicts them); a completion
 * event is recorded now; a consolidation trigger is left to `/check-stalled`, which re-triggers after the deadline.
 */
import type { CoordinatorDeps } from '../deps.js';
import {
  completionEventSchema,
  consolidateRequestSchema,
  predictionRequestSchema,
  regenerationTriggerSchema,
} from '../../../shared/contracts/messages.js';
import { recordCompletions, type CompletionOutcome } from './completions.js';
import { createHash } from 'node:crypto';
import { notify } from '../alerts/notify.js';
import { deadLetterAlert } from '../alerts/alerts.js';

export type DeadLetterOutcome =
  | { kind: 'request'; outcome: CompletionOutcome; players: number }
  | { kind: 'completion'; outcome: CompletionOutcome }
  | { kind: 'consolidation'; batch_id: string }
  | { kind: 'regeneration_trigger'; game_date: string }
  | { kind: 'unrecognised' };

/**
 * `messageId` is the dead-letter message's own id (a redelivery of it carries the same id), which makes its alert one per
 * dead letter; without one, the message's content stands in.
 */
export async function recordDeadLetter(
  deps: CoordinatorDeps,
  data: unknown,
  attributes: Record<string, string>,
  messageId?: string,
): Promise<DeadLetterOutcome> {
  const outcome = await recordDeadLetterOnly(deps, data, attributes);
  const messageKey = messageId ?? createHash('sha256').update(JSON.stringify({ data, attributes })).digest('hex').slice(0, 24);
  const why = `dead-lettered by ${attributes.CloudPubSubDeadLetterSourceSubscription ?? 'unknown subscription'} after ${attributes.CloudPubSubDeadLetterSourceDeliveryCount ?? '?'} delivery attempts${attributes.CloudPubSubDeadLetterSourceDeliveryErrorMessage ? `: ${attributes.CloudPubSubDeadLetterSourceDeliveryErrorMessage}` : ''}`;
  const described =
    outcome.kind === 'request'
      ? { what: 'prediction request', batchId: (data as { batch_id?: string }).batch_id ?? null, players: outcome.players }
      : outcome.kind === 'completion'
        ? { what: 'completion event', batchId: (data as { batch_id?: string }).batch_id ?? null, players: 0 }
        : outcome.kind === 'consolidation'
          ? { what: 'consolidation trigger', batchId: outcome.batch_id, players: 0 }
          : outcome.kind === 'regeneration_trigger'
            ? {
                what: `regeneration trigger for ${outcome.game_date} (never started: predict regenerate ${outcome.game_date} once the date is free)`,
                batchId: null,
                players: 0,
              }
            : { what: 'unrecognised message', batchId: null, players: 0 };
  await notify(deps, deadLetterAlert({ messageKey, why, ...described }));
  return outcome;
}

async function recordDeadLetterOnly(deps: CoordinatorDeps, data: unknown, attributes: Record<string, string>): Promise<DeadLetterOutcome> {
  const attempts = attributes.CloudPubSubDeadLetterSourceDeliveryCount ?? '?';
  const source = attributes.CloudPubSubDeadLetterSourceSubscription ?? 'unknown subscription';
  const lastError = attributes.CloudPubSubDeadLetterSourceDeliveryErrorMessage;
  const why = `dead-lettered by ${source} after ${attempts} delivery attempts${lastError ? `: ${lastError}` : ''}`;

  const request = predictionRequestSchema.safeParse(data);
  if (request.success) {
    const completions = request.data.players.map((p) => ({
      player_lookup: p.player_lookup,
      kind: 'dead_lettered' as const,
      predictions: 0,
      staged_rows: 0,
      reason: why,
    }));
    deps.logger.error(
      { event: 'DEAD_LETTER', batch_id: request.data.batch_id, players: completions.length, source },
      `prediction request ${why}`,
    );
    return {
      kind: 'request',
      outcome: await recordCompletions(deps, request.data.batch_id, completions, 'dead letter'),
      players: completions.length,
    };
  }
  const completion = completionEventSchema.safeParse(data);
  if (completion.success) {
    deps.logger.error({ event: 'DEAD_LETTER', batch_id: completion.data.batch_id, source }, `completion event ${why}: recording it now`);
    return {
      kind: 'completion',
      outcome: await recordCompletions(deps, completion.data.batch_id, completion.data.players, 'dead-lettered completion'),
    };
  }
  const consolidate = consolidateRequestSchema.safeParse(data);
  if (consolidate.success) {
    deps.logger.error(
      { event: 'DEAD_LETTER', batch_id: consolidate.data.batch_id, source },
      `consolidation trigger ${why}: /check-stalled re-triggers it after the deadline`,
    );
    return { kind: 'consolidation', batch_id: consolidate.data.batch_id };
  }
  const trigger = regenerationTriggerSchema.safeParse(data);
  if (trigger.success) {
    deps.logger.error(
      { event: 'DEAD_LETTER', game_date: trigger.data.game_date, source },
      `regeneration trigger for ${trigger.data.game_date} ${why}: the date was not regenerated`,
    );
    return { kind: 'regeneration_trigger', game_date: trigger.data.game_date };
  }
  deps.logger.error({ event: 'DEAD_LETTER', source }, `unrecognised message ${why}: acked and dropped`);
  return { kind: 'unrecognised' };
}
