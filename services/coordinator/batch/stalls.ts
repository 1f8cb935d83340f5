/**
 * `POST /check-stalled` (Cloud Scheduler every few minutes) and `POST /reset`.
 * A running batch is stalled when it is at ≥ min% with no progress for the idle threshold, or older than the maximum age:
 * it is then completed as it stands (partial) and consolidated, by the same exactly-once transition a last completion uses.
 * A batch still dispatching past the maximum age died mid-dispatch: it fails and frees its date.
 * `/reset` ends a batch without consolidating and frees its date.
 */
import type { CoordinatorDeps } from '../deps.js';
import { ENDED_STATES, type BatchRecord } from '../../../shared/ports/batch-store.js';
import { consolidateBatch } from './consolidate.js';
import { batchProgress } from './progress.js';
import { recordRun } from './run-record.js';

export interface StallThresholds {
  idleMinutes: number;
  minCompletionPct: number;
  maxAgeMinutes: number;
}

export const DEFAULT_STALL_THRESHOLDS: StallThresholds = { idleMinutes: 10, minCompletionPct: 95, maxAgeMinutes: 30 };

export interface StallResult {
  batch_id: string;
  game_date: string;
  action: 'completed_as_partial' | 'failed_dispatch' | 'no_action';
  reason: string | null;
  state: string;
  progress: ReturnType<typeof batchProgress>;
}

export function stallReason(batch: BatchRecord, now: Date, t: StallThresholds): string | null {
  const ageMin = (now.getTime() - Date.parse(batch.started_at)) / 60_000;
  const idleMin = (now.getTime() - Date.parse(batch.updated_at)) / 60_000;
  const pct = batch.expected === 0 ? 100 : (batch.completed / batch.expected) * 100;
  if (ageMin > t.maxAgeMinutes) return `older than ${t.maxAgeMinutes} min (${ageMin.toFixed(1)} min) at ${pct.toFixed(1)}%`;
  if (pct >= t.minCompletionPct && idleMin >= t.idleMinutes) return `no progress for ${idleMin.toFixed(1)} min at ${pct.toFixed(1)}%`;
  return null;
}

export async function checkStalled(deps: CoordinatorDeps, thresholds: StallThresholds, batchId?: string): Promise<StallResult[]> {
  const candidates = batchId ? [await deps.batches.getBatch(batchId)].filter((b): b is BatchRecord => b !== null) : await deps.batches.listActive();
  const results: StallResult[] = [];
  for (const batch of candidates) {
    const now = deps.clock.now();
    const reason = ENDED_STATES.includes(batch.state) || batch.state === 'consolidating' ? null : stallReason(batch, now, thresholds);
    let action: StallResult['action'] = 'no_action';
    let final: BatchRecord | null = batch;
    if (reason && batch.state === 'running') {
      const won = await deps.batches.transition(batch.batch_id, 'running', 'consolidating', { summary: { ...batch.summary, stall_reason: reason } });
      if (won) {
        deps.logger.warn({ batch_id: batch.batch_id, stall_reason: reason }, `stalled batch completed as it stands: ${reason}`);
        final = await consolidateBatch(deps, batch.batch_id);
        action = 'completed_as_partial';
      }
    } else if (reason && batch.state === 'dispatching' && (now.getTime() - Date.parse(batch.started_at)) / 60_000 > thresholds.maxAgeMinutes) {
      final = await deps.batches.transition(batch.batch_id, 'dispatching', 'failed', { error: `dispatch never finished: ${reason}` });
      if (final) {
        await deps.batches.releaseLease(batch.game_date, batch.batch_id);
        await recordRun(deps, final);
        action = 'failed_dispatch';
      }
    }
    const shown = final ?? (await deps.batches.getBatch(batch.batch_id)) ?? batch;
    results.push({ batch_id: batch.batch_id, game_date: batch.game_date, action, reason: action === 'no_action' ? null : reason, state: shown.state, progress: batchProgress(shown, deps.clock.now()) });
  }
  return results;
}

export type ResetOutcome = { kind: 'reset'; batch: BatchRecord; previous: string } | { kind: 'not_found' } | { kind: 'already_ended'; batch: BatchRecord };

/** Ends one batch (by id, or the active batch of a date) without consolidating, and frees its date. */
export async function resetBatch(deps: CoordinatorDeps, target: { batchId?: string | undefined; gameDate?: string | undefined }): Promise<ResetOutcome> {
  let batch: BatchRecord | null = null;
  if (target.batchId) batch = await deps.batches.getBatch(target.batchId);
  else if (target.gameDate) {
    const holder = await deps.batches.leaseHolder(target.gameDate);
    batch = holder ? await deps.batches.getBatch(holder) : ((await deps.batches.listActive()).find((b) => b.game_date === target.gameDate) ?? null);
  }
  if (!batch) return { kind: 'not_found' };
  if (ENDED_STATES.includes(batch.state)) return { kind: 'already_ended', batch };
  const ended = await deps.batches.transition(batch.batch_id, ['dispatching', 'running', 'consolidating'], 'failed', { error: 'reset by operator: ended without consolidating' });
  if (!ended) return { kind: 'already_ended', batch: (await deps.batches.getBatch(batch.batch_id)) ?? batch };
  await deps.batches.releaseLease(batch.game_date, batch.batch_id);
  await recordRun(deps, ended);
  deps.logger.warn({ batch_id: batch.batch_id, previous_state: batch.state }, 'batch reset by operator');
  return { kind: 'reset', batch: ended, previous: batch.state };
}
