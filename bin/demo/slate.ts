/**
 * One slate date of the demo world: the day's games, 30–35 candidate players a game with several context versions each,
 * lower-case injury statuses, each player's sportsbook rows, his feature-store row (about 5 % missing) with a realistic
 * spread of quality, and one postponement (detected on today and later dates, resolved on a past date, whose games were all
 * played). What was known before tip-off (statuses, lines) is returned too, so a past date's games can then be played
 * consistently with it.
 */
import type { Row } from '../../shared/ports/warehouse.js';
import { mlFeatureStoreV2 } from '../../shared/contracts/tables.js';
import {
  FEATURE_COUNT,
  FEATURE_NAMES,
  OPTIONAL_FEATURES,
  featureColumn,
  type FeatureName,
} from '../../shared/contracts/feature-contract.js';
import { computeFeatures, type FeatureContext, type FeatureMap, type LineContext } from './features.js';
import {
  daysRestOf,
  fairLine,
  gameEnvironment,
  lastPlayed,
  lineCoverage,
  MIN_PROJECTION,
  scheduleDay,
  teamContext,
  type PreGameKnowledge,
  type ScheduledGame,
  type SimState,
} from './history.js';
import type { Player, Team } from './league.js';
import { generateLines, type LineCategory, type LinePlan } from './lines.js';
import { addDays, easternToUtc, Rng } from './random.js';

export interface SlateRows {
  games: ScheduledGame[];
  context: Row[];
  odds: Row[];
  bettingPros: Row[];
  featureStore: Row[];
  postponements: Row[];
  /** NBA.com injury reports for the date's candidates with a status (nba_raw.nbac_injury_report). */
  injuries: Row[];
  candidates: number;
  known: PreGameKnowledge;
}

/** Store indices that are always NULL (dead features). */
export const DEAD_FEATURES: readonly number[] = [41, 42, 47, 50];
const DEFAULTABLE: readonly FeatureName[] = ['avg_points_vs_opponent', 'star_teammates_out', 'usage_rate_last_5', 'minutes_avg_last_10'];
const EXTRA_STATUSES = ['doubtful', 'questionable', 'probable', 'probable', 'out'] as const;

const round1 = (x: number): number => Math.round(x * 10) / 10;
const FEATURE_COLUMNS: readonly string[] = Array.from({ length: FEATURE_COUNT }, (_, i) => featureColumn(i));
/** 1 at the store indices of DEAD_FEATURES. */
const DEAD = Uint8Array.from({ length: FEATURE_COUNT }, (_, i) => (DEAD_FEATURES.includes(i) ? 1 : 0));
/**
 * A feature-store row with every column of the table (shared/contracts/tables.ts), all null. Each row starts as a copy of
 * it: a fresh object given 55 computed keys becomes a slow dictionary (to fill, and to read back when appended); a copy of
 * this one (built by JSON.parse, which lays it out fast) keeps the fast layout while its values are set.
 */
const FEATURE_ROW: Readonly<Row> = JSON.parse(
  JSON.stringify(Object.fromEntries(mlFeatureStoreV2.columns.map((column) => [column.name, null]))),
) as Row;

/** Candidates per game by default: both rosters minus the deepest bench. */
export const DEFAULT_CANDIDATES_PER_GAME: readonly [number, number] = [30, 35];

/** Candidates of one game: both rosters minus the deepest bench, `perGame` players (min–max, at most both rosters). */
function candidatesOf(state: SimState, game: ScheduledGame, rng: Rng, perGame: readonly [number, number]): Player[] {
  const both = [...(state.league.byTeam.get(game.home) ?? []), ...(state.league.byTeam.get(game.away) ?? [])];
  const keep = rng.int(perGame[0], perGame[1]);
  return both.sort((a, b) => a.slot - b.slot || a.lookup.localeCompare(b.lookup)).slice(0, keep);
}

/** Injury statuses of a game's candidates: at least one out and one questionable, plus 1–3 more. */
function injuries(state: SimState, players: Player[], rng: Rng): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of players) if ((state.injuredGames.get(p.lookup) ?? 0) > 0) out.set(p.lookup, 'out');
  const free = rng.shuffle(players.filter((p) => !out.has(p.lookup)));
  const statuses = ['out', 'questionable', ...rng.sample(EXTRA_STATUSES, rng.int(1, 3))];
  statuses.forEach((s, i) => {
    const p = free[i];
    if (p) out.set(p.lookup, s);
  });
  return out;
}

/**
 * The injury reports behind the statuses (no randomness). The day's report at 11:00 ET carries each status; a player ruled
 * out was listed questionable the evening before, so the latest report wins. One questionable player a game (`lateOut`) is
 * ruled out at 17:00 ET, after the context rows were computed: only the report says so, which is what `/start`'s injury
 * check is for (he is not published), and he does not play (generateSlate marks him out for the simulation).
 */
function injuryReports(
  players: Player[],
  status: Map<string, string>,
  game: ScheduledGame,
  stamp: string,
  lateOut: string | undefined,
): Row[] {
  const report = (p: Player, reportDate: string, hour: number, injuryStatus: string): Row => ({
    report_date: reportDate,
    report_hour: hour,
    game_date: game.date,
    game_id: game.gameId,
    team: p.team,
    player_lookup: p.lookup,
    injury_status: injuryStatus,
    reason: 'Injury/Illness - synthetic',
    reason_category: 'injury',
    processed_at: easternToUtc(reportDate, hour, 5).toISOString(),
  });
  const rows: Row[] = [];
  for (const p of players) {
    const s = status.get(p.lookup);
    if (s === undefined) continue;
    if (s === 'out') rows.push(report(p, addDays(stamp, -1), 17, 'questionable'));
    rows.push(report(p, stamp, 11, s));
    if (p.lookup === lateOut) rows.push(report(p, stamp, 17, 'out'));
  }
  return rows;
}

/** The game's questionable player (the first by name) who is ruled out late; none when the game has none. */
function lateOutOf(players: Player[], status: Map<string, string>): string | undefined {
  return players
    .filter((p) => status.get(p.lookup) === 'questionable')
    .map((p) => p.lookup)
    .sort()[0];
}

/** Line categories for a game: every game has a BettingPros-only and a no-line player; the first game of the date also has
 * a player whose only OddsAPI rows are below 5.0 and one whose genuine line is exactly 20.0. */
function linePlans(
  players: Player[],
  fair: Map<string, number>,
  status: Map<string, string>,
  firstGame: boolean,
  rng: Rng,
): Map<string, LinePlan> {
  const plans = new Map<string, LinePlan>();
  const healthy = rng.shuffle(players.filter((p) => status.get(p.lookup) !== 'out' && (fair.get(p.lookup) ?? 0) > 0));
  const forced: Array<[(p: Player) => boolean, LineCategory, boolean]> = [
    [(p) => p.slot >= 3, 'bp_only', false],
    [(p) => p.slot >= 5 && p.slot <= 12, 'none', false],
  ];
  if (firstGame) forced.push([(p) => p.slot >= 9, 'low_only', false], [(p) => p.slot <= 2, 'odds', true]);
  for (const [fits, category, exact] of forced) {
    const p = healthy.find((q) => fits(q) && !plans.has(q.lookup));
    if (!p) continue;
    plans.set(p.lookup, {
      category,
      fair: exact ? 20 : (fair.get(p.lookup) ?? null),
      alsoBettingPros: rng.chance(0.5),
      lowRow: false,
      exact,
    });
  }
  for (const p of players) {
    if (plans.has(p.lookup)) continue;
    const f = fair.get(p.lookup) ?? 0;
    let category: LineCategory = 'none';
    if (status.get(p.lookup) !== 'out' && f > 0) {
      category = rng.chance(lineCoverage(p.slot)) ? 'odds' : rng.chance(0.6) ? 'bp_only' : 'none';
    }
    plans.set(p.lookup, {
      category,
      fair: category === 'none' ? null : f,
      alsoBettingPros: rng.chance(0.55),
      lowRow: category === 'odds' && rng.chance(0.04),
      exact: false,
    });
  }
  return plans;
}

function qualityFields(rng: Rng, values: FeatureMap): Row {
  const nulls: number[] = [];
  if (rng.chance(0.05)) for (const name of rng.sample(DEFAULTABLE, rng.int(1, 2))) delete values[name];
  for (let i = 0; i < FEATURE_COUNT; i++) if (values[FEATURE_NAMES[i] as FeatureName] === undefined && DEAD[i] === 0) nulls.push(i);
  const required = nulls.filter((i) => !OPTIONAL_FEATURES.has(FEATURE_NAMES[i] as FeatureName)).length;
  const r = rng.next();
  const score = r < 0.74 ? rng.uniform(85, 98) : r < 0.93 ? rng.uniform(70, 85) : rng.uniform(40, 70);
  const alert = score < 55 || rng.chance(0.02) ? 'red' : score < 85 || required > 0 ? 'yellow' : 'green';
  const hasLine = values.vegas_points_line !== undefined;
  return {
    feature_quality_score: Math.round(score * 100) / 100,
    is_quality_ready: score >= 70 && alert !== 'red' && required === 0,
    quality_tier: score >= 95 ? 'gold' : score >= 85 ? 'silver' : score >= 70 ? 'bronze' : 'poor',
    quality_alert_level: alert,
    matchup_quality_pct: round1(rng.chance(0.95) ? rng.uniform(80, 100) : rng.uniform(20, 50)),
    player_history_quality_pct: round1(values.points_avg_last_10 === undefined ? 0 : rng.uniform(85, 100)),
    vegas_quality_pct: hasLine ? 100 : 0,
    game_context_quality_pct: round1(rng.uniform(90, 100)),
    default_feature_count: nulls.length,
    required_default_count: required,
    default_feature_indices: nulls,
  };
}

/**
 * `light`: only what the simulation needs from the date (its games, statuses and lines) — no rows. Context and feature rows
 * draw from their own stream, so skipping them leaves everything else exactly as a full generation makes it.
 */
export function generateSlate(
  state: SimState,
  date: string,
  gameCount: number,
  today: string,
  perGame: readonly [number, number] = DEFAULT_CANDIDATES_PER_GAME,
  light = false,
): SlateRows {
  const rng = Rng.of(state.seed, 'slate', date);
  const rowRng = Rng.of(state.seed, 'slate-rows', date);
  const games = scheduleDay(state, date, gameCount, rng);
  const status = new Map<string, string>();
  const lineOf = new Map<string, LineContext | null>();
  const rows: SlateRows = {
    games,
    context: [],
    odds: [],
    bettingPros: [],
    featureStore: [],
    postponements: [],
    injuries: [],
    candidates: 0,
    known: { status, lines: lineOf },
  };
  const stamp = date <= today ? date : today;
  const versionTimes = [easternToUtc(stamp, 9, 0), easternToUtc(stamp, 11, 30), easternToUtc(stamp, 14, 0)].map((t) => t.toISOString());
  const featureStamp = easternToUtc(stamp, 10, 0).toISOString();
  const teamOf = (abbr: string): Team => state.league.teams.find((t) => t.abbr === abbr) as Team;

  // eslint-disable-next-line complexity -- one game of the slate: each player's context, lines, features and rows (light mode skips the rows), in one pass
  games.forEach((game, gi) => {
    const players = candidatesOf(state, game, rng, perGame);
    rows.candidates += players.length;
    for (const [lookup, s] of injuries(state, players, rng)) status.set(lookup, s);
    const fair = new Map<string, number>();
    const ctxOf = new Map<string, Omit<FeatureContext, 'line'>>();
    for (const p of players) {
      const home = p.team === game.home;
      const oppAbbr = home ? game.away : game.home;
      const daysRest = daysRestOf(state.teams.get(p.team), date);
      const env = gameEnvironment(teamOf(p.team), teamOf(oppAbbr), home, daysRest);
      const log = state.logs.get(p.lookup) ?? [];
      const available = (state.league.byTeam.get(p.team) ?? []).filter((q) => status.get(q.lookup) !== 'out');
      const teamMinutes = available.reduce((a, q) => a + q.minutesMean * (1 - q.dnpRate), 0);
      const projection = p.ppm * Math.exp(state.form.get(p.lookup) ?? 0) * env * p.minutesMean * (240 / Math.max(teamMinutes, 1));
      fair.set(p.lookup, projection >= MIN_PROJECTION ? fairLine(rng, projection, log) : 0);
      const starsOut = players.filter((q) => q.team === p.team && q.slot <= 2 && q !== p && status.get(q.lookup) === 'out').length;
      ctxOf.set(p.lookup, {
        gameDate: date,
        opponent: oppAbbr,
        home,
        daysRest,
        opponentDaysRest: daysRestOf(state.teams.get(oppAbbr), date),
        team: teamContext(teamOf(p.team), state.teams.get(p.team)),
        opponentTeam: teamContext(teamOf(oppAbbr), state.teams.get(oppAbbr)),
        injuryStatus: status.get(p.lookup) ?? null,
        starTeammatesOut: starsOut,
        shot: p.shot,
      });
    }
    const plans = linePlans(players, fair, status, gi === 0, rng);
    const lateOut = lateOutOf(players, status);
    if (!light) rows.injuries.push(...injuryReports(players, status, game, stamp, lateOut));
    for (const p of players) {
      const lines = generateLines(rng, plans.get(p.lookup) as LinePlan, p, game);
      lineOf.set(p.lookup, lines.line);
      if (light) continue;
      rows.odds.push(...lines.odds);
      rows.bettingPros.push(...lines.bettingPros);
      const ctx: FeatureContext = { ...(ctxOf.get(p.lookup) as Omit<FeatureContext, 'line'>), line: lines.line };
      const log = state.logs.get(p.lookup) ?? [];
      const played = lastPlayed(log, 10);
      const last = (n: number): number | null => {
        const xs = played.slice(-n).map((g) => g.points);
        return xs.length === 0 ? null : round1(xs.reduce((a, b) => a + b, 0) / xs.length);
      };
      const last7 = log.slice(-7).filter((g) => !g.isDnp);
      const ready = rowRng.chance(0.93);
      const versions = rowRng.int(1, 3);
      for (let v = 0; v < versions; v++) {
        const latest = v === versions - 1;
        const earlyStatus = status.get(p.lookup) === 'out' ? 'questionable' : rowRng.chance(0.05) ? 'out' : (status.get(p.lookup) ?? null);
        rows.context.push({
          player_lookup: p.lookup,
          universal_player_id: p.universalId,
          game_id: game.gameId,
          game_date: date,
          team_abbr: p.team,
          opponent_team_abbr: ctx.opponent,
          home_game: ctx.home,
          days_rest: ctx.daysRest,
          back_to_back: ctx.daysRest === 0,
          avg_minutes_per_game_last_7: round1(last7.length === 0 ? 0 : last7.reduce((a, g) => a + g.minutes, 0) / last7.length),
          player_status: latest ? ctx.injuryStatus : earlyStatus,
          has_prop_line: lines.line !== null,
          current_points_line: lines.line === null ? null : latest ? lines.line.current : lines.line.opening,
          is_production_ready: latest ? ready : rowRng.chance(0.8),
          completeness_percentage: round1(ready ? rowRng.uniform(88, 100) : rowRng.uniform(55, 85)),
          points_avg_last_5: last(5),
          points_avg_last_10: last(10),
          l10_games_used: Math.min(10, played.length),
          created_at: versionTimes[3 - versions + v] as string,
        });
      }
      if (rowRng.chance(0.05)) continue; // about 5 % of candidates have no feature row
      const values = computeFeatures(log, ctx);
      const fs: Row = { ...FEATURE_ROW };
      fs.player_lookup = p.lookup;
      fs.game_date = date;
      fs.game_id = game.gameId;
      fs.feature_version = 'v2_54features';
      const quality = qualityFields(rowRng, values);
      for (let i = 0; i < FEATURE_COUNT; i++) {
        const v = values[FEATURE_NAMES[i] as FeatureName];
        fs[FEATURE_COLUMNS[i] as string] = v !== undefined && DEAD[i] === 0 ? v : null;
      }
      Object.assign(fs, quality);
      fs.vegas_line_source = lines.source;
      fs.days_rest = ctx.daysRest;
      fs.is_production_ready = ready;
      fs.completeness_percentage = round1(rowRng.uniform(85, 100));
      fs.data_source = 'phase4';
      fs.created_at = featureStamp;
      rows.featureStore.push(fs);
    }
    // Ruled out after the context rows were computed (injuryReports): he does not play.
    if (lateOut !== undefined) status.set(lateOut, 'out');
  });
  // Detected on the morning of the date; on a past date it was resolved (every game of a past date was played).
  const postponed = games[games.length - 1];
  if (postponed && !light) {
    rows.postponements.push({
      game_id: postponed.gameId,
      original_date: date,
      new_date: null,
      reason: 'Arena maintenance (synthetic)',
      status: date < today ? 'resolved' : 'detected',
      detection_details: JSON.stringify({
        matchup: `${postponed.away} @ ${postponed.home}`,
        source: 'demo-world',
        anomaly: 'GAME_RESCHEDULED',
      }),
      detected_at: easternToUtc(stamp, 8, 0).toISOString(),
    });
  }
  return rows;
}
