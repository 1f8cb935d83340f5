/** The phase-5 message of an ended batch: its honest status, counts and reasons (contract: shared/contracts/messages.ts). */
import type { CoordinatorDeps } from '../deps.js';
import type { BatchRecord } from '../../../shared/batch/batch-record.js';
import { failedPlayers } from '../../../shared/batch/batch-machine.js';
import type { Phase5Message } from '../../../shared/contracts/messages.js';
import { prefixedDataset } from '../../../shared/ports/warehouse.js';

export function phase5Message(deps: CoordinatorDeps, batch: BatchRecord): Phase5Message {
  const now = deps.clock.now();
  const closing = batch.closing;
  const c = batch.consolidation;
  return {
    processor_name: 'PredictionCoordinator',
    phase: 'phase_5_predictions',
    execution_id: batch.batch_id,
    correlation_id: batch.correlation_id,
    game_date: batch.game_date,
    output_table: 'player_prop_predictions',
    output_dataset: prefixedDataset(deps.settings.outputDataset, batch.dataset_prefix),
    status: closing?.phase5_status ?? 'failed',
    record_count: batch.completed,
    records_failed: failedPlayers(batch) + Math.max(0, batch.expected - batch.completed),
    timestamp: now.toISOString(),
    duration_seconds: Math.round((now.getTime() - Date.parse(batch.started_at)) / 100) / 10,
    trigger_source: batch.trigger_source,
    metadata: {
      batch_id: batch.batch_id,
      expected_players: batch.expected,
      completed_players: batch.completed,
      failed_players: failedPlayers(batch),
      total_predictions: batch.total_predictions,
      completed_predictions: batch.completed,
      rows_merged: c?.merge?.rows_merged ?? 0,
      missing_rows: c?.verify?.missing_rows ?? 0,
      completion_pct: batch.expected === 0 ? 0 : Math.round((batch.completed / batch.expected) * 1000) / 10,
      reasons: closing?.reasons ?? [],
      superseded_by: batch.superseded_by,
    },
  };
}
