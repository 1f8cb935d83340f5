/**
 * Consolidation holds the store's date lock (two batches for one date never merge at once, whichever instance runs them).
 * A batch that cannot get the lock in time ends `failed` with the reason and frees its date, rather than staying
 * `consolidating` for ever (nothing would ever pick it up again: completions and stall checks skip that state).
 */
import type { CoordinatorDeps } from '../deps.js';
import type { BatchRecord } from '../../../shared/ports/batch-store.js';
import type { AppLogger } from '../../../shared/ports/logger.js';
import { AppError, errorMessage } from '../../../shared/errors/app-error.js';
import { DATE_LOCK_TIMEOUT, DEFAULT_DATE_LOCK, withDateLock } from './date-lock.js';
import { recordRun } from './run-record.js';

export function withConsolidationLock(
  deps: CoordinatorDeps,
  batch: BatchRecord,
  log: AppLogger,
  work: () => Promise<BatchRecord | null>,
): Promise<BatchRecord | null> {
  const timing = deps.settings.dateLock ?? DEFAULT_DATE_LOCK;
  return withDateLock(deps.batches, batch.game_date, batch.batch_id, work, {
    ...timing,
    onReleaseError: (err) => log.error({ err: errorMessage(err) }, `date lock ${batch.game_date} not released; it lapses after ${timing.ttlMs} ms`),
  }).catch(async (err: unknown) => {
    if (!(err instanceof AppError) || err.code !== DATE_LOCK_TIMEOUT) throw err;
    log.error({ err: err.message }, 'consolidation could not take the date lock: batch failed without merging');
    const ended = await deps.batches.transition(batch.batch_id, 'consolidating', 'failed', { error: `consolidation not run: ${err.message}` });
    await deps.batches.releaseLease(batch.game_date, batch.batch_id);
    if (ended) await recordRun(deps, ended);
    return ended ?? (await deps.batches.getBatch(batch.batch_id));
  });
}
