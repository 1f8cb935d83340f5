/** `GET /status`: one batch (with per-player outcomes on request) or every active batch. */
import type { CoordinatorDeps } from '../deps.js';
import { batchProgress } from './progress.js';

export async function batchStatus(deps: CoordinatorDeps, batchId: string, withPlayers: boolean): Promise<Record<string, unknown> | null> {
  const batch = await deps.batches.getBatch(batchId);
  if (!batch) return null;
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
  if (withPlayers) body.players = await deps.batches.getOutcomes(batchId);
  return body;
}

export async function activeBatches(deps: CoordinatorDeps): Promise<Record<string, unknown>> {
  const active = await deps.batches.listActive();
  const now = deps.clock.now();
  return { status: active.length > 0 ? 'in_progress' : 'no_active_batch', batches: active.map((b) => batchProgress(b, now)) };
}
