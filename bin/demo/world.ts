/**
 * The deterministic synthetic "demo world" (pure, no I/O): a league, its history over `historyDays` days before the first
 * slate date (box scores and final schedule rows), and for each slate date the pre-game data the coordinator reads —
 * candidates, lines from OddsAPI and BettingPros, feature-store rows, a postponement. A slate date before `today` is then
 * played (final schedule rows and box scores consistent with its pre-game statuses and lines; its postponement resolved);
 * today and later dates stay scheduled, their postponement detected. Same options → same rows.
 *
 * `worldDays` yields the world one date at a time (the seeder appends as it goes, so a season never sits in memory);
 * `generateWorld` collects every date. Rows of a date depend only on the options, the first history date and the dates
 * before it (and, for a date after today, on today through the context rows' stamps): generating a longer window, or the
 * same window a day later, leaves every date before the old today unchanged, and the old today's pre-game rows too (it
 * gains its results, and its postponement is resolved). The seeder relies on this to extend a world without touching the
 * dates it already has.
 */
import type { Row } from '../../shared/ports/warehouse.js';
import type { FeatureContext, GameLogEntry } from './features.js';
import { newSimState, playGame, simulateHistoryDay, type ScheduledGame, type SimState } from './history.js';
import { ROSTER_SIZE, buildLeague } from './league.js';
import { addDays, Rng } from './random.js';
import { DEFAULT_CANDIDATES_PER_GAME, generateSlate } from './slate.js';

export const WORLD_TABLE_IDS = [
  'nba_raw.nbac_schedule',
  'nba_analytics.player_game_summary',
  'nba_analytics.upcoming_player_game_context',
  'nba_raw.odds_api_player_points_props',
  'nba_raw.bettingpros_player_points_props',
  'nba_predictions.ml_feature_store_v2',
  'nba_orchestration.game_postponements',
  'nba_raw.nbac_injury_report',
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
  /** YYYY-MM-DD, the days that get pre-game data (those before `today` are also played). */
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
  /**
   * Dates before this one are simulated but yield only their schedule rows (the seeder, extending a world, needs the
   * simulation to reach the new dates and the schedule to check the old ones). Same rows as a full run where they exist.
   */
  lightBefore?: string;
}

export const DEFAULT_SEED = 20_251_122;
export const DEFAULT_GAMES = 11;
export const DEFAULT_HISTORY_DAYS = 120;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** One date of the world, in date order: its rows in every world table (empty arrays where it has none). */
export interface WorldDay {
  kind: 'day';
  date: string;
  /** True for a date with pre-game data (a slate date); false for a history date (games and box scores only). */
  slate: boolean;
  tables: WorldTables;
  /** Slate dates: games and candidates. */
  games: number;
  candidates: number;
}

/** Yielded once, just before the first slate date: every player's history so far (what the demo models train on). */
export interface WindowStart {
  kind: 'window-start';
  date: string;
  history: PlayerHistory[];
}

/** Yielded last: every player's complete history (window dates included). */
export interface WorldEnd {
  kind: 'end';
  history: PlayerHistory[];
}

export type WorldEvent = WorldDay | WindowStart | WorldEnd;

interface ResolvedOptions {
  seed: number;
  games: number;
  historyDays: number;
  slateDates: string[];
  perGame: readonly [number, number];
  today: string;
}

function resolveOptions(opts: WorldOptions): ResolvedOptions {
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
  return { seed, games, historyDays, slateDates, perGame, today: opts.today };
}

const emptyTables = (): WorldTables => ({
  'nba_raw.nbac_schedule': [],
  'nba_analytics.player_game_summary': [],
  'nba_analytics.upcoming_player_game_context': [],
  'nba_raw.odds_api_player_points_props': [],
  'nba_raw.bettingpros_player_points_props': [],
  'nba_predictions.ml_feature_store_v2': [],
  'nba_orchestration.game_postponements': [],
  'nba_raw.nbac_injury_report': [],
});

/** The first history date of a world whose first slate date is `firstSlate`. */
function historyStartOf(firstSlate: string, historyDays = DEFAULT_HISTORY_DAYS): string {
  return addDays(firstSlate, -historyDays);
}

/** The world, one date at a time from the first history date to the last slate date (same options → same events). */
export function* worldDays(opts: WorldOptions): Generator<WorldEvent> {
  const o = resolveOptions(opts);
  const first = o.slateDates[0] as string;
  const last = o.slateDates[o.slateDates.length - 1] as string;
  const league = buildLeague(o.seed);
  const state = newSimState(league, o.seed);
  const slateSet = new Set(o.slateDates);
  const historyOf = (): PlayerHistory[] =>
    league.players.map((p) => ({
      lookup: p.lookup,
      games: [...(state.logs.get(p.lookup) ?? [])],
      contexts: [...(state.contexts.get(p.lookup) ?? [])],
    }));

  for (let date = historyStartOf(first, o.historyDays); date <= last; date = addDays(date, 1)) {
    const tables = emptyTables();
    const played = state.pastGames.length;
    const light = opts.lightBefore !== undefined && date < opts.lightBefore;
    if (!slateSet.has(date)) {
      simulateHistoryDay(state, date);
      finals(state, played, tables, light);
      yield { kind: 'day', date, slate: false, tables, games: 0, candidates: 0 };
      continue;
    }
    if (date === first) yield { kind: 'window-start', date, history: historyOf() };
    const slate = generateSlate(state, date, o.games, o.today, o.perGame, light);
    tables['nba_analytics.upcoming_player_game_context'] = slate.context;
    tables['nba_raw.odds_api_player_points_props'] = slate.odds;
    tables['nba_raw.bettingpros_player_points_props'] = slate.bettingPros;
    tables['nba_predictions.ml_feature_store_v2'] = slate.featureStore;
    tables['nba_orchestration.game_postponements'] = slate.postponements;
    tables['nba_raw.nbac_injury_report'] = slate.injuries;
    if (date < o.today) {
      const rng = Rng.of(o.seed, 'results', date);
      for (const game of slate.games) playGame(state, game, rng, slate.known);
      finals(state, played, tables, light);
    } else {
      tables['nba_raw.nbac_schedule'] = slate.games.map((g) => scheduleRow(g, 1));
      for (const g of slate.games) {
        for (const abbr of [g.home, g.away]) {
          const t = state.teams.get(abbr);
          if (t) t.lastGame = date; // the next slate date sees this one as played for rest purposes
        }
      }
    }
    yield { kind: 'day', date, slate: true, tables, games: slate.games.length, candidates: slate.candidates };
  }
  yield { kind: 'end', history: historyOf() };
}

/** The final schedule rows and (unless `scheduleOnly`) box scores of the games played since `from` (index into pastGames). */
function finals(state: SimState, from: number, tables: WorldTables, scheduleOnly: boolean): void {
  const games = state.pastGames.slice(from);
  tables['nba_raw.nbac_schedule'] = games.map((g) => scheduleRow(g, 3));
  if (scheduleOnly) return;
  const summary = tables['nba_analytics.player_game_summary'];
  for (const game of games) {
    for (const abbr of [game.home, game.away]) {
      for (const player of state.league.byTeam.get(abbr) ?? []) {
        const log = state.logs.get(player.lookup) ?? [];
        const g = log[log.length - 1];
        if (!g || g.gameId !== game.gameId) continue;
        summary.push({
          game_id: g.gameId,
          game_date: g.gameDate,
          player_lookup: player.lookup,
          team_abbr: g.team,
          opponent_team_abbr: g.opponent,
          home_game: g.home,
          points: g.isDnp ? null : g.points,
          minutes_played: g.minutes,
          usage_rate: g.isDnp ? null : g.usageRate,
          is_dnp: g.isDnp,
        });
      }
    }
  }
}

export function generateWorld(opts: WorldOptions): DemoWorld {
  const o = resolveOptions(opts);
  const first = o.slateDates[0] as string;
  const tables = emptyTables();
  const info: DemoWorld['info'] = {
    seed: o.seed,
    slateDates: o.slateDates,
    historyStart: historyStartOf(first, o.historyDays),
    historyEnd: addDays(first, -1),
    games: {},
    candidates: {},
  };
  let history: PlayerHistory[] = [];
  for (const event of worldDays(opts)) {
    if (event.kind === 'end') history = event.history;
    if (event.kind !== 'day') continue;
    for (const id of WORLD_TABLE_IDS) for (const row of event.tables[id]) tables[id].push(row);
    if (event.slate) {
      info.games[event.date] = event.games;
      info.candidates[event.date] = event.candidates;
    }
  }
  return { tables, history, info };
}

const easternClock = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', minute: '2-digit' });

function scheduleRow(g: ScheduledGame, status: 1 | 3): Row {
  const start = new Date(g.startUtc);
  const et = easternClock.format(start);
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
