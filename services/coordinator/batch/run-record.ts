/** One row per batch in `nba_reference.processor_run_history` when the batch ends, whatever the ending. */
import type { CoordinatorDeps } from '../deps.js';
import type { BatchRecord } from '../../../shared/ports/batch-store.js';
import { prefixedDataset } from '../../../shared/ports/warehouse.js';
import { errorMessage } from '../../../shared/errors/app-error.js';

/** Who triggered the run: /start's body, kept in the batch summary. */
function summaryString(batch: BatchRecord, key: string): string | null {
  const v = batch.summary[key];
  return typeof v === 'string' ? v : null;
}

export async function recordRun(deps: CoordinatorDeps, batch: BatchRecord): Promise<void> {
  const now = deps.clock.now();
  const phase5 = batch.consolidation?.phase5_status;
  try {
    await deps.warehouse.insert({
      name: 'run_history.append',
      table: 'nba_reference.processor_run_history',
      datasetPrefix: batch.dataset_prefix,
      rows: [
        {
          processor_name: 'PredictionCoordinator',
          run_id: batch.batch_id,
          status: typeof phase5 === 'string' ? phase5 : batch.state,
          data_date: batch.game_date,
          started_at: batch.started_at,
          processed_at: now.toISOString(),
          duration_seconds: Math.round((now.getTime() - Date.parse(batch.started_at)) / 100) / 10,
          records_processed: batch.completed,
          records_skipped: Math.max(0, batch.expected - batch.completed),
          predictions: batch.total_predictions,
          phase: 'phase_5_predictions',
          output_table: 'player_prop_predictions',
          output_dataset: prefixedDataset(deps.settings.outputDataset, batch.dataset_prefix),
          trigger_source: summaryString(batch, 'trigger_source') ?? 'api',
          parent_processor: summaryString(batch, 'parent_processor'),
          errors: JSON.stringify(batch.error ? [batch.error] : []),
          summary: JSON.stringify({ summary: batch.summary, consolidation: batch.consolidation }),
        },
      ],
    });
  } catch (err) {
    // The batch has already ended; its record in the batch store is authoritative. Say loudly that history is missing.
    deps.logger.error({ batch_id: batch.batch_id, err: errorMessage(err) }, `run history not written for ${batch.batch_id}`);
  }
}
