/**
 * `POST /redrive` (`predict redrive BATCH`): re-predicts the players an ended batch did not predict because something failed
 * — dead-lettered requests, players the worker could not predict, requests that could not be published, players that never
 * reported — in a new batch for the same date and mode (purpose `redrive`, `parent_batch_id` the original). The original
 * batch keeps its honest end (`partial`); the new one has its own phase-5 message. The same on Pub/Sub and locally.
 */
import type { CoordinatorDeps } from '../deps.js';
import { isEnded } from '../../../shared/batch/batch-record.js';
import { parseRunMode, type RunMode } from '../dispatch/run-modes.js';
import { startBatch, type StartOutcome } from '../dispatch/start-batch.js';
import { playerStatuses } from './status.js';

export type RedriveOutcome =
  | { kind: 'not_found'; batch_id: string }
  | { kind: 'still_running'; batch_id: string; state: string }
  | { kind: 'nothing_to_redrive'; batch_id: string }
  | { kind: 'redriven'; batch_id: string; players: string[]; start: StartOutcome };

export async function redriveBatch(deps: CoordinatorDeps, batchId: string): Promise<RedriveOutcome> {
  const batch = await deps.batches.getBatch(batchId);
  if (!batch) return { kind: 'not_found', batch_id: batchId };
  if (!isEnded(batch.state)) return { kind: 'still_running', batch_id: batchId, state: batch.state };
  const players = (await playerStatuses(deps, batchId))
    .filter(
      (p) =>
        p.outcome === 'publish_failed' ||
        (p.outcome === 'published' && (p.completion === null || p.completion.kind === 'failed' || p.completion.kind === 'dead_lettered')),
    )
    .map((p) => p.player_lookup);
  if (players.length === 0) return { kind: 'nothing_to_redrive', batch_id: batchId };
  const mode: RunMode = parseRunMode(batch.prediction_run_mode) ?? 'RETRY';
  const start = await startBatch(deps, {
    gameDateInput: batch.game_date,
    force: false,
    requestedMode: mode,
    runModeLabel: batch.requested_run_mode,
    parentProcessor: null,
    purpose: 'redrive',
    triggerSource: 'redrive',
    parentBatchId: batchId,
    requireRealLines: false,
    useMultipleLines: false,
    datasetPrefix: batch.dataset_prefix,
    correlationId: batch.correlation_id,
    skipCompletenessCheck: true,
    skipPostponementCheck: true,
    playerLookups: players,
  });
  return { kind: 'redriven', batch_id: batchId, players, start };
}
