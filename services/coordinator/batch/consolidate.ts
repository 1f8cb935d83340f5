/**
 * Ends a batch exactly once. Only the caller that moved the batch to `consolidating` calls this (the store's transition
 * decides who). One transaction merges the batch's deduplicated staging rows and deactivates superseded rows; staging is
 * only read (its rows expire with their partition); a failed merge leaves the batch `failed` with the reason. Then the
 * phase-5 message says what really happened.
 */
import type { CoordinatorDeps } from '../deps.js';
import type { BatchRecord } from '../../../shared/ports/batch-store.js';
import { param, prefixedDataset } from '../../../shared/ports/warehouse.js';
import { errorMessage } from '../../../shared/errors/app-error.js';
import type { Phase5Message, Phase5Status } from '../../../shared/contracts/messages.js';
import { DUPLICATE_CHECK_SQL, consolidationStatements } from './merge-sql.js';
import { runPostChecks, type PostChecks } from './post-checks.js';
import { recordRun } from './run-record.js';
import { withConsolidationLock } from './consolidation-lock.js';

export interface ConsolidationResult {
  merge_ok: boolean;
  rows_merged: number;
  rows_deactivated: number;
  duplicate_active_keys: number | null;
  checks: PostChecks | null;
  error: string | null;
  ms: number;
  phase5_status: Phase5Status;
  phase5_message_id: string | null;
  phase5_error: string | null;
}

export async function consolidateBatch(deps: CoordinatorDeps, batchId: string): Promise<BatchRecord | null> {
  const batch = await deps.batches.getBatch(batchId);
  if (!batch) throw new Error(`consolidate: unknown batch ${batchId}`);
  if (batch.state !== 'consolidating') return batch; // someone else owns (or owned) the end of this batch
  const log = deps.logger.child({ batch_id: batchId, game_date: batch.game_date });

  return withConsolidationLock(deps, batch, log, async () => {
    const t0 = performance.now();
    const result: ConsolidationResult = {
      merge_ok: false,
      rows_merged: 0,
      rows_deactivated: 0,
      duplicate_active_keys: null,
      checks: null,
      error: null,
      ms: 0,
      phase5_status: 'failed',
      phase5_message_id: null,
      phase5_error: null,
    };
    if (batch.expected > 0) {
      try {
        const { statements: [merge, deactivate] } = await deps.warehouse.transaction(
          'consolidate',
          consolidationStatements(batch.game_date, batchId, batch.dataset_prefix),
        );
        result.rows_merged = merge?.affectedRows ?? 0;
        result.rows_deactivated = deactivate?.affectedRows ?? 0;
        result.merge_ok = true;
      } catch (err) {
        result.error = `merge failed: ${errorMessage(err)}`;
        log.error({ err: errorMessage(err) }, 'consolidation merge failed; nothing merged');
      }
      if (result.merge_ok) {
        try {
          const rows = await deps.warehouse.query({
            name: 'consolidate.duplicate_check',
            sql: DUPLICATE_CHECK_SQL,
            params: { game_date: param.date(batch.game_date) },
            datasetPrefix: batch.dataset_prefix,
          });
          const n = rows[0]?.duplicate_keys;
          result.duplicate_active_keys = typeof n === 'number' ? n : null;
          if ((result.duplicate_active_keys ?? 0) > 0) log.warn({ duplicate_active_keys: n }, 'active duplicate predictions after merge');
        } catch (err) {
          log.error({ err: errorMessage(err) }, 'duplicate check failed');
        }
        const champion = (batch.summary.models as { champion?: unknown } | undefined)?.champion;
        if (typeof champion === 'string') {
          try {
            result.checks = await runPostChecks(deps.warehouse, batch.game_date, batch.dataset_prefix, champion);
            for (const w of result.checks.warnings) log.warn({ event: 'POST_CONSOLIDATION_CHECK', champion }, w);
          } catch (err) {
            log.error({ err: errorMessage(err) }, 'post-consolidation checks failed');
          }
        }
      }
    } else {
      result.merge_ok = true;
    }

    result.phase5_status = phase5Status(batch, result.merge_ok);
    const state = !result.merge_ok || result.phase5_status === 'failed' ? 'failed' : result.phase5_status === 'partial' ? 'partial' : 'complete';
    result.ms = Math.round(performance.now() - t0);

    const ended = await deps.batches.transition(batchId, 'consolidating', state, {
      consolidation: { ...result },
      error: result.error,
    });
    await deps.batches.releaseLease(batch.game_date, batchId);
    const final = ended ?? batch;

    const message = phase5Message(deps, final, result);
    try {
      const [outcome] = await deps.bus.publish(deps.settings.topics.phase5, [{ data: message, attributes: { batch_id: batchId, game_date: batch.game_date } }]);
      if (outcome?.ok) result.phase5_message_id = outcome.messageId;
      else result.phase5_error = outcome?.error ?? 'no publish outcome';
    } catch (err) {
      result.phase5_error = errorMessage(err);
    }
    if (result.phase5_error) log.error({ err: result.phase5_error }, 'phase-5 message not published');
    await deps.batches.transition(batchId, state, state, { consolidation: { ...result } });

    log.info({ event: 'BATCH_CONSOLIDATED', state, ...result }, `batch ${state}: ${result.rows_merged} rows merged, phase-5 status ${result.phase5_status}`);
    const recorded = await deps.batches.getBatch(batchId);
    if (recorded) await recordRun(deps, recorded);
    return recorded;
  });
}

function phase5Status(batch: BatchRecord, mergeOk: boolean): Phase5Status {
  if (batch.expected === 0) return 'no_data';
  if (!mergeOk || batch.completed === 0) return 'failed';
  return batch.completed >= batch.expected ? 'success' : 'partial';
}

function phase5Message(deps: CoordinatorDeps, batch: BatchRecord, result: ConsolidationResult): Phase5Message {
  const now = deps.clock.now();
  return {
    processor_name: 'PredictionCoordinator',
    phase: 'phase_5_predictions',
    execution_id: batch.batch_id,
    correlation_id: batch.correlation_id,
    game_date: batch.game_date,
    output_table: 'player_prop_predictions',
    output_dataset: prefixedDataset(deps.settings.outputDataset, batch.dataset_prefix),
    status: result.phase5_status,
    record_count: batch.completed,
    records_failed: Math.max(0, batch.expected - batch.completed),
    timestamp: now.toISOString(),
    duration_seconds: Math.round((now.getTime() - Date.parse(batch.started_at)) / 100) / 10,
    trigger_source: 'coordinator',
    metadata: {
      batch_id: batch.batch_id,
      expected_players: batch.expected,
      completed_players: batch.completed,
      completed_predictions: batch.completed,
      total_predictions: batch.total_predictions,
      rows_merged: result.rows_merged,
      completion_pct: batch.expected === 0 ? 0 : Math.round((batch.completed / batch.expected) * 1000) / 10,
    },
  };
}
