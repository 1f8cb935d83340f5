/**
 * One query for the fixed checks of a date: games scheduled, games the context table has players for, the 7-day analytics
 * completeness, and postponed games.
 */
import { param, type Warehouse } from '../../../shared/ports/warehouse.js';
import { addDays } from '../../../shared/dates/game-date.js';
import { num, str } from '../../../shared/queries/row-values.js';

export const COMPLETENESS = { lookbackDays: 7, thresholdPct: 80 } as const;

export interface Postponement {
  game_id: string;
  detail: string | null;
}

export interface Slate {
  gamesScheduled: number;
  /** Distinct games in upcoming_player_game_context for the date (the original's `total_games`). */
  contextGames: number;
  /** Final games over the lookback window, and how many of them have analytics rows. */
  finalGames: number;
  analysedGames: number;
  /** null when the window had no final games (off-season): complete by definition. */
  coveragePct: number | null;
  postponed: Postponement[];
}

const SQL = `
WITH final_games AS (
  SELECT game_date, COUNT(DISTINCT game_id) AS expected
  FROM {{nba_raw.nbac_schedule}}
  WHERE game_date >= @lookback_start AND game_date < @game_date AND game_status = 3
  GROUP BY game_date
), analysed AS (
  SELECT game_date, COUNT(DISTINCT game_id) AS analysed
  FROM {{nba_analytics.player_game_summary}}
  WHERE game_date >= @lookback_start AND game_date < @game_date
  GROUP BY game_date
)
SELECT 'games' AS kind, COUNT(DISTINCT game_id) AS a, 0 AS b, CAST(NULL AS STRING) AS game_id, CAST(NULL AS STRING) AS detail
FROM {{nba_raw.nbac_schedule}} WHERE game_date = @game_date
UNION ALL
SELECT 'context_games' AS kind, COUNT(DISTINCT game_id) AS a, 0 AS b, CAST(NULL AS STRING) AS game_id, CAST(NULL AS STRING) AS detail
FROM {{nba_analytics.upcoming_player_game_context}} WHERE game_date = @game_date
UNION ALL
SELECT 'coverage' AS kind, COALESCE(SUM(f.expected), 0) AS a, COALESCE(SUM(LEAST(COALESCE(x.analysed, 0), f.expected)), 0) AS b,
  CAST(NULL AS STRING) AS game_id, CAST(NULL AS STRING) AS detail
FROM final_games f LEFT JOIN analysed x ON x.game_date = f.game_date
UNION ALL
SELECT 'postponed' AS kind, 0 AS a, 0 AS b, game_id, detection_details AS detail
FROM {{nba_orchestration.game_postponements}}
WHERE original_date = @game_date AND status IN ('detected', 'confirmed')`;

export async function loadSlate(warehouse: Warehouse, gameDate: string, datasetPrefix: string): Promise<Slate> {
  const rows = await warehouse.query({
    name: 'slate',
    sql: SQL,
    params: { game_date: param.date(gameDate), lookback_start: param.date(addDays(gameDate, -COMPLETENESS.lookbackDays)) },
    datasetPrefix,
  });
  const slate: Slate = { gamesScheduled: 0, contextGames: 0, finalGames: 0, analysedGames: 0, coveragePct: null, postponed: [] };
  for (const row of rows) {
    const kind = str(row, 'kind');
    if (kind === 'games') slate.gamesScheduled = num(row, 'a') ?? 0;
    else if (kind === 'context_games') slate.contextGames = num(row, 'a') ?? 0;
    else if (kind === 'coverage') {
      slate.finalGames = num(row, 'a') ?? 0;
      slate.analysedGames = num(row, 'b') ?? 0;
    } else if (kind === 'postponed') slate.postponed.push({ game_id: str(row, 'game_id') ?? '?', detail: str(row, 'detail') });
  }
  slate.coveragePct = slate.finalGames === 0 ? null : Math.round((slate.analysedGames / slate.finalGames) * 1000) / 10;
  return slate;
}
