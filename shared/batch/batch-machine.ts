/**
 * The batch state machine: every change to a batch record, as pure functions. A function returns the new record, or null
 * when the change does not apply to the record as it stands (the compare-and-set of a transition). Both BatchStore adapters
 * apply these inside their own transaction (a Firestore transaction, a DuckDB transaction), so the rules live here once.
 *
 *   dispatching ──finishDispatch──▶ running ──(last completion | stall)──▶ consolidating ──endBatch──▶ complete | partial | failed
 *        │                              │                                        │
 *        └──failDispatch──▶ failed      └──────────── supersede (force) / reset ─┴──▶ superseded | failed
 *
 * An ended batch is *closed* once its phase-5 message is published and its run-history row written (`closing`); the
 * coordinator retries both until they are done (`/check-stalled` sweeps ended batches that are not closed).
 */
import {
  isEnded,
  isFailure,
  takesCompletions,
  type BatchPurpose,
  type BatchRecord,
  type BatchState,
  type Closing,
  type ConsolidationRecord,
  type DispatchSummary,
  type Phase5Status,
  type PlayerCompletion,
  type SupersedeSpec,
} from './batch-record.js';

export interface NewBatchInput {
  batch_id: string;
  game_date: string;
  correlation_id: string;
  dataset_prefix: string;
  prediction_run_mode: string;
  requested_run_mode: string;
  purpose: BatchPurpose;
  trigger_source: string;
  parent_processor?: string | null;
  parent_batch_id?: string | null;
  supersede?: SupersedeSpec | null;
  now: string;
}

export function newBatch(input: NewBatchInput): BatchRecord {
  return {
    batch_id: input.batch_id,
    game_date: input.game_date,
    correlation_id: input.correlation_id,
    dataset_prefix: input.dataset_prefix,
    prediction_run_mode: input.prediction_run_mode,
    requested_run_mode: input.requested_run_mode,
    purpose: input.purpose,
    trigger_source: input.trigger_source,
    parent_processor: input.parent_processor ?? null,
    state: 'dispatching',
    expected: 0,
    completed: 0,
    failed: 0,
    total_predictions: 0,
    staged_rows: 0,
    started_at: input.now,
    dispatched_at: null,
    ended_at: null,
    updated_at: input.now,
    summary: null,
    consolidation: null,
    closing: null,
    superseded_by: null,
    parent_batch_id: input.parent_batch_id ?? null,
    supersede: input.supersede ?? null,
    error: null,
  };
}

/** Counts of a set of completions. */
function tally(completions: readonly PlayerCompletion[]): Pick<BatchRecord, 'completed' | 'failed' | 'total_predictions' | 'staged_rows'> {
  let failed = 0;
  let predictions = 0;
  let staged = 0;
  for (const c of completions) {
    if (isFailure(c.kind)) failed++;
    predictions += c.predictions;
    staged += c.staged_rows;
  }
  return { completed: completions.length, failed, total_predictions: predictions, staged_rows: staged };
}

const startConsolidation = (now: string): ConsolidationRecord => ({
  attempts: 0,
  started_at: now,
  last_attempt_at: now,
  verify: null,
  merge: null,
  duplicate_active_keys: null,
  checks: null,
  warnings: [],
  error: null,
  ms: 0,
});

/**
 * Dispatch is about to publish its plan: from here on requests may be on the bus, so a dispatch that dies is finished from
 * its plan rather than failed. Null when the batch is no longer dispatching (a forced start superseded it: it must not
 * publish) or its plan is not recorded.
 */
export function beginPublishing(rec: BatchRecord, now: string): BatchRecord | null {
  if (rec.state !== 'dispatching' || rec.summary?.outcome !== 'planned') return null;
  return { ...rec, updated_at: now, summary: { ...rec.summary, outcome: 'publishing' } };
}

/** A dispatch that died (found by boot recovery or `/check-stalled`) had published nothing: no plan, or a plan not yet publishing. */
export function diedBeforePublishing(rec: BatchRecord): boolean {
  return rec.state === 'dispatching' && (rec.summary === null || rec.summary.outcome === 'planned');
}

/**
 * Ends dispatch: `published` players are expected; completions that came in during dispatch (`completedDuringDispatch`,
 * already filtered to published players) count now. When every published player has already reported — or nobody was
 * published — the batch goes straight on to `consolidating` and `finished` is true (exactly one caller sees it).
 */
export function finishDispatch(
  rec: BatchRecord,
  input: { published: number; summary: DispatchSummary; now: string },
  completedDuringDispatch: readonly PlayerCompletion[],
): { record: BatchRecord; finished: boolean } | null {
  if (rec.state !== 'dispatching') return null;
  const counted = tally(completedDuringDispatch);
  const finished = counted.completed >= input.published;
  return {
    record: {
      ...rec,
      ...counted,
      expected: input.published,
      summary: input.summary,
      dispatched_at: input.now,
      updated_at: input.now,
      state: finished ? 'consolidating' : 'running',
      consolidation: finished ? startConsolidation(input.now) : null,
    },
    finished,
  };
}

/**
 * Sorts one completion event against what the store holds, for both BatchStore adapters: a player's first completion in
 * the event is fresh unless the player has already reported; a repeat (in the event, or of a player already reported) is a
 * duplicate; once dispatched (`published` given), a player the batch did not publish is not in the batch. `published` is
 * null while the batch is dispatching: every player may still be published, and finishDispatch sorts them then.
 */
export function sortCompletions(
  completions: readonly PlayerCompletion[],
  reported: (player: string) => boolean,
  published: ((player: string) => boolean) | null,
): { fresh: PlayerCompletion[]; duplicates: string[]; notInBatch: string[] } {
  const fresh: PlayerCompletion[] = [];
  const duplicates: string[] = [];
  const notInBatch: string[] = [];
  const seen = new Set<string>();
  for (const c of completions) {
    const player = c.player_lookup;
    if (seen.has(player) || reported(player)) duplicates.push(player);
    else if (published !== null && !published(player)) notInBatch.push(player);
    else fresh.push(c);
    seen.add(player);
  }
  return { fresh, duplicates, notInBatch };
}

/**
 * Counts completions that are new (the adapter has checked each is neither a duplicate nor a player outside the batch).
 * During dispatch they are only collected (finishDispatch counts them); after it, the completion that brings the count to
 * `expected` moves the batch to `consolidating`, and `finished` is true for that call alone.
 */
export function applyCompletions(
  rec: BatchRecord,
  fresh: readonly PlayerCompletion[],
  now: string,
): { record: BatchRecord; finished: boolean } | null {
  if (!takesCompletions(rec.state)) return null;
  if (fresh.length === 0) return { record: rec, finished: false };
  const add = tally(fresh);
  const next: BatchRecord = {
    ...rec,
    completed: rec.completed + add.completed,
    failed: rec.failed + add.failed,
    total_predictions: rec.total_predictions + add.total_predictions,
    staged_rows: rec.staged_rows + add.staged_rows,
    updated_at: now,
  };
  const finished = rec.state === 'running' && next.completed >= next.expected;
  if (finished) {
    next.state = 'consolidating';
    next.consolidation = startConsolidation(now);
  }
  return { record: next, finished };
}

/** `/check-stalled`: a running batch is completed as it stands. */
export function completeAsStalled(rec: BatchRecord, reason: string, now: string): BatchRecord | null {
  if (rec.state !== 'running') return null;
  return {
    ...rec,
    state: 'consolidating',
    updated_at: now,
    consolidation: startConsolidation(now),
    summary: rec.summary ? { ...rec.summary, stall_reason: reason } : rec.summary,
  };
}

/** The consolidation step starts an attempt (a redelivery, a pick-up by `/check-stalled`). */
export function beginConsolidationAttempt(rec: BatchRecord, now: string): BatchRecord | null {
  if (rec.state !== 'consolidating') return null;
  const c = rec.consolidation ?? startConsolidation(now);
  return { ...rec, updated_at: now, consolidation: { ...c, attempts: c.attempts + 1, last_attempt_at: now, error: null } };
}

/** An attempt failed in a way a later attempt may not: the failure is kept on the record (the batch stays consolidating). */
export function recordConsolidationError(
  rec: BatchRecord,
  error: string,
  patch: Partial<ConsolidationRecord>,
  now: string,
): BatchRecord | null {
  if (rec.state !== 'consolidating' || !rec.consolidation) return null;
  return { ...rec, updated_at: now, consolidation: { ...rec.consolidation, ...patch, error } };
}

export interface EndDecision {
  state: Extract<BatchState, 'complete' | 'partial' | 'failed'>;
  phase5_status: Phase5Status;
  reasons: string[];
}

/**
 * How a consolidated batch ends — never `success` when something is missing. `mergeError` is a merge that failed for good;
 * `c` is the consolidation as it stands (verify, merge, checks).
 */
// eslint-disable-next-line complexity -- the end decision table (complete/partial/failed and the phase-5 status): one rule per row, kept together to be read as one
export function decideEnd(rec: BatchRecord, c: ConsolidationRecord | null, mergeError: string | null): EndDecision {
  const publishFailed = rec.summary?.publish_failed ?? 0;
  if (rec.expected === 0) {
    if (publishFailed > 0)
      return { state: 'failed', phase5_status: 'failed', reasons: [`none of the ${publishFailed} players' requests could be published`] };
    const outcome = rec.summary?.outcome;
    if (outcome === 'no_players')
      return {
        state: 'failed',
        phase5_status: 'no_data',
        reasons: ['games are scheduled but there are no candidate players (is upcoming_player_game_context loaded?)'],
      };
    if (outcome === 'no_games_scheduled') return { state: 'complete', phase5_status: 'no_data', reasons: ['no games scheduled'] };
    return {
      state: 'complete',
      phase5_status: 'no_data',
      reasons: ['nothing to predict: every candidate already has a prediction or was gated out'],
    };
  }
  if (mergeError !== null) return { state: 'failed', phase5_status: 'failed', reasons: [`merge failed: ${mergeError}`] };
  if (rec.completed === 0)
    return { state: 'failed', phase5_status: 'failed', reasons: [`none of the ${rec.expected} published players reported`] };
  const merge = c?.merge ?? null;
  const visible = c?.verify?.visible_rows ?? 0;
  if (rec.staged_rows > 0 && (merge === null || merge.rows_accounted === 0)) {
    return {
      state: 'failed',
      phase5_status: 'failed',
      reasons: [`0 rows merged although workers reported ${rec.staged_rows} staged rows`],
    };
  }
  const reasons: string[] = [];
  if (publishFailed > 0) reasons.push(`${publishFailed} players' requests could not be published`);
  if (rec.completed < rec.expected) reasons.push(`${rec.expected - rec.completed} of ${rec.expected} published players never reported`);
  if (rec.failed > 0) reasons.push(`${rec.failed} players failed (see /status?players=true)`);
  const missing = c?.verify?.missing_rows ?? 0;
  if (missing > 0) reasons.push(`${missing} of ${rec.staged_rows} staged rows never became visible to the merge`);
  if (merge !== null && merge.rows_accounted < visible)
    reasons.push(`${visible - merge.rows_accounted} staged rows are not accounted for after the merge`);
  if ((c?.duplicate_active_keys ?? 0) > 0) reasons.push(`${c?.duplicate_active_keys} duplicate active keys after the merge`);
  if (reasons.length > 0) return { state: 'partial', phase5_status: 'partial', reasons };
  return { state: 'complete', phase5_status: 'success', reasons: [`all ${rec.expected} published players predicted and merged`] };
}

const openClosing = (phase5: Phase5Status, reasons: string[]): Closing => ({
  phase5_status: phase5,
  reasons,
  phase5_message_id: null,
  phase5_error: null,
  phase5_published_at: null,
  run_recorded_at: null,
  run_error: null,
});

/** Consolidation is over: the batch takes its end state with the consolidation result; closing starts. */
export function endBatch(
  rec: BatchRecord,
  decision: EndDecision,
  consolidation: ConsolidationRecord | null,
  now: string,
): BatchRecord | null {
  if (rec.state !== 'consolidating') return null;
  return {
    ...rec,
    state: decision.state,
    updated_at: now,
    ended_at: now,
    consolidation,
    closing: openClosing(decision.phase5_status, decision.reasons),
    error: decision.state === 'failed' ? (decision.reasons[0] ?? null) : rec.error,
  };
}

/** Dispatch failed before anything was published (a query failed, the data is incomplete): the batch fails. */
export function failDispatch(rec: BatchRecord, error: string, summary: DispatchSummary | null, now: string): BatchRecord | null {
  if (rec.state !== 'dispatching') return null;
  return {
    ...rec,
    state: 'failed',
    summary: summary ?? rec.summary,
    error,
    updated_at: now,
    ended_at: now,
    closing: openClosing('failed', [error]),
  };
}

/** `force`: a newer batch took the date over. Its late completions change nothing; its phase-5 message is not success. */
export function supersede(rec: BatchRecord, byBatchId: string, now: string): BatchRecord | null {
  if (isEnded(rec.state)) return null;
  const reason = `superseded by ${byBatchId} (force)`;
  return {
    ...rec,
    state: 'superseded',
    superseded_by: byBatchId,
    error: reason,
    updated_at: now,
    ended_at: now,
    closing: openClosing('failed', [reason]),
  };
}

/** `/reset`: an operator ends the batch without consolidating. */
export function resetBatch(rec: BatchRecord, now: string): BatchRecord | null {
  if (isEnded(rec.state)) return null;
  const reason = 'reset by operator: ended without consolidating';
  return { ...rec, state: 'failed', error: reason, updated_at: now, ended_at: now, closing: openClosing('failed', [reason]) };
}

/** The phase-5 message went out (or failed to: the error is kept and the publish is retried). */
export function recordPhase5(rec: BatchRecord, outcome: { messageId: string } | { error: string }, now: string): BatchRecord | null {
  if (!rec.closing || rec.closing.phase5_message_id !== null) return null;
  const closing: Closing =
    'messageId' in outcome
      ? { ...rec.closing, phase5_message_id: outcome.messageId, phase5_error: null, phase5_published_at: now }
      : { ...rec.closing, phase5_error: outcome.error };
  return { ...rec, closing, updated_at: now };
}

/** The run-history row is written (or failed to be: the error is kept and the write is retried). */
export function recordRunHistory(rec: BatchRecord, outcome: { ok: true } | { error: string }, now: string): BatchRecord | null {
  if (!rec.closing || rec.closing.run_recorded_at !== null) return null;
  const closing: Closing =
    'ok' in outcome ? { ...rec.closing, run_recorded_at: now, run_error: null } : { ...rec.closing, run_error: outcome.error };
  return { ...rec, closing, updated_at: now };
}

/** Ended, its phase-5 message published and its run-history row written: nothing about this batch is left to do. */
export function isClosed(rec: BatchRecord): boolean {
  return isEnded(rec.state) && rec.closing !== null && rec.closing.phase5_message_id !== null && rec.closing.run_recorded_at !== null;
}

/** Players with no prediction in this batch because something failed: publish failures, failed and dead-lettered players. */
export function failedPlayers(rec: BatchRecord): number {
  return rec.failed + (rec.summary?.publish_failed ?? 0);
}

export interface BatchProgress {
  batch_id: string;
  game_date: string;
  state: BatchState;
  expected: number;
  completed: number;
  /** Players that will get no prediction from this batch because something failed (publish, worker, dead letter). */
  failed: number;
  remaining: number;
  percent: number;
  total_predictions: number;
  elapsed_seconds: number;
  completions_per_second: number | null;
  eta_seconds: number | null;
}

/** A batch's progress as `/status` and 409 answers show it: counts, percent, rate and ETA from the completion rate. */
export function batchProgress(batch: BatchRecord, now: Date): BatchProgress {
  const end = batch.ended_at ? Date.parse(batch.ended_at) : now.getTime();
  const elapsed = Math.max(0, (end - Date.parse(batch.started_at)) / 1000);
  const remaining = isEnded(batch.state) ? 0 : Math.max(0, batch.expected - batch.completed);
  const rate = batch.completed > 0 && elapsed > 0 ? batch.completed / elapsed : null;
  const dispatched = batch.state !== 'dispatching';
  return {
    batch_id: batch.batch_id,
    game_date: batch.game_date,
    state: batch.state,
    expected: batch.expected,
    completed: batch.completed,
    failed: failedPlayers(batch),
    remaining,
    percent: batch.expected === 0 ? (dispatched ? 100 : 0) : Math.round((batch.completed / batch.expected) * 1000) / 10,
    total_predictions: batch.total_predictions,
    elapsed_seconds: Math.round(elapsed * 10) / 10,
    completions_per_second: rate === null ? null : Math.round(rate * 100) / 100,
    eta_seconds: rate === null || !dispatched || isEnded(batch.state) ? null : Math.round((remaining / rate) * 10) / 10,
  };
}

/** Stall rule (original-coordinator §2.3): ≥ min% and idle for the threshold, or older than the maximum age. */
export interface StallThresholds {
  idleMinutes: number;
  minCompletionPct: number;
  maxAgeMinutes: number;
}

export function stallReason(batch: BatchRecord, now: Date, t: StallThresholds): string | null {
  const ageMin = (now.getTime() - Date.parse(batch.started_at)) / 60_000;
  const idleMin = (now.getTime() - Date.parse(batch.updated_at)) / 60_000;
  const pct = batch.expected === 0 ? 100 : (batch.completed / batch.expected) * 100;
  if (ageMin > t.maxAgeMinutes) return `older than ${t.maxAgeMinutes} min (${ageMin.toFixed(1)} min) at ${pct.toFixed(1)}%`;
  if (pct >= t.minCompletionPct && idleMin >= t.idleMinutes) return `no progress for ${idleMin.toFixed(1)} min at ${pct.toFixed(1)}%`;
  return null;
}
