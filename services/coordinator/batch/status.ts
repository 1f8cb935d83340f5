/** `GET /status`: one batch (by id, or the latest of a date; with per-player outcomes on request) or every open batch. */
import type { CoordinatorDeps } from '../deps.js';
import type { BatchRecord } from '../../../shared/batch/batch-record.js';
import { batchProgress, isClosed } from '../../../shared/batch/batch-machine.js';
import type { ActiveBatches, BatchStatus, PlayerStatus } from '../../../shared/contracts/status.js';

export async function batchStatus(deps: CoordinatorDeps, batchId: string, withPlayers: boolean): Promise<BatchStatus | null> {
  const batch = await deps.batches.getBatch(batchId);
  return batch ? statusBody(deps, batch, withPlayers) : null;
}

/** The most recently started batch of a game date, whatever its state (the operator CLI's resume check); null if none. */
export async function latestBatchStatus(deps: CoordinatorDeps, gameDate: string, withPlayers: boolean): Promise<BatchStatus | null> {
  const batch = await deps.batches.latestForDate(gameDate);
  return batch ? statusBody(deps, batch, withPlayers) : null;
}

async function statusBody(deps: CoordinatorDeps, batch: BatchRecord, withPlayers: boolean): Promise<BatchStatus> {
  const body: BatchStatus = {
    status: batch.state,
    batch_id: batch.batch_id,
    game_date: batch.game_date,
    correlation_id: batch.correlation_id,
    dataset_prefix: batch.dataset_prefix,
    prediction_run_mode: batch.prediction_run_mode,
    requested_run_mode: batch.requested_run_mode,
    purpose: batch.purpose,
    trigger_source: batch.trigger_source,
    progress: batchProgress(batch, deps.clock.now()),
    started_at: batch.started_at,
    dispatched_at: batch.dispatched_at,
    ended_at: batch.ended_at,
    closed: isClosed(batch),
    error: batch.error,
    superseded_by: batch.superseded_by,
    parent_batch_id: batch.parent_batch_id,
    summary: batch.summary,
    consolidation: batch.consolidation,
    closing: batch.closing,
  };
  if (withPlayers) body.players = await playerStatuses(deps, batch.batch_id);
  return body;
}

/** Every candidate's dispatch outcome beside its completion (dead letters and worker failures say so here). */
export async function playerStatuses(deps: CoordinatorDeps, batchId: string): Promise<PlayerStatus[]> {
  const [outcomes, completions] = await Promise.all([deps.batches.getOutcomes(batchId), deps.batches.getCompletions(batchId)]);
  const byPlayer = new Map(completions.map((c) => [c.player_lookup, c]));
  return outcomes.map((o) => ({ ...o, completion: byPlayer.get(o.player_lookup) ?? null }));
}

export async function activeBatches(deps: CoordinatorDeps): Promise<ActiveBatches> {
  const open = (await deps.batches.listOpen()).filter((b) => !isClosed(b));
  const now = deps.clock.now();
  return { status: open.length > 0 ? 'in_progress' : 'no_active_batch', batches: open.map((b) => batchProgress(b, now)) };
}
