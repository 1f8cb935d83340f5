/** `GET /status`: one batch (by id, or the latest of a date; with per-player outcomes on request) or every active batch. */
import type { CoordinatorDeps } from '../deps.js';
import type { BatchRecord } from '../../../shared/ports/batch-store.js';
import { batchProgress } from './progress.js';

export async function batchStatus(deps: CoordinatorDeps, batchId: string, withPlayers: boolean): Promise<Record<string, unknown> | null> {
  const batch = await deps.batches.getBatch(batchId);
  return batch ? statusBody(deps, batch, withPlayers) : null;
}

/** The most recently started batch of a game date, whatever its state (the operator CLI's resume check); null if none. */
export async function latestBatchStatus(deps: CoordinatorDeps, gameDate: string, withPlayers: boolean): Promise<Record<string, unknown> | null> {
  const batch = await deps.batches.latestForDate(gameDate);
  return batch ? statusBody(deps, batch, withPlayers) : null;
}

async function statusBody(deps: CoordinatorDeps, batch: BatchRecord, withPlayers: boolean): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {
    status: batch.state,
    batch_id: batch.batch_id,
    game_date: batch.game_date,
    correlation_id: batch.correlation_id,
    dataset_prefix: batch.dataset_prefix,
    prediction_run_mode: batch.prediction_run_mode,
    progress: batchProgress(batch, deps.clock.now()),
    started_at: batch.started_at,
    dispatched_at: batch.dispatched_at,
    ended_at: batch.ended_at,
    error: batch.error,
    consolidation: batch.consolidation,
    summary: batch.summary,
  };
  if (withPlayers) body.players = await deps.batches.getOutcomes(batch.batch_id);
  return body;
}

export async function activeBatches(deps: CoordinatorDeps): Promise<Record<string, unknown>> {
  const active = await deps.batches.listActive();
  const now = deps.clock.now();
  return { status: active.length > 0 ? 'in_progress' : 'no_active_batch', batches: active.map((b) => batchProgress(b, now)) };
}
