/**
 * The consolidation step: its own retryable, idempotent step with its own deadline, triggered by a message on the
 * consolidate topic (pushed to `/consolidate`) when a batch finishes — never run inside the push that delivered the last
 * completion. Safe to run twice for one batch: attempts take the table-wide merge lock one at a time, and an attempt that
 * finds the batch ended only finishes its closing.
 *
 *  1. Verify: count the batch's distinct staged prediction ids; while short of the staged rows the workers reported, wait
 *     with backoff (bounded: VERIFY_WAIT_SECONDS) and count again. BigQuery may hold freshly streamed rows back from queries
 *     and says so only in job warnings (https://cloud.google.com/bigquery/docs/streaming-data-into-bigquery#dataavailability).
 *  2. Merge, deactivate and account in one transaction; a transaction a concurrent one cancelled is run again within
 *     MERGE_CONFLICT_RETRY_SECONDS.
 *  3. Check: active duplicates, the champion's post-consolidation checks (alerted once when they warn); then the date's
 *     daily signal is recomputed (signals/daily-signal.ts).
 *  4. End: the machine decides the end state (never `success` when rows or players are missing); then the batch is closed
 *     (phase-5 message, run-history row).
 * A transient failure answers `retry` (5xx: Pub/Sub redelivers; the batch stays `consolidating`, and `/check-stalled` picks
 * it up again after the deadline); a permanent one ends the batch `failed` with the reason.
 */
import type { CoordinatorDeps } from '../deps.js';
import { isEnded, type BatchRecord, type ConsolidationRecord } from '../../../shared/batch/batch-record.js';
import { beginConsolidationAttempt, decideEnd, endBatch, recordConsolidationError } from '../../../shared/batch/batch-machine.js';
import { WarehouseError, param } from '../../../shared/ports/warehouse.js';
import { errorMessage } from '../../../shared/errors/error-message.js';
import { pollUntil, withRetry } from '../../../shared/retry/backoff.js';
import type { AppLogger } from '../../../shared/ports/logger.js';
import { DUPLICATE_CHECK_SQL, STAGED_COUNT_SQL, consolidationPlan } from './merge-sql.js';
import { runPostChecks } from './post-checks.js';
import { closeBatch } from './closing.js';
import { acquireLock, closeLockKey, mergeLockKey, newHolder } from './locks.js';
import { crashPoint } from '../../../shared/faults/crash-points.js';
import { computeDailySignals } from '../signals/daily-signal.js';
import { notify } from '../alerts/notify.js';
import { postChecksAlert } from '../alerts/alerts.js';

export type ConsolidateOutcome =
  | { kind: 'consolidated'; batch: BatchRecord }
  | { kind: 'already_ended'; batch: BatchRecord }
  | { kind: 'not_ready'; batch: BatchRecord }
  | { kind: 'unknown_batch'; batchId: string }
  | { kind: 'retry'; reason: string };

/** Hands a finished batch to the consolidation step. A failed publish is logged: `/check-stalled` picks the batch up. */
export async function requestConsolidation(deps: CoordinatorDeps, batch: BatchRecord, reason: string): Promise<boolean> {
  try {
    const [outcome] = await deps.bus.publish(deps.settings.topics.consolidate, [
      { data: { batch_id: batch.batch_id, reason }, attributes: { batch_id: batch.batch_id, game_date: batch.game_date } },
    ]);
    if (outcome?.ok) return true;
    deps.logger.error(
      { batch_id: batch.batch_id, err: outcome?.error },
      'consolidation request not published; /check-stalled will pick the batch up',
    );
  } catch (err) {
    deps.logger.error(
      { batch_id: batch.batch_id, err: errorMessage(err) },
      'consolidation request not published; /check-stalled will pick the batch up',
    );
  }
  return false;
}

export async function consolidateBatch(deps: CoordinatorDeps, batchId: string): Promise<ConsolidateOutcome> {
  const found = await deps.batches.getBatch(batchId);
  if (!found) return { kind: 'unknown_batch', batchId };
  if (isEnded(found.state)) return { kind: 'already_ended', batch: await closeBatch(deps, found) };
  if (found.state !== 'consolidating') return { kind: 'not_ready', batch: found };
  const log = deps.logger.child({ batch_id: batchId, game_date: found.game_date });
  const s = deps.settings.consolidation;
  // Nothing to merge (nothing was published): no need to wait for the table.
  const key = found.expected > 0 ? mergeLockKey(found.dataset_prefix) : closeLockKey(`${batchId}.end`);
  const holder = newHolder(batchId);
  const lock = await acquireLock(deps, key, holder, { ttlMs: s.lockTtlMs, waitMs: s.lockWaitMs });
  if (!lock.ok) return { kind: 'retry', reason: `the lock ${key} is held by ${lock.heldBy ?? 'another consolidation'}` };
  try {
    const now = () => deps.clock.now().toISOString();
    const batch = await deps.batches.update(batchId, (r) => beginConsolidationAttempt(r, now()));
    if (!batch) {
      const current = await deps.batches.getBatch(batchId);
      return current && isEnded(current.state)
        ? { kind: 'already_ended', batch: await closeBatch(deps, current) }
        : { kind: 'retry', reason: 'the batch changed under the consolidation' };
    }
    crashPoint('consolidate.began');
    const t0 = performance.now();
    const result = await runConsolidation(deps, batch, log);
    const consolidation: ConsolidationRecord = {
      ...(batch.consolidation as ConsolidationRecord),
      ...result.patch,
      ms: Math.round(performance.now() - t0),
    };
    if (result.kind === 'transient') {
      log.warn({ event: 'CONSOLIDATION_RETRY', err: result.error }, `consolidation attempt failed; it is retried: ${result.error}`);
      await deps.batches.update(batchId, (r) => recordConsolidationError(r, result.error, result.patch, now()));
      return { kind: 'retry', reason: result.error };
    }
    const decision = decideEnd(batch, consolidation, result.kind === 'permanent' ? result.error : null);
    const ended = await deps.batches.update(batchId, (r) =>
      endBatch(r, decision, { ...consolidation, error: result.kind === 'permanent' ? result.error : null }, now()),
    );
    if (!ended) {
      const current = await deps.batches.getBatch(batchId);
      return current && isEnded(current.state)
        ? { kind: 'already_ended', batch: await closeBatch(deps, current) }
        : { kind: 'retry', reason: 'the batch changed under the consolidation' };
    }
    const level = decision.state === 'complete' ? 'info' : 'warn';
    log[level](
      {
        event: 'BATCH_CONSOLIDATED',
        state: decision.state,
        phase5_status: decision.phase5_status,
        reasons: decision.reasons,
        consolidation,
      },
      `batch ${decision.state}: ${consolidation.merge?.rows_merged ?? 0} rows merged (${decision.reasons.join('; ')})`,
    );
    if (consolidation.checks) {
      const alert = postChecksAlert(ended, consolidation.checks);
      if (alert) await notify(deps, alert);
    }
    return { kind: 'consolidated', batch: await closeBatch(deps, ended) };
  } finally {
    await deps.batches
      .releaseLock(key, holder)
      .catch((err: unknown) => log.warn({ err: errorMessage(err) }, `merge lock ${key} not released; it lapses`));
  }
}

type RunResult =
  | { kind: 'done'; patch: Partial<ConsolidationRecord> }
  | { kind: 'permanent'; error: string; patch: Partial<ConsolidationRecord> }
  | { kind: 'transient'; error: string; patch: Partial<ConsolidationRecord> };

const isTransient = (err: unknown): boolean => (err instanceof WarehouseError ? err.retryable : true);

/**
 * A merge transaction that committed but whose per-statement counts could not be read (RESULT_UNKNOWN) is run again like a
 * transient failure: the step is idempotent (the MERGE rewrites the same rows with the same values, the accounting counts
 * them), whereas ending the batch `failed` would announce a failure for predictions that are in the table.
 */
const isMergeRetryable = (err: unknown): boolean => isTransient(err) || (err instanceof WarehouseError && err.code === 'RESULT_UNKNOWN');

// eslint-disable-next-line complexity -- the consolidation steps in their required order (verify with backoff, merge, deactivate, account), each with its failure exit
async function runConsolidation(deps: CoordinatorDeps, batch: BatchRecord, log: AppLogger): Promise<RunResult> {
  if (batch.expected === 0) return { kind: 'done', patch: {} };
  const s = deps.settings.consolidation;
  const params = { game_date: param.date(batch.game_date), batch_id: param.string(batch.batch_id) };
  const warnings = new Set(batch.consolidation?.warnings ?? []);
  const wait = deps.wait ? { wait: deps.wait } : {};

  // 1. Verify that every staged row the workers reported is visible.
  let verify: NonNullable<ConsolidationRecord['verify']>;
  try {
    let visible = 0;
    const polled = await pollUntil(
      async () => {
        const result = await deps.warehouse.queryWithWarnings({
          name: 'consolidate.staged_count',
          sql: STAGED_COUNT_SQL,
          params,
          datasetPrefix: batch.dataset_prefix,
          labels: { batch_id: batch.batch_id },
        });
        for (const w of result.warnings) warnings.add(w);
        visible = Number(result.rows[0]?.visible_rows ?? 0);
        return visible >= batch.staged_rows ? true : undefined;
      },
      { budgetMs: s.verifyWaitMs, initialDelayMs: 500, maxDelayMs: 15_000, ...wait },
    );
    verify = {
      reported_rows: batch.staged_rows,
      visible_rows: visible,
      missing_rows: Math.max(0, batch.staged_rows - visible),
      waited_ms: polled.waitedMs,
      checks: polled.checks,
    };
  } catch (err) {
    const error = `staged-row count failed: ${errorMessage(err)}`;
    return isTransient(err)
      ? { kind: 'transient', error, patch: { warnings: [...warnings] } }
      : { kind: 'permanent', error, patch: { warnings: [...warnings] } };
  }
  if (verify.missing_rows > 0) {
    log.warn(
      { event: 'STAGED_ROWS_MISSING', ...verify, warnings: [...warnings] },
      `${verify.missing_rows} of ${verify.reported_rows} staged rows still not visible after ${verify.waited_ms} ms: merging what is visible; the batch cannot end in success`,
    );
  }

  // 2. Merge, deactivate, account — one transaction; a transaction cancelled by a concurrent one runs again.
  let merge: NonNullable<ConsolidationRecord['merge']>;
  try {
    const maxAttempts = Math.max(1, Math.ceil(s.conflictRetryMs / 5_000) + 1);
    const plan = consolidationPlan(batch, deps.clock.now());
    const tx = await withRetry(() => deps.warehouse.transaction('consolidate', plan.statements), {
      attempts: maxAttempts,
      initialDelayMs: 1_000,
      maxDelayMs: 15_000,
      retryIf: (err) => err instanceof WarehouseError && err.code === 'TRANSACTION_CONFLICT',
      onRetry: (err, attempt, delayMs) =>
        log.warn(
          { event: 'MERGE_CONFLICT', attempt, delay_ms: delayMs, err: errorMessage(err) },
          'merge cancelled by a concurrent transaction; running it again',
        ),
      ...wait,
    });
    crashPoint('consolidate.merged');
    for (const w of tx.warnings) warnings.add(w);
    const result = (i: number | null) => (i === null ? undefined : tx.statements[i]);
    merge = {
      rows_merged: result(plan.at.merge)?.affectedRows ?? 0,
      rows_deactivated: result(plan.at.deactivate)?.affectedRows ?? 0,
      rows_accounted: Number(result(plan.at.account)?.rows[0]?.rows_accounted ?? 0),
      rows_superseded: Number(result(plan.at.superseded)?.rows[0]?.rows_superseded ?? 0),
      committed_at: deps.clock.now().toISOString(),
    };
    if (batch.supersede)
      log.info(
        { event: 'ROWS_SUPERSEDED', rows_superseded: merge.rows_superseded, reason: batch.supersede.reason },
        `${merge.rows_superseded} older active rows superseded by this batch`,
      );
  } catch (err) {
    const error = `merge failed: ${errorMessage(err)}`;
    log.error({ event: 'MERGE_FAILED', err: errorMessage(err) }, error);
    const patch = { verify, warnings: [...warnings] };
    return isMergeRetryable(err) ? { kind: 'transient', error, patch } : { kind: 'permanent', error: errorMessage(err), patch };
  }

  // 3. Checks after the merge (a failed check is a warning on the record, never a failed batch).
  let duplicates: number | null = null;
  try {
    const result = await deps.warehouse.queryWithWarnings({
      name: 'consolidate.duplicate_check',
      sql: DUPLICATE_CHECK_SQL,
      params: { game_date: params.game_date },
      datasetPrefix: batch.dataset_prefix,
    });
    for (const w of result.warnings) warnings.add(w);
    duplicates = Number(result.rows[0]?.duplicate_keys ?? 0);
    if (duplicates > 0)
      log.error({ event: 'ACTIVE_DUPLICATES', duplicate_active_keys: duplicates }, 'active duplicate predictions after the merge');
  } catch (err) {
    warnings.add(`duplicate check failed: ${errorMessage(err)}`);
  }
  let checks: ConsolidationRecord['checks'] = null;
  const champion = batch.summary?.models?.champion;
  if (champion) {
    try {
      checks = await runPostChecks(deps.warehouse, batch.game_date, batch.dataset_prefix, champion);
      for (const w of checks.warnings) log.warn({ event: 'POST_CONSOLIDATION_CHECK', champion }, w);
    } catch (err) {
      warnings.add(`post-consolidation checks failed: ${errorMessage(err)}`);
    }
  }
  // The date's daily signal, from every active row now that this batch's are in (idempotent: one MERGE per date and model).
  try {
    const signals = await computeDailySignals(deps.warehouse, batch.game_date, batch.dataset_prefix, batch.batch_id);
    log.info(
      {
        event: 'DAILY_SIGNALS',
        signals: signals.map((r) => ({
          system_id: r.system_id,
          signal: r.daily_signal,
          pct_over: r.pct_over,
          high_edge: r.high_edge_picks,
        })),
      },
      `daily signal written for ${signals.length} models`,
    );
  } catch (err) {
    warnings.add(`daily signal not computed: ${errorMessage(err)}`);
  }
  if (warnings.size > 0)
    log.warn({ event: 'WAREHOUSE_WARNINGS', warnings: [...warnings] }, 'the warehouse reported warnings during consolidation');
  return { kind: 'done', patch: { verify, merge, duplicate_active_keys: duplicates, checks, warnings: [...warnings] } };
}
