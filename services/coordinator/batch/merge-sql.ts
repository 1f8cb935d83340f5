/**
 * The consolidation statements, written once (BigQuery dialect with table tokens; the warehouse adapter renders them).
 * The merge key keeps the line to tenths: 25.5 and 26.0 are different rows (the original cast to an integer and merged them).
 */
import { PREDICTION_COLUMN_NAMES } from '../../../shared/contracts/tables.js';
import { param, type Query, type QueryParam } from '../../../shared/ports/warehouse.js';
import type { SupersedeSpec } from '../../../shared/batch/batch-record.js';

const KEY_COLUMNS = ['game_id', 'player_lookup', 'system_id', 'current_points_line', 'game_date'];
const PRESERVED_ON_UPDATE = ['prediction_id', 'created_at', 'updated_at'];
const UPDATABLE = PREDICTION_COLUMN_NAMES.filter((c) => !KEY_COLUMNS.includes(c) && !PRESERVED_ON_UPDATE.includes(c));

const lineKey = (alias: string): string => `COALESCE(CAST(ROUND(${alias}.current_points_line * 10) AS INT64), -1)`;

const MERGE_SQL = `
MERGE INTO {{nba_predictions.player_prop_predictions}} T
USING (
  SELECT ${PREDICTION_COLUMN_NAMES.map((c) => `s.${c}`).join(', ')}
  FROM {{nba_predictions.prediction_staging}} s
  WHERE s.game_date = @game_date AND s.batch_id = @batch_id
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY s.game_id, s.player_lookup, s.system_id, ${lineKey('s')}
    ORDER BY s.created_at DESC, s.prediction_id
  ) = 1
) S
ON T.game_date = @game_date AND T.game_id = S.game_id AND T.player_lookup = S.player_lookup
  AND T.system_id = S.system_id AND ${lineKey('T')} = ${lineKey('S')} AND COALESCE(T.superseded, FALSE) = FALSE
WHEN MATCHED THEN UPDATE SET ${UPDATABLE.map((c) => `${c} = S.${c}`).join(', ')}, updated_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (${PREDICTION_COLUMN_NAMES.join(', ')})
  VALUES (${PREDICTION_COLUMN_NAMES.map((c) => `S.${c}`).join(', ')})`;

/** The (game, player, system) triples this batch staged rows for: what it replaces. */
const STAGED_PAIR = `
    SELECT 1 FROM {{nba_predictions.prediction_staging}} s
    WHERE s.game_date = @game_date AND s.batch_id = @batch_id
      AND s.game_id = T.game_id AND s.player_lookup = T.player_lookup AND s.system_id = T.system_id`;

/**
 * A re-prediction (line check, line update, regeneration), before its MERGE and in the same transaction: the older active
 * rows of every (game, player, system) it has new rows for are marked superseded and made inactive. Players it did not
 * predict (skipped, failed) keep their rows active, and a batch that never merges supersedes nothing: the date always has the
 * old rows or the new ones. The MERGE then never matches a superseded row (its ON clause excludes them), so a new row with
 * the same line is inserted beside the superseded one instead of overwriting it.
 */
const SUPERSEDE_SQL = `
UPDATE {{nba_predictions.player_prop_predictions}} T
SET is_active = FALSE, superseded = TRUE, superseded_at = CURRENT_TIMESTAMP(), superseded_reason = @superseded_reason,
  superseded_metadata = @superseded_metadata, superseded_by = @batch_id, updated_at = CURRENT_TIMESTAMP()
WHERE T.game_date = @game_date AND T.is_active = TRUE AND (T.batch_id IS NULL OR T.batch_id != @batch_id)
  AND EXISTS (${STAGED_PAIR}
  )`;

/** Inside the transaction, after the MERGE: rows this batch superseded (its own count, exact on a re-run too). */
const SUPERSEDED_COUNT_SQL = `
SELECT COUNT(*) AS rows_superseded
FROM {{nba_predictions.player_prop_predictions}} T
WHERE T.game_date = @game_date AND T.superseded_by = @batch_id`;

/**
 * A regeneration's audit row, in the same transaction, once per batch (a re-run of a committed transaction inserts nothing).
 * not_replaced_count: active rows of the date from other batches that stay active (players the regeneration did not predict).
 */
const AUDIT_SQL = `
INSERT INTO {{nba_predictions.prediction_regeneration_audit}}
  (regeneration_timestamp, game_date, batch_id, reason, metadata, superseded_count, regenerated_count, not_replaced_count,
   processing_time_seconds, triggered_by, created_at)
SELECT @requested_at, @game_date, @batch_id, @superseded_reason, @superseded_metadata,
  (SELECT COUNT(*) FROM {{nba_predictions.player_prop_predictions}} p WHERE p.game_date = @game_date AND p.superseded_by = @batch_id),
  (SELECT COUNT(*) FROM {{nba_predictions.player_prop_predictions}} p WHERE p.game_date = @game_date AND p.batch_id = @batch_id AND p.is_active = TRUE),
  (SELECT COUNT(*) FROM {{nba_predictions.player_prop_predictions}} p WHERE p.game_date = @game_date AND p.is_active = TRUE AND (p.batch_id IS NULL OR p.batch_id != @batch_id)),
  @processing_seconds, @triggered_by, CURRENT_TIMESTAMP()
FROM (SELECT 1 AS one) x
WHERE NOT EXISTS (SELECT 1 FROM {{nba_predictions.prediction_regeneration_audit}} a WHERE a.game_date = @game_date AND a.batch_id = @batch_id)`;

/** Older active rows of the (game, player, system) pairs this batch produced are superseded by this batch's rows. */
const DEACTIVATE_SQL = `
UPDATE {{nba_predictions.player_prop_predictions}} T
SET is_active = FALSE, updated_at = CURRENT_TIMESTAMP()
WHERE T.game_date = @game_date AND T.is_active = TRUE AND (T.batch_id IS NULL OR T.batch_id != @batch_id)
  AND EXISTS (${STAGED_PAIR}
  )`;

/** Inside the merge's transaction, after it: this batch's rows now active (every distinct staged key must be one). */
const ACCOUNT_SQL = `
SELECT COUNT(*) AS rows_accounted
FROM {{nba_predictions.player_prop_predictions}} T
WHERE T.game_date = @game_date AND T.batch_id = @batch_id AND T.is_active = TRUE`;

/** Before the merge: the batch's distinct staged prediction ids the warehouse can see now. */
export const STAGED_COUNT_SQL = `
SELECT COUNT(DISTINCT s.prediction_id) AS visible_rows
FROM {{nba_predictions.prediction_staging}} s
WHERE s.game_date = @game_date AND s.batch_id = @batch_id`;

/** Active rows sharing a business key after the merge: must be zero. */
export const DUPLICATE_CHECK_SQL = `
SELECT COUNT(*) AS duplicate_keys FROM (
  SELECT game_id, player_lookup, system_id, ${lineKey('p')} AS line_key
  FROM {{nba_predictions.player_prop_predictions}} p
  WHERE p.game_date = @game_date AND p.is_active = TRUE
  GROUP BY game_id, player_lookup, system_id, line_key
  HAVING COUNT(*) > 1
) d`;

export interface ConsolidationBatch {
  game_date: string;
  batch_id: string;
  dataset_prefix: string;
  supersede: SupersedeSpec | null;
}

export interface ConsolidationStatements {
  statements: Query[];
  /** Where each statement's result is in the transaction's results. */
  at: { merge: number; deactivate: number; account: number; superseded: number | null };
}

/**
 * [supersede,] MERGE, deactivate, count this batch's active rows [, count what it superseded, audit], in one transaction.
 * Staging is only read: its rows are never deleted here (on BigQuery, freshly streamed rows cannot be DML targets), they
 * expire with their partition. Every statement selects the batch's rows by batch_id, so an earlier batch's rows still in
 * staging are never merged again.
 */
export function consolidationPlan(batch: ConsolidationBatch, now: Date): ConsolidationStatements {
  const { game_date: gameDate, batch_id: batchId, dataset_prefix: datasetPrefix, supersede } = batch;
  const params = { game_date: param.date(gameDate), batch_id: param.string(batchId) };
  const labels = { batch_id: batchId };
  const q = (name: string, sql: string, extra: Record<string, QueryParam> = {}): Query => ({
    name,
    sql,
    params: { ...params, ...extra },
    datasetPrefix,
    labels,
  });
  if (!supersede) {
    return {
      statements: [q('consolidate.merge', MERGE_SQL), q('consolidate.deactivate', DEACTIVATE_SQL), q('consolidate.account', ACCOUNT_SQL)],
      at: { merge: 0, deactivate: 1, account: 2, superseded: null },
    };
  }
  const marks = { superseded_reason: param.string(supersede.reason), superseded_metadata: param.json(JSON.stringify(supersede.metadata)) };
  const statements = [
    q('consolidate.supersede', SUPERSEDE_SQL, marks),
    q('consolidate.merge', MERGE_SQL),
    q('consolidate.deactivate', DEACTIVATE_SQL),
    q('consolidate.account', ACCOUNT_SQL),
    q('consolidate.superseded_count', SUPERSEDED_COUNT_SQL),
  ];
  if (supersede.audit) {
    const seconds = Math.max(0, (now.getTime() - Date.parse(supersede.requested_at)) / 1000);
    statements.push(
      q('consolidate.regeneration_audit', AUDIT_SQL, {
        ...marks,
        requested_at: param.timestamp(supersede.requested_at),
        processing_seconds: param.float(Math.round(seconds * 10) / 10),
        triggered_by: param.string(supersede.audit.triggered_by),
      }),
    );
  }
  return { statements, at: { merge: 1, deactivate: 2, account: 3, superseded: 4 } };
}

/** A daily batch's statements (MERGE, deactivate, account), as the BigQuery adapter's tests run them. */
export function consolidationStatements(gameDate: string, batchId: string, datasetPrefix: string): Query[] {
  return consolidationPlan({ game_date: gameDate, batch_id: batchId, dataset_prefix: datasetPrefix, supersede: null }, new Date())
    .statements;
}
