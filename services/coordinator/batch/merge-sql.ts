/**
 * The consolidation statements, written once (BigQuery dialect with table tokens; the warehouse adapter renders them).
 * The merge key keeps the line to tenths: 25.5 and 26.0 are different rows (the original cast to an integer and merged them).
 */
import { PREDICTION_COLUMN_NAMES } from '../../../shared/contracts/tables.js';
import { param, type Query } from '../../../shared/ports/warehouse.js';

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
  AND T.system_id = S.system_id AND ${lineKey('T')} = ${lineKey('S')}
WHEN MATCHED THEN UPDATE SET ${UPDATABLE.map((c) => `${c} = S.${c}`).join(', ')}, updated_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (${PREDICTION_COLUMN_NAMES.join(', ')})
  VALUES (${PREDICTION_COLUMN_NAMES.map((c) => `S.${c}`).join(', ')})`;

/** Older active rows of the (game, player, system) pairs this batch produced are superseded by this batch's rows. */
const DEACTIVATE_SQL = `
UPDATE {{nba_predictions.player_prop_predictions}} T
SET is_active = FALSE, updated_at = CURRENT_TIMESTAMP()
WHERE T.game_date = @game_date AND T.is_active = TRUE AND (T.batch_id IS NULL OR T.batch_id != @batch_id)
  AND EXISTS (
    SELECT 1 FROM {{nba_predictions.prediction_staging}} s
    WHERE s.game_date = @game_date AND s.batch_id = @batch_id
      AND s.game_id = T.game_id AND s.player_lookup = T.player_lookup AND s.system_id = T.system_id
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

/**
 * MERGE, deactivate, then count this batch's active rows, in one transaction. Staging is only read: its rows are never
 * deleted here (on BigQuery, freshly streamed rows cannot be DML targets), they expire with their partition. Every
 * statement selects the batch's rows by batch_id, so an earlier batch's rows still in staging are never merged again.
 */
export function consolidationStatements(gameDate: string, batchId: string, datasetPrefix: string): Query[] {
  const params = { game_date: param.date(gameDate), batch_id: param.string(batchId) };
  const labels = { batch_id: batchId };
  return [
    { name: 'consolidate.merge', sql: MERGE_SQL, params, datasetPrefix, labels },
    { name: 'consolidate.deactivate', sql: DEACTIVATE_SQL, params, datasetPrefix, labels },
    { name: 'consolidate.account', sql: ACCOUNT_SQL, params, datasetPrefix, labels },
  ];
}
