/**
 * Every player's betting line in at most three queries, whatever the number of players (design §6):
 *  1. OddsAPI for all players: best row per player by sportsbook rank, newest snapshot first, lines below 5.0 rejected;
 *  2. BettingPros for the players still without a line (points market, over side, active rows), its own book order;
 *  3. one diagnostic query for the players still without a line, giving each a reason.
 * A failed query fails the step (the original turned failures into "no rows", so an outage meant "no lines for anyone").
 */
import { param, type Warehouse } from '../../../shared/ports/warehouse.js';
import { num, reqStr, str } from '../../../shared/queries/row-values.js';

/** Lines below this are not points props (a mislabelled rebounds or assists line). */
export const LINE_FLOOR = 5.0;

export const ODDS_API_BOOK_RANK = ['draftkings', 'fanduel', 'betmgm', 'pointsbet', 'caesars'] as const;
export const BETTINGPROS_BOOK_RANK = ['DraftKings', 'FanDuel', 'BetMGM', 'Caesars', 'PointsBet'] as const;

export interface FoundLine {
  line_value: number;
  sportsbook: string;
  line_source_api: 'ODDS_API' | 'BETTINGPROS';
  was_line_fallback: boolean;
  line_minutes_before_game: number | null;
}

export interface MissingLine {
  reason: 'not offered' | 'lines filtered out';
  detail: string;
}

export interface LineLookup {
  lines: Map<string, FoundLine>;
  missing: Map<string, MissingLine>;
}

function rankCase(column: string, books: readonly string[]): string {
  const whens = books.map((book, i) => `WHEN '${book}' THEN ${i + 1}`).join(' ');
  return `CASE ${column} ${whens} ELSE 99 END`;
}

const ODDS_API_SQL = `
SELECT player_lookup, points_line, bookmaker, minutes_before_tipoff
FROM {{nba_raw.odds_api_player_points_props}}
WHERE game_date = @game_date AND player_lookup IN UNNEST(@players) AND points_line >= @floor
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY player_lookup
  ORDER BY ${rankCase('LOWER(bookmaker)', ODDS_API_BOOK_RANK)}, snapshot_timestamp DESC
) = 1`;

const BETTINGPROS_SQL = `
SELECT player_lookup, points_line, bookmaker
FROM {{nba_raw.bettingpros_player_points_props}}
WHERE game_date = @game_date AND player_lookup IN UNNEST(@players)
  AND market_type = 'points' AND bet_side = 'over' AND is_active = TRUE AND points_line >= @floor
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY player_lookup
  ORDER BY ${rankCase('bookmaker', BETTINGPROS_BOOK_RANK)}, created_at DESC
) = 1`;

const DIAGNOSTIC_SQL = `
SELECT player_lookup, 'odds_api' AS source, COUNT(*) AS row_count,
  COUNTIF(points_line < @floor) AS below_floor
FROM {{nba_raw.odds_api_player_points_props}}
WHERE game_date = @game_date AND player_lookup IN UNNEST(@players)
GROUP BY player_lookup
UNION ALL
SELECT player_lookup, 'bettingpros' AS source, COUNT(*) AS row_count,
  COUNTIF(points_line < @floor) AS below_floor
FROM {{nba_raw.bettingpros_player_points_props}}
WHERE game_date = @game_date AND player_lookup IN UNNEST(@players) AND market_type = 'points'
GROUP BY player_lookup`;

export async function lookupLines(
  warehouse: Warehouse,
  gameDate: string,
  datasetPrefix: string,
  players: readonly string[],
): Promise<LineLookup> {
  const lines = new Map<string, FoundLine>();
  const missing = new Map<string, MissingLine>();
  if (players.length === 0) return { lines, missing };
  const base = { game_date: param.date(gameDate), floor: param.float(LINE_FLOOR) };

  const odds = await warehouse.query({
    name: 'lines.odds_api',
    sql: ODDS_API_SQL,
    params: { ...base, players: param.strings(players) },
    datasetPrefix,
  });
  for (const row of odds) {
    const book = (str(row, 'bookmaker') ?? '').toLowerCase();
    lines.set(reqStr(row, 'player_lookup'), {
      line_value: num(row, 'points_line') as number,
      sportsbook: book === '' ? 'UNKNOWN' : book.toUpperCase(),
      line_source_api: 'ODDS_API',
      was_line_fallback: book !== 'draftkings',
      line_minutes_before_game: num(row, 'minutes_before_tipoff'),
    });
  }

  let remaining = players.filter((p) => !lines.has(p));
  if (remaining.length > 0) {
    const bp = await warehouse.query({
      name: 'lines.bettingpros',
      sql: BETTINGPROS_SQL,
      params: { ...base, players: param.strings(remaining) },
      datasetPrefix,
    });
    for (const row of bp) {
      const book = str(row, 'bookmaker') ?? '';
      lines.set(reqStr(row, 'player_lookup'), {
        line_value: num(row, 'points_line') as number,
        sportsbook: book === '' ? 'UNKNOWN' : book.toUpperCase(),
        line_source_api: 'BETTINGPROS',
        was_line_fallback: book.toLowerCase() !== 'draftkings',
        line_minutes_before_game: null,
      });
    }
    remaining = remaining.filter((p) => !lines.has(p));
  }

  if (remaining.length > 0) {
    const diag = await warehouse.query({
      name: 'lines.diagnostic',
      sql: DIAGNOSTIC_SQL,
      params: { ...base, players: param.strings(remaining) },
      datasetPrefix,
    });
    const seen = new Map<string, string[]>();
    for (const row of diag) {
      const player = reqStr(row, 'player_lookup');
      const parts = seen.get(player) ?? [];
      parts.push(`${str(row, 'source')}: ${num(row, 'row_count')} rows, ${num(row, 'below_floor')} below ${LINE_FLOOR}`);
      seen.set(player, parts);
    }
    for (const player of remaining) {
      const parts = seen.get(player);
      missing.set(
        player,
        parts
          ? { reason: 'lines filtered out', detail: `${parts.join('; ')} (below the floor, inactive, other side or market)` }
          : { reason: 'not offered', detail: 'no points prop rows from any source (not offered, or a name-format mismatch)' },
      );
    }
  }
  return { lines, missing };
}
