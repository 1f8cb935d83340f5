/**
 * Which players' predictions a line change has made stale (original-coordinator §2.5, `/check-lines`), in a constant number
 * of queries whatever the slate: the date's schedule (one query), the champion's active rows (one query), and today's line of
 * each of those players by the same rule dispatch uses (`lookupLines`, at most three queries). A player is affected when
 *   - new line:  the champion's active row has no line and the player now has one, or
 *   - line move: the line now differs from the predicted line by at least the threshold (compared in tenths).
 * Only players whose game is still scheduled (game_status 1) are affected: a line for a game under way is an in-game line.
 */
import { param, type Warehouse } from '../../../shared/ports/warehouse.js';
import { num, reqStr } from '../../../shared/queries/row-values.js';
import { lookupLines, type FoundLine, type LineLookup } from '../dispatch/line-queries.js';

export type ChangeReason = 'new_line' | 'line_move';

export interface LineChange {
  player_lookup: string;
  game_id: string;
  reason: ChangeReason;
  /** The champion's active row's line (null: it had none). */
  predicted_line: number | null;
  current_line: number;
  /** current − predicted, in points (null for a new line). */
  change: number | null;
  sportsbook: string;
}

export interface PredictedLine {
  player_lookup: string;
  game_id: string;
  line: number | null;
}

export interface Schedule {
  games: number;
  /** Games not yet started (game_status 1). */
  scheduled: Set<string>;
}

const SCHEDULE_SQL = `
SELECT game_id, game_status
FROM {{nba_raw.nbac_schedule}}
WHERE game_date = @game_date`;

/** The champion's active row per player (the newest, when a multi-line run left several). */
const PREDICTED_SQL = `
WITH champion AS (
  SELECT model_id FROM {{nba_predictions.model_registry}}
  WHERE enabled = TRUE AND status = 'active' AND is_production = TRUE
)
SELECT p.player_lookup, p.game_id, p.current_points_line
FROM {{nba_predictions.player_prop_predictions}} p
JOIN champion c ON p.system_id = c.model_id
WHERE p.game_date = @game_date AND p.is_active = TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY p.player_lookup ORDER BY p.created_at DESC, p.prediction_id) = 1`;

export async function loadSchedule(warehouse: Warehouse, gameDate: string, datasetPrefix: string): Promise<Schedule> {
  const rows = await warehouse.query({
    name: 'check_lines.schedule',
    sql: SCHEDULE_SQL,
    params: { game_date: param.date(gameDate) },
    datasetPrefix,
  });
  const games = new Set<string>();
  const scheduled = new Set<string>();
  for (const row of rows) {
    const id = reqStr(row, 'game_id');
    games.add(id);
    if (num(row, 'game_status') === 1) scheduled.add(id);
  }
  return { games: games.size, scheduled };
}

export async function loadPredictedLines(warehouse: Warehouse, gameDate: string, datasetPrefix: string): Promise<PredictedLine[]> {
  const rows = await warehouse.query({
    name: 'check_lines.predicted',
    sql: PREDICTED_SQL,
    params: { game_date: param.date(gameDate) },
    datasetPrefix,
  });
  return rows.map((row) => ({
    player_lookup: reqStr(row, 'player_lookup'),
    game_id: reqStr(row, 'game_id'),
    line: num(row, 'current_points_line'),
  }));
}

/** Lines are compared in tenths, so 1.0 is a move of 1.0 whatever the binary fractions make of 22.5 − 21.5. */
const tenths = (v: number): number => Math.round(v * 10);

/** The affected players, new lines first, then moves by size; each player once. Pure. */
export function findLineChanges(
  predicted: readonly PredictedLine[],
  lines: ReadonlyMap<string, FoundLine>,
  threshold: number,
  scheduled: ReadonlySet<string>,
): LineChange[] {
  const changes: LineChange[] = [];
  for (const p of predicted) {
    if (!scheduled.has(p.game_id)) continue;
    const now = lines.get(p.player_lookup);
    if (!now) continue;
    const base = {
      player_lookup: p.player_lookup,
      game_id: p.game_id,
      current_line: tenths(now.line_value) / 10,
      sportsbook: now.sportsbook,
    };
    if (p.line === null) {
      changes.push({ ...base, reason: 'new_line', predicted_line: null, change: null });
      continue;
    }
    const delta = tenths(now.line_value) - tenths(p.line);
    if (Math.abs(delta) >= tenths(threshold)) changes.push({ ...base, reason: 'line_move', predicted_line: p.line, change: delta / 10 });
  }
  return changes.sort(
    (a, b) =>
      (a.reason === b.reason ? 0 : a.reason === 'new_line' ? -1 : 1) ||
      Math.abs(b.change ?? 0) - Math.abs(a.change ?? 0) ||
      a.player_lookup.localeCompare(b.player_lookup),
  );
}

export interface LineScan {
  schedule: Schedule;
  predicted: PredictedLine[];
  /** Predicted players whose game has started (not checked). */
  startedPlayers: number;
  lines: LineLookup;
  changes: LineChange[];
}

/** Schedule, champion rows and today's lines, then the changes. Skips the line lookup when no game is left to play. */
export async function scanLines(warehouse: Warehouse, gameDate: string, datasetPrefix: string, threshold: number): Promise<LineScan> {
  const schedule = await loadSchedule(warehouse, gameDate, datasetPrefix);
  if (schedule.scheduled.size === 0)
    return { schedule, predicted: [], startedPlayers: 0, lines: { lines: new Map(), missing: new Map() }, changes: [] };
  const predicted = await loadPredictedLines(warehouse, gameDate, datasetPrefix);
  const open = predicted.filter((p) => schedule.scheduled.has(p.game_id));
  const lines = await lookupLines(
    warehouse,
    gameDate,
    datasetPrefix,
    open.map((p) => p.player_lookup),
  );
  return {
    schedule,
    predicted,
    startedPlayers: predicted.length - open.length,
    lines,
    changes: findLineChanges(open, lines.lines, threshold, schedule.scheduled),
  };
}

/** The named players' predicted and current lines (`/line-update`'s dry run), with the same queries. */
export async function describePlayers(
  warehouse: Warehouse,
  gameDate: string,
  datasetPrefix: string,
  players: readonly string[],
): Promise<Array<{ player_lookup: string; predicted_line: number | null; current_line: number | null; sportsbook: string | null }>> {
  const predicted = new Map((await loadPredictedLines(warehouse, gameDate, datasetPrefix)).map((p) => [p.player_lookup, p.line]));
  const { lines } = await lookupLines(warehouse, gameDate, datasetPrefix, players);
  return players.map((p) => ({
    player_lookup: p,
    predicted_line: predicted.get(p) ?? null,
    current_line: lines.get(p) ? tenths((lines.get(p) as FoundLine).line_value) / 10 : null,
    sportsbook: lines.get(p)?.sportsbook ?? null,
  }));
}
