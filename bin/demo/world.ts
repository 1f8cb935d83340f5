/**
 * The deterministic synthetic "demo world" (pure, no I/O): a league, its history over `historyDays` days before the first
 * slate date (box scores and final schedule rows), and for each slate date the pre-game data the coordinator reads —
 * candidates, lines from OddsAPI and BettingPros, feature-store rows, a detected postponement. Same options → same rows.
 */
import type { Row } from '../../shared/ports/warehouse.js';
import type { FeatureContext, GameLogEntry } from './features.js';
import { simulateHistory, type ScheduledGame } from './history.js';
import { ROSTER_SIZE, buildLeague } from './league.js';
import { addDays } from './random.js';
import { DEFAULT_CANDIDATES_PER_GAME, generateSlate } from './slate.js';

export const WORLD_TABLE_IDS = [
  'nba_raw.nbac_schedule',
  'nba_analytics.player_game_summary',
  'nba_analytics.upcoming_player_game_context',
  'nba_raw.odds_api_player_points_props',
  'nba_raw.bettingpros_player_points_props',
  'nba_predictions.ml_feature_store_v2',
  'nba_orchestration.game_postponements',
] as const;

export type WorldTableId = (typeof WORLD_TABLE_IDS)[number];

/** Rows per table id (`dataset.table`), every column named as in shared/contracts/tables.ts. */
export type WorldTables = Record<WorldTableId, Row[]>;

/** One player's history: every scheduled game (DNPs included) and the context it was played in, in date order. */
export interface PlayerHistory {
  lookup: string;
  games: GameLogEntry[];
  contexts: FeatureContext[];
}

export interface DemoWorld {
  tables: WorldTables;
  /** Per-player history, for the demo trainer (same data as player_game_summary, plus each game's context). */
  history: PlayerHistory[];
  info: {
    seed: number;
    slateDates: string[];
    historyStart: string;
    historyEnd: string;
    /** Slate games per date. */
    games: Record<string, number>;
    /** Slate candidates (distinct players with context rows) per date. */
    candidates: Record<string, number>;
  };
}

export interface WorldOptions {
  /** YYYY-MM-DD, the days that get pre-game data. */
  slateDates: string[];
  /** YYYY-MM-DD (America/New_York); context rows for later slate dates are stamped today. */
  today: string;
  /** Games per slate date (1–15), default 11. */
  games?: number;
  seed?: number;
  /** Days of history before the first slate date, default 120. */
  historyDays?: number;
  /** Candidate players per game, min–max (default 30–35; at most both rosters, 2 × ROSTER_SIZE). */
  candidatesPerGame?: readonly [number, number];
}

export const DEFAULT_SEED = 20_251_122;
export const DEFAULT_GAMES = 11;
export const DEFAULT_HISTORY_DAYS = 120;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function generateWorld(opts: WorldOptions): DemoWorld {
  const seed = opts.seed ?? DEFAULT_SEED;
  const games = opts.games ?? DEFAULT_GAMES;
  const historyDays = opts.historyDays ?? DEFAULT_HISTORY_DAYS;
  const slateDates = [...new Set(opts.slateDates)].sort();
  if (slateDates.length === 0) throw new Error('generateWorld: slateDates is empty');
  for (const d of [...slateDates, opts.today]) if (!DATE.test(d)) throw new Error(`generateWorld: invalid date '${d}'`);
  if (!Number.isInteger(games) || games < 1 || games > 15) throw new Error(`generateWorld: games must be 1–15, got ${games}`);
  if (!Number.isInteger(historyDays) || historyDays < 14) throw new Error(`generateWorld: historyDays must be ≥ 14, got ${historyDays}`);
  const perGame = opts.candidatesPerGame ?? DEFAULT_CANDIDATES_PER_GAME;
  if (!perGame.every(Number.isInteger) || perGame[0] < 1 || perGame[0] > perGame[1] || perGame[1] > 2 * ROSTER_SIZE) {
    throw new Error(`generateWorld: candidatesPerGame must be integers 1 ≤ min ≤ max ≤ ${2 * ROSTER_SIZE}, got ${perGame.join('–')}`);
  }

  const first = slateDates[0] as string;
  const historyStart = addDays(first, -historyDays);
  const historyEnd = addDays(first, -1);
  const league = buildLeague(seed);
  const state = simulateHistory(league, seed, historyStart, historyEnd);

  const tables: WorldTables = {
    'nba_raw.nbac_schedule': state.pastGames.map((g) => scheduleRow(g, 3)),
    'nba_analytics.player_game_summary': [],
    'nba_analytics.upcoming_player_game_context': [],
    'nba_raw.odds_api_player_points_props': [],
    'nba_raw.bettingpros_player_points_props': [],
    'nba_predictions.ml_feature_store_v2': [],
    'nba_orchestration.game_postponements': [],
  };
  const summary = tables['nba_analytics.player_game_summary'];
  for (const player of league.players) {
    for (const g of state.logs.get(player.lookup) ?? []) {
      summary.push({
        game_id: g.gameId, game_date: g.gameDate, player_lookup: player.lookup, team_abbr: g.team, opponent_team_abbr: g.opponent,
        home_game: g.home, points: g.isDnp ? null : g.points, minutes_played: g.minutes, usage_rate: g.isDnp ? null : g.usageRate, is_dnp: g.isDnp,
      });
    }
  }
  const history: PlayerHistory[] = league.players.map((p) => ({
    lookup: p.lookup,
    games: [...(state.logs.get(p.lookup) ?? [])],
    contexts: [...(state.contexts.get(p.lookup) ?? [])],
  }));

  const info: DemoWorld['info'] = { seed, slateDates, historyStart, historyEnd, games: {}, candidates: {} };
  for (const date of slateDates) {
    const slate = generateSlate(state, date, games, opts.today, perGame);
    tables['nba_raw.nbac_schedule'].push(...slate.games.map((g) => scheduleRow(g, 1)));
    tables['nba_analytics.upcoming_player_game_context'].push(...slate.context);
    tables['nba_raw.odds_api_player_points_props'].push(...slate.odds);
    tables['nba_raw.bettingpros_player_points_props'].push(...slate.bettingPros);
    tables['nba_predictions.ml_feature_store_v2'].push(...slate.featureStore);
    tables['nba_orchestration.game_postponements'].push(...slate.postponements);
    for (const g of slate.games) {
      for (const abbr of [g.home, g.away]) {
        const t = state.teams.get(abbr);
        if (t) t.lastGame = date; // the next slate date sees this one as played for rest purposes
      }
    }
    info.games[date] = slate.games.length;
    info.candidates[date] = slate.candidates;
  }
  return { tables, history, info };
}

function scheduleRow(g: ScheduledGame, status: 1 | 3): Row {
  const start = new Date(g.startUtc);
  const et = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', minute: '2-digit' }).format(start);
  return {
    game_id: g.gameId,
    game_date: g.date,
    game_status: status,
    game_status_text: status === 3 ? 'Final' : `${et.toLowerCase()} ET`,
    home_team_tricode: g.home,
    away_team_tricode: g.away,
    game_start_time: g.startUtc,
  };
}
