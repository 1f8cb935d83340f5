/**
 * One query for the day's candidate players: the latest context row per player; `out`/`doubtful` excluded
 * case-insensitively (the data is lower case; the original compared upper case and excluded nobody); at most 500 players,
 * by recent minutes.
 */
import { param, type Warehouse } from '../../../shared/ports/warehouse.js';
import { bool, num, reqStr, str } from '../../../shared/queries/row-values.js';

export const MAX_PLAYERS = 500;

export interface Candidate {
  player_lookup: string;
  universal_player_id: string | null;
  game_id: string;
  team_abbr: string | null;
  opponent_team_abbr: string | null;
  is_home: boolean | null;
  projected_minutes: number;
  injury_status: string | null;
  points_avg_last_5: number | null;
}

const SQL = `
WITH latest AS (
  SELECT *
  FROM {{nba_analytics.upcoming_player_game_context}}
  WHERE game_date = @game_date AND (@all_players OR player_lookup IN UNNEST(@players))
  QUALIFY ROW_NUMBER() OVER (PARTITION BY player_lookup ORDER BY created_at DESC) = 1
)
SELECT player_lookup, universal_player_id, game_id, team_abbr, opponent_team_abbr, home_game,
  COALESCE(avg_minutes_per_game_last_7, 0) AS projected_minutes, player_status, points_avg_last_5
FROM latest
WHERE (player_status IS NULL OR LOWER(player_status) NOT IN ('out', 'doubtful'))
  AND (is_production_ready = TRUE OR has_prop_line = TRUE)
ORDER BY projected_minutes DESC, player_lookup
LIMIT ${MAX_PLAYERS}`;

export async function loadCandidates(
  warehouse: Warehouse,
  gameDate: string,
  datasetPrefix: string,
  only: readonly string[] | undefined,
): Promise<Candidate[]> {
  const rows = await warehouse.query({
    name: 'players',
    sql: SQL,
    params: { game_date: param.date(gameDate), all_players: param.bool(only === undefined), players: param.strings(only ?? []) },
    datasetPrefix,
  });
  return rows.map((row) => ({
    player_lookup: reqStr(row, 'player_lookup'),
    universal_player_id: str(row, 'universal_player_id'),
    game_id: reqStr(row, 'game_id'),
    team_abbr: str(row, 'team_abbr'),
    opponent_team_abbr: str(row, 'opponent_team_abbr'),
    is_home: bool(row, 'home_game'),
    projected_minutes: num(row, 'projected_minutes') ?? 0,
    injury_status: str(row, 'player_status'),
    points_avg_last_5: num(row, 'points_avg_last_5'),
  }));
}
