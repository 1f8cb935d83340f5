/**
 * The demo league's past: a daily schedule over the history window (about 7 games a day, each team every ~2 days) and a box
 * score per rostered player per game. Points depend on the player's latent rate and slowly drifting form, his minutes (team
 * minutes sum to 240), the opponent's defence, pace, home court, rest, teammates out, and noise; injuries and coach's
 * decisions make DNPs. Books' lines for each past game are synthesised from what a book could know before tip-off.
 */
import type { FeatureContext, GameLogEntry, LineContext, TeamContext } from './features.js';
import type { League, Player, Team } from './league.js';
import { daysBetween, easternToUtc, Rng } from './random.js';

export interface ScheduledGame {
  gameId: string;
  date: string;
  home: string;
  away: string;
  startUtc: string;
}

export interface TeamState {
  lastGame: string | null;
  wins: number;
  games: number;
}

export interface SimState {
  league: League;
  seed: number;
  teams: Map<string, TeamState>;
  form: Map<string, number>;
  injuredGames: Map<string, number>;
  logs: Map<string, GameLogEntry[]>;
  /** Parallel to logs: the context each game was played in (for training rows). */
  contexts: Map<string, FeatureContext[]>;
  pastGames: ScheduledGame[];
  nextGameNo: number;
}

const START_TIMES: ReadonlyArray<readonly [number, number]> = [
  [19, 0],
  [19, 30],
  [19, 30],
  [20, 0],
  [21, 0],
  [22, 0],
  [22, 30],
];

export const roundHalf = (x: number): number => Math.round(x * 2) / 2;

export function teamContext(team: Team, state: TeamState | undefined): TeamContext {
  const games = state?.games ?? 0;
  return { offRating: team.offRating, defRating: team.defRating, pace: team.pace, winPct: games > 0 ? (state?.wins ?? 0) / games : 0.5 };
}

export function daysRestOf(state: TeamState | undefined, date: string): number {
  if (!state || state.lastGame === null) return 3;
  return Math.min(5, daysBetween(state.lastGame, date) - 1);
}

/** Multiplier on a player's scoring rate from the opponent's defence, the pace, home court and rest. */
export function gameEnvironment(team: Team, opp: Team, home: boolean, daysRest: number): number {
  return (opp.defRating / 113) ** 1.5 * ((team.pace + opp.pace) / 2 / 99.5) * (home ? 1.02 : 0.98) * (daysRest === 0 ? 0.96 : 1);
}

/** What the books hang for a player whose fair line is `line`: an opening line and every book's newest line. */
export function synthLineContext(rng: Rng, line: number): LineContext {
  const opening = Math.max(0.5, line + rng.pick([0, 0, 0, 0.5, -0.5, 1, -1]));
  const books = Array.from({ length: rng.int(2, 5) }, (_, i) => (i === 0 ? line : line + rng.pick([0, 0, 0.5, -0.5])));
  return { current: line, opening, books };
}

/** The last `n` games a player played (DNPs skipped), oldest first: a scan from the end, not a pass over a season. */
export function lastPlayed(log: readonly GameLogEntry[], n: number): GameLogEntry[] {
  const out: GameLogEntry[] = [];
  for (let i = log.length - 1; i >= 0 && out.length < n; i--) {
    const g = log[i] as GameLogEntry;
    if (!g.isDnp) out.push(g);
  }
  return out.reverse();
}

/** A book's fair line: its own projection blended with the last ten games, plus noise, to the half point (5.5 at least). */
export function fairLine(rng: Rng, projection: number, log: readonly GameLogEntry[]): number {
  const played = lastPlayed(log, 10);
  const avg10 = played.length > 0 ? played.reduce((a, g) => a + g.points, 0) / played.length : projection;
  return Math.max(5.5, roundHalf(0.8 * projection + 0.2 * avg10 + rng.normal(0, 1.0)));
}

/** Books hang no points line on a player projected below this. */
export const MIN_PROJECTION = 3.5;

/** Chance that books offer a points prop on a player, by roster slot. */
export function lineCoverage(slot: number): number {
  return slot <= 9 ? 0.98 : slot <= 14 ? 0.92 : 0.6;
}

/** Picks `count` pairs of teams for `date`, preferring rested teams, and records them as scheduled. */
export function scheduleDay(state: SimState, date: string, count: number, rng: Rng): ScheduledGame[] {
  const ranked = state.league.teams
    .map((t) => ({ abbr: t.abbr, key: daysRestOf(state.teams.get(t.abbr), date) + rng.uniform(0, 1.6) }))
    .sort((a, b) => b.key - a.key)
    .slice(0, Math.min(15, count) * 2);
  const chosen = rng.shuffle(ranked.map((r) => r.abbr));
  const games: ScheduledGame[] = [];
  for (let i = 0; i + 1 < chosen.length; i += 2) {
    const [h, m] = rng.pick(START_TIMES);
    games.push({
      gameId: `00225${String(state.nextGameNo++).padStart(5, '0')}`,
      date,
      home: chosen[i] as string,
      away: chosen[i + 1] as string,
      startUtc: easternToUtc(date, h, m).toISOString(),
    });
  }
  return games;
}

/**
 * What was known before a slate game (a past date of the season window): each candidate's latest injury status and the
 * line the books hung (the coordinator's pick). The game is then played consistently with it: an `out` player does not
 * play, a doubtful or questionable one often does not, and the box score carries the slate's line.
 */
export interface PreGameKnowledge {
  status: ReadonlyMap<string, string>;
  lines: ReadonlyMap<string, LineContext | null>;
}

/** Chance that a player with this pre-game status does not play (`out` never plays). */
const DNP_BY_STATUS: Readonly<Record<string, number>> = { out: 1, doubtful: 0.75, questionable: 0.3, probable: 0.05 };

function simulateSide(state: SimState, game: ScheduledGame, side: 'home' | 'away', rng: Rng, known?: PreGameKnowledge): number {
  const { league } = state;
  const abbr = side === 'home' ? game.home : game.away;
  const oppAbbr = side === 'home' ? game.away : game.home;
  const team = league.teams.find((t) => t.abbr === abbr) as Team;
  const opp = league.teams.find((t) => t.abbr === oppAbbr) as Team;
  const roster = league.byTeam.get(abbr) as Player[];
  const daysRest = daysRestOf(state.teams.get(abbr), game.date);
  const oppRest = daysRestOf(state.teams.get(oppAbbr), game.date);
  const dnp = roster.map((p) => {
    const left = state.injuredGames.get(p.lookup) ?? 0;
    if (left > 0) {
      state.injuredGames.set(p.lookup, left - 1);
      return true;
    }
    const status = known?.status.get(p.lookup);
    if (status !== undefined && status in DNP_BY_STATUS) return rng.chance(DNP_BY_STATUS[status] as number);
    if (rng.chance(0.012)) {
      state.injuredGames.set(p.lookup, rng.int(0, 7));
      return true;
    }
    return rng.chance(p.dnpRate);
  });
  const starsOut = roster.filter((p, i) => p.slot <= 2 && dnp[i]).length;
  const expectedTotal = roster.reduce((a, p, i) => a + (dnp[i] ? 0 : p.minutesMean), 0);
  const raw = roster.map((p, i) => (dnp[i] ? 0 : Math.max(2, rng.normal(p.minutesMean * (daysRest === 0 ? 0.95 : 1), 3.5))));
  const rawTotal = raw.reduce((a, b) => a + b, 0);
  const ctxTeam = teamContext(team, state.teams.get(abbr));
  const ctxOpp = teamContext(opp, state.teams.get(oppAbbr));
  const env = gameEnvironment(team, opp, side === 'home', daysRest);
  let teamPoints = 0;
  // eslint-disable-next-line complexity -- one player's simulated game: each stat derives from the previous ones in a fixed order
  roster.forEach((p, i) => {
    const form = state.form.get(p.lookup) ?? 0;
    const boost = p.slot > 2 ? 1 + 0.06 * starsOut : 1;
    const rate = p.ppm * Math.exp(form) * env * boost;
    const log = state.logs.get(p.lookup) as GameLogEntry[];
    let line: number | null = null;
    let lineContext: LineContext | null = null;
    const projection = rate * p.minutesMean * (240 / Math.max(expectedTotal, 1));
    if (known) {
      lineContext = known.lines.get(p.lookup) ?? null;
      line = lineContext?.current ?? null;
    } else if (!dnp[i] && projection >= MIN_PROJECTION && rng.chance(lineCoverage(p.slot))) {
      line = fairLine(rng, projection, log);
    }
    const minutes = dnp[i] ? 0 : Math.min(44, ((raw[i] as number) * 240) / Math.max(rawTotal, 1));
    const expected = rate * minutes;
    const points = dnp[i] ? 0 : Math.max(0, Math.round(rng.normal(expected, 1 + 1.2 * Math.sqrt(expected))));
    teamPoints += points;
    const ctx: FeatureContext = {
      gameDate: game.date,
      opponent: oppAbbr,
      home: side === 'home',
      daysRest,
      opponentDaysRest: oppRest,
      team: ctxTeam,
      opponentTeam: ctxOpp,
      injuryStatus: known
        ? (known.status.get(p.lookup) ?? null)
        : !dnp[i] && rng.chance(0.04)
          ? rng.pick(['probable', 'questionable'])
          : null,
      starTeammatesOut: p.slot <= 2 ? Math.max(0, starsOut - (dnp[i] ? 1 : 0)) : starsOut,
      shot: p.shot,
      line: known ? lineContext : line === null ? null : synthLineContext(rng, line),
    };
    log.push({
      gameDate: game.date,
      gameId: game.gameId,
      team: abbr,
      opponent: oppAbbr,
      home: side === 'home',
      isDnp: dnp[i] === true,
      points,
      minutes: Math.round(minutes * 10) / 10,
      usageRate: dnp[i] ? 0 : Math.round((p.usage + rng.normal(0, 2.5) + starsOut * 1.5) * 10) / 10,
      line,
    });
    (state.contexts.get(p.lookup) as FeatureContext[]).push(ctx);
    state.form.set(p.lookup, 0.93 * form + rng.normal(0, 0.06));
    if (rng.chance(0.004)) p.minutesMean = Math.max(4, Math.min(37, p.minutesMean + rng.pick([-6, 6])));
  });
  return teamPoints;
}

/** A league before its first game: no records, no form, no injuries, empty logs. */
export function newSimState(league: League, seed: number): SimState {
  return {
    league,
    seed,
    teams: new Map(league.teams.map((t) => [t.abbr, { lastGame: null, wins: 0, games: 0 }])),
    form: new Map(league.players.map((p) => [p.lookup, 0])),
    injuredGames: new Map(),
    logs: new Map(league.players.map((p) => [p.lookup, []])),
    contexts: new Map(league.players.map((p) => [p.lookup, []])),
    pastGames: [],
    nextGameNo: 1,
  };
}

/** Plays one game: a box score for every rostered player of both sides, and the teams' records. */
export function playGame(state: SimState, game: ScheduledGame, rng: Rng, known?: PreGameKnowledge): void {
  const homePts = simulateSide(state, game, 'home', rng, known);
  const awayPts = simulateSide(state, game, 'away', rng, known);
  const homeWon = homePts >= awayPts;
  for (const [abbr, won] of [
    [game.home, homeWon],
    [game.away, !homeWon],
  ] as const) {
    const t = state.teams.get(abbr) as TeamState;
    t.games++;
    if (won) t.wins++;
    t.lastGame = game.date;
  }
  state.pastGames.push(game);
}

/** One history day (a date without pre-game data): 4–10 games, scheduled and played. */
export function simulateHistoryDay(state: SimState, date: string): void {
  const rng = Rng.of(state.seed, 'history', date);
  for (const game of scheduleDay(state, date, rng.int(4, 10), rng)) playGame(state, game, rng);
}
