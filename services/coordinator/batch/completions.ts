/**
 * `POST /complete`: one worker completion event, carrying every player of one request message. Each player is recorded
 * once (a redelivery changes nothing); the event that finishes the batch — and only that one — hands it to the
 * consolidation step. A store failure is thrown (a retryable one is redelivered by Pub/Sub).
 */
import type { CoordinatorDeps } from '../deps.js';
import type { CompletionEvent } from '../../../shared/contracts/messages.js';
import type { PlayerCompletion } from '../../../shared/batch/batch-record.js';
import { addLogContext } from '../../../shared/logging/log-context.js';
import { requestConsolidation } from './consolidate.js';
import { crashPoint } from '../../../shared/faults/crash-points.js';

export type CompletionOutcome =
  | { kind: 'recorded'; recorded: number; duplicates: number; not_in_batch: number; finished: boolean }
  | { kind: 'unknown_batch'; batch_id: string }
  | { kind: 'batch_ended'; batch_id: string; state: string };

export async function recordCompletions(
  deps: CoordinatorDeps,
  batchId: string,
  completions: readonly PlayerCompletion[],
  why: string,
): Promise<CompletionOutcome> {
  addLogContext({ batch_id: batchId });
  const log = deps.logger;
  const result = await deps.batches.recordCompletions(batchId, completions);
  switch (result.kind) {
    case 'unknown_batch':
      log.warn(
        { event: 'COMPLETION_UNKNOWN_BATCH', players: completions.length },
        `${why} for unknown batch ${batchId}: acked and dropped`,
      );
      return { kind: 'unknown_batch', batch_id: batchId };
    case 'batch_ended':
      log.info(
        { state: result.batch.state, players: completions.length },
        `${why} after the batch ended (${result.batch.state}): acked, no change`,
      );
      return { kind: 'batch_ended', batch_id: batchId, state: result.batch.state };
    case 'recorded': {
      if (result.notInBatch.length > 0)
        log.warn({ players: result.notInBatch }, `${why} for players this batch did not publish: acked, not counted`);
      for (const c of completions)
        if (c.kind === 'failed' || c.kind === 'dead_lettered')
          log.warn({ player_lookup: c.player_lookup, kind: c.kind, reason: c.reason }, `player ${c.kind}: ${c.reason ?? ''}`);
      crashPoint('completions.recorded');
      if (result.finished) {
        crashPoint('completions.finished');
        await requestConsolidation(deps, result.batch, 'completions');
      }
      return {
        kind: 'recorded',
        recorded: result.recorded.length,
        duplicates: result.duplicates.length,
        not_in_batch: result.notInBatch.length,
        finished: result.finished,
      };
    }
  }
}

export function completionEvent(deps: CoordinatorDeps, event: CompletionEvent): Promise<CompletionOutcome> {
  return recordCompletions(deps, event.batch_id, event.players, 'completion');
}
