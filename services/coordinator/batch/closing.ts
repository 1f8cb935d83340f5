/**
 * Closing an ended batch: its phase-5 message published once and its run-history row written once, its date and locks
 * freed, and — when it ended partial or failed — its alert sent once. Every way a batch ends comes through here (consolidation, a failed dispatch, supersede, reset); what fails is kept
 * on the record and retried by the next call (a redelivery, or `/check-stalled`'s sweep of batches not yet closed). One
 * closer at a time per batch (a store lock), so two redeliveries never publish twice.
 */
import type { CoordinatorDeps } from '../deps.js';
import { isEnded, type BatchRecord } from '../../../shared/batch/batch-record.js';
import { isClosed, recordPhase5, recordRunHistory } from '../../../shared/batch/batch-machine.js';
import { errorMessage } from '../../../shared/errors/error-message.js';
import { phase5Message } from './phase5.js';
import { writeRunHistory } from './run-record.js';
import { closeLockKey, newHolder, releaseLocksOf } from './locks.js';
import { notify } from '../alerts/notify.js';
import { batchEndAlert } from '../alerts/alerts.js';

const CLOSE_LOCK_TTL_MS = 120_000;

export async function closeBatch(deps: CoordinatorDeps, ended: BatchRecord): Promise<BatchRecord> {
  if (!isEnded(ended.state)) return ended;
  const log = deps.logger.child({ batch_id: ended.batch_id, game_date: ended.game_date });
  await deps.batches.releaseLease(ended.game_date, ended.batch_id);
  await releaseLocksOf(deps, ended.batch_id, ended.dataset_prefix);
  if (isClosed(ended)) return ended;
  const key = closeLockKey(ended.batch_id);
  const holder = newHolder(ended.batch_id);
  if (!(await deps.batches.acquireLock(key, holder, CLOSE_LOCK_TTL_MS))) return ended; // another caller is closing it now
  try {
    let batch = (await deps.batches.getBatch(ended.batch_id)) ?? ended;
    // A batch that ended partial or failed is alerted once (notify records the event; a failing notifier changes nothing here).
    const alert = batchEndAlert(batch);
    if (alert) await notify(deps, alert);
    if (batch.closing && batch.closing.phase5_message_id === null) {
      const message = phase5Message(deps, batch);
      let outcome: { messageId: string } | { error: string };
      try {
        const [result] = await deps.bus.publish(deps.settings.topics.phase5, [
          { data: message, attributes: { batch_id: batch.batch_id, game_date: batch.game_date, status: message.status } },
        ]);
        outcome = result?.ok ? { messageId: result.messageId } : { error: result?.error ?? 'no publish outcome' };
      } catch (err) {
        outcome = { error: errorMessage(err) };
      }
      if ('error' in outcome)
        log.error({ event: 'PHASE5_NOT_PUBLISHED', err: outcome.error }, 'phase-5 message not published; /check-stalled retries it');
      else
        log.info(
          { event: 'PHASE5_PUBLISHED', status: message.status, message_id: outcome.messageId },
          `phase-5 ${message.status} published`,
        );
      batch = (await deps.batches.update(batch.batch_id, (r) => recordPhase5(r, outcome, deps.clock.now().toISOString()))) ?? batch;
    }
    if (batch.closing && batch.closing.run_recorded_at === null) {
      let outcome: { ok: true } | { error: string };
      try {
        await writeRunHistory(deps, batch);
        outcome = { ok: true };
      } catch (err) {
        outcome = { error: errorMessage(err) };
        log.error({ event: 'RUN_HISTORY_NOT_WRITTEN', err: outcome.error }, 'run-history row not written; /check-stalled retries it');
      }
      batch = (await deps.batches.update(batch.batch_id, (r) => recordRunHistory(r, outcome, deps.clock.now().toISOString()))) ?? batch;
    }
    return batch;
  } finally {
    await deps.batches
      .releaseLock(key, holder)
      .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'close lock not released; it lapses'));
  }
}
