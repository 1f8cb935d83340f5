/**
 * `POST /check-lines` (Cloud Scheduler, hourly while games are upcoming) and `POST /line-update` (named players): re-predict
 * the players whose line appeared or moved, in a new batch through the same dispatch as `/start` (startBatch: lease, gate,
 * publish, consolidation), with purpose `line_check` / `line_update` and run mode LINE_CHECK / LINE_UPDATE.
 *
 * Nothing is superseded here. The new batch's merge supersedes the affected players' active rows inside its own transaction
 * (merge-sql.ts), under the table-wide merge lock: the date never has neither the old rows nor the new ones, and a batch that
 * fails leaves the old rows active. Constant query count whatever the number of players: the scan (≤ 5 queries, see
 * line-changes.ts) plus dispatch's own constant count.
 */
import type { CoordinatorDeps } from '../deps.js';
import { countQueries } from '../dispatch/query-counter.js';
import { resolveGameDate } from '../../../shared/dates/game-date.js';
import { startBatch, type StartOutcome } from '../dispatch/start-batch.js';
import { describePlayers, scanLines, type LineChange } from './line-changes.js';
import { notify } from '../alerts/notify.js';
import { checkLinesAlert } from '../alerts/alerts.js';

/** Players listed in a dry run's answer (the original's first 50). */
export const DRY_RUN_LIST = 50;

export interface CheckLinesRequest {
  gameDate: string | undefined;
  threshold: number;
  dryRun: boolean;
  datasetPrefix: string;
}

interface Found {
  game_date: string;
  new_lines: number;
  line_moves: number;
  total_affected: number;
  players: LineChange[];
  /** Warehouse queries of the scan (dispatch reports its own in the batch summary). */
  scan_queries: number;
}

export type CheckLinesOutcome =
  | { kind: 'invalid'; field: string; message: string }
  | { kind: 'no_games'; game_date: string; scan_queries: number }
  | { kind: 'all_games_started'; game_date: string; games: number; scan_queries: number }
  | ({ kind: 'no_changes'; predicted_players: number; started_players: number } & Found)
  | ({ kind: 'dry_run'; predicted_players: number; started_players: number } & Found)
  | ({ kind: 'started'; start: StartOutcome & { kind: 'started' } } & Found)
  | ({ kind: 'not_started'; start: Exclude<StartOutcome, { kind: 'started' }> } & Found);

export async function checkLines(deps: CoordinatorDeps, req: CheckLinesRequest): Promise<CheckLinesOutcome> {
  const resolved = resolveGameDate(req.gameDate, deps.clock.now());
  if (!resolved.ok) return { kind: 'invalid', field: 'game_date', message: resolved.error };
  const gameDate = resolved.date;
  const counted = countQueries(deps.warehouse);
  const scan = await scanLines(counted.warehouse, gameDate, req.datasetPrefix, req.threshold);
  if (scan.schedule.games === 0) return { kind: 'no_games', game_date: gameDate, scan_queries: counted.count() };
  if (scan.schedule.scheduled.size === 0)
    return { kind: 'all_games_started', game_date: gameDate, games: scan.schedule.games, scan_queries: counted.count() };
  const found: Found = {
    game_date: gameDate,
    new_lines: scan.changes.filter((c) => c.reason === 'new_line').length,
    line_moves: scan.changes.filter((c) => c.reason === 'line_move').length,
    total_affected: scan.changes.length,
    players: scan.changes,
    scan_queries: counted.count(),
  };
  const seen = { predicted_players: scan.predicted.length, started_players: scan.startedPlayers };
  if (scan.changes.length === 0) return { kind: 'no_changes', ...seen, ...found };
  if (req.dryRun) return { kind: 'dry_run', ...seen, ...found };

  const start = await startBatch(deps, {
    gameDateInput: gameDate,
    force: false,
    requestedMode: 'LINE_CHECK',
    runModeLabel: 'LINE_CHECK',
    purpose: 'line_check',
    triggerSource: 'check_lines',
    parentProcessor: null,
    requireRealLines: false,
    useMultipleLines: false,
    datasetPrefix: req.datasetPrefix,
    correlationId: undefined,
    skipCompletenessCheck: true,
    skipPostponementCheck: true,
    playerLookups: scan.changes.map((c) => c.player_lookup),
    supersede: {
      reason: 'line_check',
      metadata: { line_change_threshold: req.threshold, new_lines: found.new_lines, line_moves: found.line_moves },
      requested_at: deps.clock.now().toISOString(),
      audit: null,
    },
  });
  if (start.kind !== 'started') return { kind: 'not_started', start, ...found };
  await notify(
    deps,
    checkLinesAlert({
      batchId: start.batch_id,
      gameDate,
      newLines: found.new_lines,
      lineMoves: found.line_moves,
      published: start.published,
      players: scan.changes,
    }),
  );
  return { kind: 'started', start, ...found };
}

export interface LineUpdateRequest {
  gameDate: string;
  players: string[];
  dryRun: boolean;
  datasetPrefix: string;
}

export type LineUpdateOutcome =
  | { kind: 'invalid'; field: string; message: string }
  | { kind: 'no_players'; game_date: string }
  | { kind: 'dry_run'; game_date: string; players: Awaited<ReturnType<typeof describePlayers>> }
  | { kind: 'started'; game_date: string; players: string[]; start: StartOutcome & { kind: 'started' } }
  | { kind: 'not_started'; game_date: string; players: string[]; start: Exclude<StartOutcome, { kind: 'started' }> };

/** `/line-update`: the named players are re-predicted (LINE_UPDATE), their active rows superseded by the new batch's merge. */
export async function lineUpdate(deps: CoordinatorDeps, req: LineUpdateRequest): Promise<LineUpdateOutcome> {
  const resolved = resolveGameDate(req.gameDate, deps.clock.now());
  if (!resolved.ok) return { kind: 'invalid', field: 'game_date', message: resolved.error };
  const gameDate = resolved.date;
  const players = [...new Set(req.players)];
  if (players.length === 0) return { kind: 'no_players', game_date: gameDate };
  if (req.dryRun)
    return { kind: 'dry_run', game_date: gameDate, players: await describePlayers(deps.warehouse, gameDate, req.datasetPrefix, players) };
  const start = await startBatch(deps, {
    gameDateInput: gameDate,
    force: false,
    requestedMode: 'LINE_UPDATE',
    runModeLabel: 'LINE_UPDATE',
    purpose: 'line_update',
    triggerSource: 'line_update',
    parentProcessor: null,
    requireRealLines: false,
    useMultipleLines: false,
    datasetPrefix: req.datasetPrefix,
    correlationId: undefined,
    skipCompletenessCheck: true,
    skipPostponementCheck: true,
    playerLookups: players,
    supersede: { reason: 'line_update', metadata: { players }, requested_at: deps.clock.now().toISOString(), audit: null },
  });
  return start.kind === 'started'
    ? { kind: 'started', game_date: gameDate, players, start }
    : { kind: 'not_started', game_date: gameDate, players, start };
}
