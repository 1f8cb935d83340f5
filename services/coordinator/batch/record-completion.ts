/**
 * `POST /complete`: one worker completion event. Recorded once per player (a redelivery changes nothing); the event that
 * finishes the batch — and only that one — consolidates it. A completion the store could not persist throws (5xx, so
 * Pub/Sub retries); an unknown batch or an ended batch is acked and logged.
 */
import type { CoordinatorDeps } from '../deps.js';
import type { CompletionEvent } from '../../../shared/contracts/messages.js';
import { dependencyFailed } from '../../../shared/errors/app-error.js';
import { consolidateBatch } from './consolidate.js';

export type CompletionAnswer = 'recorded' | 'duplicate' | 'unknown_batch' | 'batch_ended' | 'not_in_batch' | 'finished';

export async function recordCompletion(deps: CoordinatorDeps, event: CompletionEvent): Promise<CompletionAnswer> {
  const log = deps.logger.child({ batch_id: event.batch_id, player_lookup: event.player_lookup });
  let result;
  try {
    result = await deps.batches.recordCompletion(event.batch_id, event.player_lookup, event.predictions_generated);
  } catch (err) {
    throw dependencyFailed('batch_store.record_completion', err);
  }
  switch (result.kind) {
    case 'unknown_batch':
      log.warn({ event: 'COMPLETION_UNKNOWN_BATCH' }, `completion for unknown batch ${event.batch_id}: acked and dropped`);
      return 'unknown_batch';
    case 'batch_ended':
      log.info({ state: result.batch.state }, 'completion after the batch ended: acked, no change');
      return 'batch_ended';
    case 'duplicate':
      log.debug('duplicate completion: no change');
      return 'duplicate';
    case 'not_in_batch':
      log.warn('completion for a player this batch did not publish: acked, not counted');
      return 'not_in_batch';
    case 'recorded':
      if (event.skip_reason) log.info({ skip_reason: event.skip_reason }, 'player skipped by the worker');
      if (!result.finished) return 'recorded';
      await consolidateBatch(deps, event.batch_id);
      return 'finished';
  }
}
