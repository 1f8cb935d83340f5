/**
 * The original coordinator's per-player line waterfall (reference: original-coordinator.md §3.7.1, last bullets), kept here
 * only as the baseline the `lines` benchmark measures the product's three batched queries against.
 *
 * For each player, one query at a time, in order: for each of draftkings, fanduel, betmgm, pointsbet, caesars, first OddsAPI
 * (that book, newest snapshot: ORDER BY snapshot_timestamp DESC LIMIT 1) then BettingPros (the same book, points market,
 * over side, active, newest: ORDER BY created_at DESC LIMIT 1). A line below 5.0 is rejected after selection and the
 * waterfall moves on; the first line ≥ 5.0 ends it. At most 10 queries per player; players are looked up one after another
 * (as the original's loop did).
 */
import { param, type Warehouse } from '../../shared/ports/warehouse.js';
import { num } from '../../shared/queries/row-values.js';
import { LINE_FLOOR } from '../../services/coordinator/dispatch/line-queries.js';

export const WATERFALL_BOOKS: ReadonlyArray<{ oddsApi: string; bettingPros: string }> = [
  { oddsApi: 'draftkings', bettingPros: 'DraftKings' },
  { oddsApi: 'fanduel', bettingPros: 'FanDuel' },
  { oddsApi: 'betmgm', bettingPros: 'BetMGM' },
  { oddsApi: 'pointsbet', bettingPros: 'PointsBet' },
  { oddsApi: 'caesars', bettingPros: 'Caesars' },
];

const ODDS_API_ONE = `
SELECT points_line, bookmaker, minutes_before_tipoff
FROM {{nba_raw.odds_api_player_points_props}}
WHERE game_date = @game_date AND player_lookup = @player AND LOWER(bookmaker) = @book
ORDER BY snapshot_timestamp DESC
LIMIT 1`;

const BETTINGPROS_ONE = `
SELECT points_line, bookmaker
FROM {{nba_raw.bettingpros_player_points_props}}
WHERE game_date = @game_date AND player_lookup = @player AND bookmaker = @book
  AND market_type = 'points' AND bet_side = 'over' AND is_active = TRUE
ORDER BY created_at DESC
LIMIT 1`;

export interface WaterfallResult {
  queries: number;
  found: number;
  lines: Map<string, { line: number; source: 'ODDS_API' | 'BETTINGPROS'; book: string }>;
}

export async function waterfallLines(
  warehouse: Warehouse,
  gameDate: string,
  players: readonly string[],
  datasetPrefix?: string,
): Promise<WaterfallResult> {
  const lines: WaterfallResult['lines'] = new Map();
  let queries = 0;
  for (const player of players) {
    const base = { game_date: param.date(gameDate), player: param.string(player) };
    for (const book of WATERFALL_BOOKS) {
      queries++;
      const [oa] = await warehouse.query({
        name: 'waterfall.odds_api',
        sql: ODDS_API_ONE,
        params: { ...base, book: param.string(book.oddsApi) },
        datasetPrefix,
      });
      const oaLine = oa ? num(oa, 'points_line') : null;
      if (oaLine !== null && oaLine >= LINE_FLOOR) {
        lines.set(player, { line: oaLine, source: 'ODDS_API', book: book.oddsApi });
        break;
      }
      queries++;
      const [bp] = await warehouse.query({
        name: 'waterfall.bettingpros',
        sql: BETTINGPROS_ONE,
        params: { ...base, book: param.string(book.bettingPros) },
        datasetPrefix,
      });
      const bpLine = bp ? num(bp, 'points_line') : null;
      if (bpLine !== null && bpLine >= LINE_FLOOR) {
        lines.set(player, { line: bpLine, source: 'BETTINGPROS', book: book.bettingPros });
        break;
      }
    }
  }
  return { queries, found: lines.size, lines };
}
