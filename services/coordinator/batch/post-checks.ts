/**
 * Checks on the champion's active rows for the date after a merge (original-coordinator §4.4): mean (prediction − line)
 * bias beyond ±2.0, OVER or UNDER share below 15 % with at least 10 rows, and recommendations that disagree with the sign
 * of (prediction − line). Recorded in the batch's consolidation result and logged as warnings; never blocking.
 */
import { param, type Warehouse } from '../../../shared/ports/warehouse.js';
import { num } from '../../../shared/queries/row-values.js';
import type { PostChecks } from '../../../shared/batch/batch-record.js';

export type { PostChecks };

export const POST_CHECK_LIMITS = { maxAbsBias: 2.0, minSidePct: 15, minRowsForSkew: 10 } as const;

const SQL = `
SELECT COUNT(*) AS n, AVG(predicted_points - current_points_line) AS bias,
  COUNTIF(recommendation = 'OVER') AS overs, COUNTIF(recommendation = 'UNDER') AS unders,
  COUNTIF((predicted_points > current_points_line AND recommendation = 'UNDER')
       OR (predicted_points < current_points_line AND recommendation = 'OVER')) AS mismatches
FROM {{nba_predictions.player_prop_predictions}}
WHERE game_date = @game_date AND is_active = TRUE AND system_id = @champion AND current_points_line IS NOT NULL`;

export async function runPostChecks(warehouse: Warehouse, gameDate: string, datasetPrefix: string, champion: string): Promise<PostChecks> {
  const [row] = await warehouse.query({
    name: 'consolidate.post_checks',
    sql: SQL,
    params: { game_date: param.date(gameDate), champion: param.string(champion) },
    datasetPrefix,
  });
  const n = (row && num(row, 'n')) ?? 0;
  const bias = row ? num(row, 'bias') : null;
  const pct = (k: string) => (n === 0 || !row ? null : Math.round(((num(row, k) ?? 0) / n) * 1000) / 10);
  const checks: PostChecks = {
    champion,
    rows: n,
    avg_bias: bias === null ? null : Math.round(bias * 100) / 100,
    over_pct: pct('overs'),
    under_pct: pct('unders'),
    direction_mismatches: (row && num(row, 'mismatches')) ?? 0,
    warnings: [],
  };
  const L = POST_CHECK_LIMITS;
  if (checks.avg_bias !== null && Math.abs(checks.avg_bias) > L.maxAbsBias)
    checks.warnings.push(`champion bias ${checks.avg_bias} points (prediction − line) beyond ±${L.maxAbsBias}`);
  if (n >= L.minRowsForSkew && checks.over_pct !== null && checks.over_pct < L.minSidePct)
    checks.warnings.push(`champion OVER share ${checks.over_pct}% below ${L.minSidePct}% (${n} rows)`);
  if (n >= L.minRowsForSkew && checks.under_pct !== null && checks.under_pct < L.minSidePct)
    checks.warnings.push(`champion UNDER share ${checks.under_pct}% below ${L.minSidePct}% (${n} rows)`);
  if (checks.direction_mismatches > 0)
    checks.warnings.push(`${checks.direction_mismatches} champion rows recommend against the sign of (prediction − line)`);
  return checks;
}
