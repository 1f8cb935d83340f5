/**
 * Finishing what a dead process left. On the embedded default the coordinator's process is the only host of the batch
 * store and the bus, so at boot every open batch belongs to a process that died: a dispatch is finished from its recorded
 * plan (or failed, if it died before publishing anything), a consolidation is triggered again, a closing is completed.
 * Running batches need nothing: their undelivered messages are still in the bus's store and are delivered again.
 * `/check-stalled` applies the same recovery to a dispatch older than the maximum age, for every deployment.
 */
import type { CoordinatorDeps } from '../deps.js';
import { isEnded, type BatchRecord, type DispatchSummary } from '../../../shared/batch/batch-record.js';
import { diedBeforePublishing, failDispatch, isClosed } from '../../../shared/batch/batch-machine.js';
import { releaseDeadLocks } from './locks.js';
import { requestConsolidation, consolidateBatch } from './consolidate.js';
import { closeBatch } from './closing.js';

export type RecoveryAction = 'dispatch_finished' | 'dispatch_failed' | 'consolidation_retriggered' | 'closed' | 'none';

/**
 * A dispatch that never finished: failed when it died before it began publishing (its players are `publish_failed`, so
 * `/status?players=true` and `predict redrive` see them; the date is free), else finished from its plan (the players it
 * meant to publish: their requests are on the bus, or never report and the batch ends partial).
 */
export async function recoverDispatch(deps: CoordinatorDeps, batch: BatchRecord, why: string): Promise<RecoveryAction> {
  const outcomes = await deps.batches.getOutcomes(batch.batch_id);
  const planned = outcomes.filter((o) => o.outcome === 'published').map((o) => o.player_lookup);
  const now = deps.clock.now().toISOString();
  if (diedBeforePublishing(batch) || batch.summary === null || outcomes.length === 0) {
    const error = `dispatch never finished (${why}); nothing was published`;
    let summary: DispatchSummary | null = null;
    if (batch.summary !== null && planned.length > 0) {
      await deps.batches.putOutcomes(
        batch.batch_id,
        outcomes.map((o) =>
          o.outcome === 'published' ? { ...o, outcome: 'publish_failed' as const, reason: `publish_failed: ${error}` } : o,
        ),
      );
      summary = { ...batch.summary, outcome: 'dispatch_failed', published: 0, publish_failed: planned.length, messages: 0 };
    }
    const failed = await deps.batches.update(batch.batch_id, (r) => failDispatch(r, error, summary, now));
    if (failed) await closeBatch(deps, failed);
    deps.logger.warn(
      { event: 'DISPATCH_RECOVERED', players: planned.length, reason: why },
      `dispatch of ${batch.batch_id} failed: it died before publishing (${why}); its date is free`,
    );
    return 'dispatch_failed';
  }
  const summary: DispatchSummary = {
    ...batch.summary,
    outcome: 'dispatched',
    published: planned.length,
    warnings: [...batch.summary.warnings, `dispatch finished from its plan after ${why}`],
  };
  const done = await deps.batches.finishDispatch(batch.batch_id, planned, summary);
  deps.logger.warn(
    { event: 'DISPATCH_RECOVERED', players: planned.length, reason: why },
    `dispatch of ${batch.batch_id} finished from its plan (${planned.length} players) after ${why}`,
  );
  if (done.finished) {
    if (done.batch.expected === 0) await consolidateBatch(deps, done.batch.batch_id);
    else await requestConsolidation(deps, done.batch, 'recovered');
  }
  return 'dispatch_finished';
}

/**
 * At boot, before the bus delivers anything: the open batches' locks were taken by the process that died (left in place,
 * they would hold the merge or the closing until their TTL, minutes after the restart).
 */
export async function releaseLocksOfDeadProcess(deps: CoordinatorDeps): Promise<void> {
  for (const batch of await deps.batches.listOpen()) await releaseDeadLocks(deps, batch.batch_id, batch.dataset_prefix);
}

/** At boot, with this process the only host of the batch store: every open batch belongs to a process that died. */
export async function recoverOpenBatches(deps: CoordinatorDeps): Promise<Array<{ batch_id: string; action: RecoveryAction }>> {
  const results: Array<{ batch_id: string; action: RecoveryAction }> = [];
  for (const batch of await deps.batches.listOpen()) {
    let action: RecoveryAction = 'none';
    if (isEnded(batch.state)) {
      if (!isClosed(batch)) {
        await closeBatch(deps, batch);
        action = 'closed';
      }
    } else if (batch.state === 'dispatching') action = await recoverDispatch(deps, batch, 'a restart');
    else if (batch.state === 'consolidating') {
      await requestConsolidation(deps, batch, 'restart');
      action = 'consolidation_retriggered';
    }
    if (action !== 'none')
      deps.logger.warn(
        { event: 'BATCH_RECOVERED', batch_id: batch.batch_id, action },
        `recovered ${batch.batch_id} after a restart: ${action}`,
      );
    results.push({ batch_id: batch.batch_id, action });
  }
  return results;
}
