/**
 * One row per batch in `nba_reference.processor_run_history` when the batch ends, whatever the ending. Written once: the
 * row's existence is checked first (a retry after a crash between the insert and its record must not write a second), and
 * BigQuery deduplicates a redelivered insert by its insertId (the run id).
 */
import type { CoordinatorDeps } from '../deps.js';
import type { BatchRecord } from '../../../shared/batch/batch-record.js';
import { failedPlayers } from '../../../shared/batch/batch-machine.js';
import { param, prefixedDataset } from '../../../shared/ports/warehouse.js';

const EXISTS_SQL = `
SELECT COUNT(*) AS n FROM {{nba_reference.processor_run_history}}
WHERE data_date = @game_date AND run_id = @batch_id AND processor_name = 'PredictionCoordinator'`;

export async function writeRunHistory(deps: CoordinatorDeps, batch: BatchRecord): Promise<void> {
  const [existing] = await deps.warehouse.query({
    name: 'run_history.exists',
    sql: EXISTS_SQL,
    params: { game_date: param.date(batch.game_date), batch_id: param.string(batch.batch_id) },
    datasetPrefix: batch.dataset_prefix,
  });
  if (Number(existing?.n ?? 0) > 0) return;
  const now = deps.clock.now();
  await deps.warehouse.insert({
    name: 'run_history.append',
    table: 'nba_reference.processor_run_history',
    datasetPrefix: batch.dataset_prefix,
    idColumns: ['run_id'],
    rows: [
      {
        processor_name: 'PredictionCoordinator',
        run_id: batch.batch_id,
        status: batch.closing?.phase5_status ?? batch.state,
        data_date: batch.game_date,
        started_at: batch.started_at,
        processed_at: now.toISOString(),
        duration_seconds: Math.round((now.getTime() - Date.parse(batch.started_at)) / 100) / 10,
        records_processed: batch.completed,
        records_skipped: Math.max(0, batch.expected - batch.completed) + failedPlayers(batch),
        predictions: batch.total_predictions,
        phase: 'phase_5_predictions',
        output_table: 'player_prop_predictions',
        output_dataset: prefixedDataset(deps.settings.outputDataset, batch.dataset_prefix),
        trigger_source: batch.trigger_source,
        parent_processor: batch.parent_processor,
        errors: JSON.stringify(batch.state === 'complete' ? [] : (batch.closing?.reasons ?? (batch.error ? [batch.error] : []))),
        summary: JSON.stringify({ state: batch.state, summary: batch.summary, consolidation: batch.consolidation }),
      },
    ],
  });
}
