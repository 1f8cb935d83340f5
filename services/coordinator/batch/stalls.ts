/**
 * `POST /check-stalled` (Cloud Scheduler every few minutes) and `POST /reset`. Nothing stays unfinished for ever:
 *  - a running batch that stalled (≥ min% and idle, or older than the maximum age) is completed as it stands and handed to
 *    the consolidation step;
 *  - a batch still `consolidating` past the step's deadline since its last attempt (an instance died, the trigger was lost
 *    or dead-lettered) is handed to the step again;
 *  - an ended batch whose phase-5 message or run-history row is still pending is closed;
 *  - a batch still dispatching past the maximum age died mid-dispatch: it is finished from its recorded plan, or fails and
 *    frees its date when it died before publishing anything (recovery.ts).
 * `/reset` ends a batch without consolidating, and frees its date and any lock it holds.
 */
import type { CoordinatorDeps } from '../deps.js';
import { isEnded, type BatchRecord } from '../../../shared/batch/batch-record.js';
import {
  batchProgress,
  completeAsStalled,
  isClosed,
  resetBatch as resetRecord,
  stallReason,
  type BatchProgress,
  type StallThresholds,
} from '../../../shared/batch/batch-machine.js';
import { recoverDispatch } from './recovery.js';
import { requestConsolidation } from './consolidate.js';
import { closeBatch } from './closing.js';
import { notify } from '../alerts/notify.js';
import { repeatedStallsAlert } from '../alerts/alerts.js';
import { errorMessage } from '../../../shared/errors/error-message.js';

/** The window stalls are counted over (the original's: the last hour). */
const STALL_WINDOW_MS = 3_600_000;

export type { StallThresholds };

export const DEFAULT_STALL_THRESHOLDS: StallThresholds = { idleMinutes: 10, minCompletionPct: 95, maxAgeMinutes: 30 };

export type StallAction =
  | 'completed_as_partial'
  | 'consolidation_retriggered'
  | 'closed'
  | 'failed_dispatch'
  | 'dispatch_finished'
  | 'no_action';

export interface StallResult {
  batch_id: string;
  game_date: string;
  action: StallAction;
  reason: string | null;
  state: string;
  progress: BatchProgress;
}

export async function checkStalled(deps: CoordinatorDeps, thresholds: StallThresholds, batchId?: string): Promise<StallResult[]> {
  const candidates = batchId
    ? [await deps.batches.getBatch(batchId)].filter((b): b is BatchRecord => b !== null)
    : await deps.batches.listOpen();
  const results: StallResult[] = [];
  for (const batch of candidates) {
    const { action, reason, final } = await handle(deps, batch, thresholds);
    results.push({
      batch_id: batch.batch_id,
      game_date: batch.game_date,
      action,
      reason,
      state: final.state,
      progress: batchProgress(final, deps.clock.now()),
    });
  }
  const stalled = results.filter((r) => r.action === 'completed_as_partial');
  if (stalled.length > 0) await alertRepeatedStalls(deps, stalled);
  return results;
}

/**
 * Each stalled batch is recorded as a `stall` event; when the last hour holds STALL_ALERT_THRESHOLD or more, one alert goes
 * out (one per clock hour at most: its id is the hour). Never fails the sweep.
 */
async function alertRepeatedStalls(deps: CoordinatorDeps, stalled: readonly StallResult[]): Promise<void> {
  const now = deps.clock.now();
  try {
    for (const r of stalled) {
      await deps.batches.recordEvent({
        id: `stall.${r.batch_id}`,
        kind: 'stall',
        at: now.toISOString(),
        expiresAt: new Date(now.getTime() + 2 * STALL_WINDOW_MS).toISOString(),
        data: { batch_id: r.batch_id, game_date: r.game_date, reason: r.reason ?? '' },
      });
    }
    const recent = await deps.batches.listEvents('stall', new Date(now.getTime() - STALL_WINDOW_MS).toISOString());
    if (recent.length < deps.settings.stallAlertThreshold) return;
    const stalls = recent.map((e) => ({
      batch_id: String(e.data.batch_id ?? e.id),
      game_date: String(e.data.game_date ?? '?'),
      reason: String(e.data.reason ?? ''),
    }));
    await notify(
      deps,
      repeatedStallsAlert({ hourKey: now.toISOString().slice(0, 13), stalls, threshold: deps.settings.stallAlertThreshold }),
    );
  } catch (err) {
    deps.logger.error(
      { event: 'STALL_EVENTS_NOT_RECORDED', err: errorMessage(err) },
      'stalled batches could not be counted for the repeated-stalls alert',
    );
  }
}

async function handle(
  deps: CoordinatorDeps,
  batch: BatchRecord,
  t: StallThresholds,
): Promise<{ action: StallAction; reason: string | null; final: BatchRecord }> {
  const now = deps.clock.now();
  const log = deps.logger.child({ batch_id: batch.batch_id, game_date: batch.game_date });
  if (isEnded(batch.state)) {
    if (isClosed(batch)) return { action: 'no_action', reason: null, final: batch };
    const closed = await closeBatch(deps, batch);
    return { action: 'closed', reason: 'phase-5 message or run-history row was pending', final: closed };
  }
  if (batch.state === 'consolidating') {
    const last = Date.parse(batch.consolidation?.last_attempt_at ?? batch.updated_at);
    const idleMs = now.getTime() - last;
    if (idleMs < deps.settings.consolidation.deadlineMs) return { action: 'no_action', reason: null, final: batch };
    const reason = `consolidating for ${Math.round(idleMs / 1000)} s since its last attempt (deadline ${deps.settings.consolidation.deadlineMs / 1000} s)`;
    log.warn({ event: 'CONSOLIDATION_RETRIGGERED', reason }, `consolidation picked up again: ${reason}`);
    await requestConsolidation(deps, batch, 'check_stalled');
    return { action: 'consolidation_retriggered', reason, final: batch };
  }
  const reason = stallReason(batch, now, t);
  if (reason === null) return { action: 'no_action', reason: null, final: batch };
  if (batch.state === 'running') {
    const stalled = await deps.batches.update(batch.batch_id, (r) => completeAsStalled(r, reason, now.toISOString()));
    if (!stalled) return { action: 'no_action', reason: null, final: (await deps.batches.getBatch(batch.batch_id)) ?? batch };
    log.warn({ event: 'BATCH_STALLED', stall_reason: reason }, `stalled batch completed as it stands: ${reason}`);
    await requestConsolidation(deps, stalled, 'stalled');
    return { action: 'completed_as_partial', reason, final: stalled };
  }
  if ((now.getTime() - Date.parse(batch.started_at)) / 60_000 > t.maxAgeMinutes) {
    const action = await recoverDispatch(deps, batch, `a dispatch older than ${t.maxAgeMinutes} min`);
    return {
      action: action === 'dispatch_finished' ? 'dispatch_finished' : 'failed_dispatch',
      reason,
      final: (await deps.batches.getBatch(batch.batch_id)) ?? batch,
    };
  }
  return { action: 'no_action', reason: null, final: batch };
}

export type ResetOutcome =
  | { kind: 'reset'; batch: BatchRecord; previous: string }
  | { kind: 'not_found' }
  | { kind: 'already_ended'; batch: BatchRecord };

/** Ends one batch (by id, or the open batch of a date) without consolidating, and frees its date and locks. */
export async function resetBatch(
  deps: CoordinatorDeps,
  target: { batchId?: string | undefined; gameDate?: string | undefined },
): Promise<ResetOutcome> {
  let batch: BatchRecord | null = null;
  if (target.batchId) batch = await deps.batches.getBatch(target.batchId);
  else if (target.gameDate) {
    const holder = await deps.batches.leaseHolder(target.gameDate);
    batch = holder
      ? await deps.batches.getBatch(holder)
      : ((await deps.batches.listOpen()).find((b) => b.game_date === target.gameDate && !isEnded(b.state)) ?? null);
  }
  if (!batch) return { kind: 'not_found' };
  if (isEnded(batch.state)) return { kind: 'already_ended', batch: isClosed(batch) ? batch : await closeBatch(deps, batch) };
  const ended = await deps.batches.update(batch.batch_id, (r) => resetRecord(r, deps.clock.now().toISOString()));
  if (!ended) return { kind: 'already_ended', batch: (await deps.batches.getBatch(batch.batch_id)) ?? batch };
  deps.logger.warn({ batch_id: batch.batch_id, previous_state: batch.state }, 'batch reset by operator');
  return { kind: 'reset', batch: await closeBatch(deps, ended), previous: batch.state };
}
