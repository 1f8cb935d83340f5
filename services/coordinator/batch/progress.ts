/** A batch's progress as `/status` and 409 answers show it: counts, percent, rate and ETA from the completion rate. */
import type { BatchRecord } from '../../../shared/ports/batch-store.js';

export interface BatchProgress {
  batch_id: string;
  game_date: string;
  state: BatchRecord['state'];
  expected: number;
  completed: number;
  failed: number;
  remaining: number;
  percent: number;
  total_predictions: number;
  elapsed_seconds: number;
  completions_per_second: number | null;
  eta_seconds: number | null;
}

export function batchProgress(batch: BatchRecord, now: Date): BatchProgress {
  const elapsed = Math.max(0, (now.getTime() - Date.parse(batch.started_at)) / 1000);
  const failed = typeof batch.summary.publish_failed === 'number' ? batch.summary.publish_failed : 0;
  const remaining = Math.max(0, batch.expected - batch.completed);
  const rate = batch.completed > 0 && elapsed > 0 ? batch.completed / elapsed : null;
  const dispatched = batch.state !== 'dispatching';
  return {
    batch_id: batch.batch_id,
    game_date: batch.game_date,
    state: batch.state,
    expected: batch.expected,
    completed: batch.completed,
    failed,
    remaining,
    percent: batch.expected === 0 ? (dispatched ? 100 : 0) : Math.round((batch.completed / batch.expected) * 1000) / 10,
    total_predictions: batch.total_predictions,
    elapsed_seconds: Math.round(elapsed * 10) / 10,
    completions_per_second: rate === null ? null : Math.round(rate * 100) / 100,
    eta_seconds: rate === null || !dispatched ? null : Math.round((remaining / rate) * 10) / 10,
  };
}
