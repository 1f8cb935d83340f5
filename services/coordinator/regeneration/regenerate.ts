/**
 * `POST /regenerate-with-supersede` and its Pub/Sub twin `/regenerate-pubsub` (topic nba-prediction-trigger): re-predict a
 * whole date and supersede its active rows (original-coordinator §2.5), without the original's two bugs:
 *   - the batch id answered is the batch's own (startBatch mints it once; the original computed a second one);
 *   - all the work happens before the answer, as for `/start` (the original answered, then ran in a background thread,
 *     which Cloud Run throttles to nothing once the response is sent).
 * The superseding and the audit row are the batch's merge's business (merge-sql.ts): in the merge's own transaction, so the
 * date never has neither the old rows nor the new ones, and a regeneration whose batch fails leaves the old rows active.
 */
import type { CoordinatorDeps } from '../deps.js';
import { etDate, resolveGameDate } from '../../../shared/dates/game-date.js';
import { startBatch, type StartOutcome } from '../dispatch/start-batch.js';
import { errorMessage } from '../../../shared/errors/error-message.js';

export const REGENERATION_RUN_MODE_LABEL = 'REGENERATION';

export interface RegenerateRequest {
  gameDate: string;
  reason: string;
  metadata: Record<string, unknown>;
  triggeredBy: 'coordinator_endpoint' | 'pubsub';
  datasetPrefix: string;
  skipCompletenessCheck: boolean;
}

export type RegenerateOutcome =
  | { kind: 'invalid'; field: string; message: string }
  | { kind: 'started'; reason: string; start: StartOutcome & { kind: 'started' } }
  | { kind: 'not_started'; reason: string; start: Exclude<StartOutcome, { kind: 'started' }> };

export async function regenerate(deps: CoordinatorDeps, req: RegenerateRequest): Promise<RegenerateOutcome> {
  const now = deps.clock.now();
  const resolved = resolveGameDate(req.gameDate, now);
  if (!resolved.ok) return { kind: 'invalid', field: 'game_date', message: resolved.error };
  const gameDate = resolved.date;
  const start = await startBatch(deps, {
    gameDateInput: gameDate,
    force: false,
    // A past date is re-predicted as a backfill (its gate threshold); today and later as a normal run.
    requestedMode: gameDate < etDate(now) ? 'BACKFILL' : 'RETRY',
    runModeLabel: REGENERATION_RUN_MODE_LABEL,
    purpose: 'regeneration',
    triggerSource: req.triggeredBy,
    parentProcessor: null,
    requireRealLines: false,
    useMultipleLines: false,
    datasetPrefix: req.datasetPrefix,
    correlationId: undefined,
    skipCompletenessCheck: req.skipCompletenessCheck,
    skipPostponementCheck: false,
    playerLookups: undefined,
    supersede: { reason: req.reason, metadata: req.metadata, requested_at: now.toISOString(), audit: { triggered_by: req.triggeredBy } },
  });
  if (start.kind !== 'started') return { kind: 'not_started', reason: req.reason, start };
  deps.logger.info(
    { event: 'REGENERATION_STARTED', batch_id: start.batch_id, game_date: gameDate, reason: req.reason, published: start.published },
    `regeneration of ${gameDate} started: batch ${start.batch_id}`,
  );
  return { kind: 'started', reason: req.reason, start };
}

/** What a Pub/Sub trigger's push comes to: ack (done, duplicate, or never possible) or retry (the date is busy, a failure). */
export type TriggerOutcome =
  | { kind: 'duplicate'; message_id: string }
  | { kind: 'regenerated'; outcome: RegenerateOutcome }
  | { kind: 'busy'; outcome: RegenerateOutcome };

const TRIGGER_RECORD_TTL_MS = 7 * 24 * 3_600_000;

/**
 * `/regenerate-pubsub`: one message, one regeneration. The message id is recorded first (batch store event), so a
 * redelivery of a message already acted on starts nothing; the record is dropped again when the regeneration did not start
 * because the date is busy (the push is retried, and Pub/Sub's backoff waits for the running batch) or failed.
 */
export async function regenerationTrigger(
  deps: CoordinatorDeps,
  req: RegenerateRequest,
  messageId: string | undefined,
): Promise<TriggerOutcome> {
  const now = deps.clock.now();
  const eventId = messageId ? `regen_trigger.${messageId.replace(/[^A-Za-z0-9_.:-]/g, '_')}` : null;
  if (eventId) {
    const fresh = await deps.batches.recordEvent({
      id: eventId,
      kind: 'regen_trigger',
      at: now.toISOString(),
      expiresAt: new Date(now.getTime() + TRIGGER_RECORD_TTL_MS).toISOString(),
      data: { game_date: req.gameDate, reason: req.reason },
    });
    if (!fresh) return { kind: 'duplicate', message_id: messageId as string };
  }
  const forget = async () => {
    if (eventId)
      await deps.batches
        .deleteEvent(eventId)
        .catch((err: unknown) => deps.logger.warn({ err: errorMessage(err), event_id: eventId }, 'trigger record not released'));
  };
  let outcome: RegenerateOutcome;
  try {
    outcome = await regenerate(deps, req);
  } catch (err) {
    await forget();
    throw err;
  }
  if (
    outcome.kind === 'not_started' &&
    (outcome.start.kind === 'already_running' || outcome.start.kind === 'nothing_published' || outcome.start.kind === 'data_incomplete')
  ) {
    await forget();
    return { kind: 'busy', outcome };
  }
  return { kind: 'regenerated', outcome };
}
