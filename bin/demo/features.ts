/**
 * The demo feature store's one feature function: the 55 feature values of a player for a game, computed from the player's
 * box-score history before that game and the game's context. The world generator uses it for the slate's
 * ml_feature_store_v2 rows and the demo trainer for every historical player-game, so training and serving see the same
 * definitions. Absent keys mean "no real value" (a NULL column): always for the dead features 41, 42, 47 and 50, and for the
 * vegas-derived features when the player has no line.
 */
import type { FeatureName } from '../../shared/contracts/feature-contract.js';
import { daysBetween } from './random.js';

/** One scheduled game of a player, in date order; DNP games carry zero points and minutes. */
export interface GameLogEntry {
  gameDate: string;
  gameId: string;
  team: string;
  opponent: string;
  home: boolean;
  isDnp: boolean;
  points: number;
  minutes: number;
  usageRate: number;
  /** The synthetic points line books hung on this game, or null when the player had none. */
  line: number | null;
}

export interface TeamContext {
  offRating: number;
  defRating: number;
  pace: number;
  winPct: number;
}

export interface ShotProfile {
  paint: number;
  midRange: number;
  three: number;
  freeThrow: number;
}

export interface LineContext {
  /** The line now (the best book's newest snapshot). */
  current: number;
  /** The same book's first snapshot. */
  opening: number;
  /** Every book's newest line, for the spread between books. */
  books: readonly number[];
}

export interface FeatureContext {
  gameDate: string;
  opponent: string;
  home: boolean;
  daysRest: number;
  opponentDaysRest: number;
  team: TeamContext;
  opponentTeam: TeamContext;
  /** Lower-case injury status or null. */
  injuryStatus: string | null;
  starTeammatesOut: number;
  shot: ShotProfile;
  line: LineContext | null;
}

export type FeatureMap = Partial<Record<FeatureName, number>>;

/**
 * Scratch columns of the played games (points, minutes, usage) of the history being featurised: computeFeatures is called
 * for every past player-game when the demo models are trained, so it reuses these instead of allocating arrays per call.
 * The helpers below sum a range of them from its first element, starting at 0, as `xs.reduce((a, b) => a + b, 0)` over
 * the same values would: every result is the same to the bit.
 */
let pts = new Float64Array(256);
let mins = new Float64Array(256);
let usage = new Float64Array(256);

function ensureScratch(n: number): void {
  if (n <= pts.length) return;
  const size = Math.max(n, 2 * pts.length);
  pts = new Float64Array(size);
  mins = new Float64Array(size);
  usage = new Float64Array(size);
}

/** Mean of xs[from, to) (0 when empty). */
function mean(xs: Float64Array, from: number, to: number): number {
  if (to <= from) return 0;
  let sum = 0;
  for (let i = from; i < to; i++) sum += xs[i] as number;
  return sum / (to - from);
}

/** Sample standard deviation of xs[from, to) (0 below two values). */
function std(xs: Float64Array, from: number, to: number): number {
  const n = to - from;
  if (n < 2) return 0;
  const m = mean(xs, from, to);
  let acc = 0;
  for (let i = from; i < to; i++) acc += ((xs[i] as number) - m) * ((xs[i] as number) - m);
  return Math.sqrt(acc / (n - 1));
}

/** Least-squares slope of xs[from, to) against 0..n-1 (oldest first). */
function slope(xs: Float64Array, from: number, to: number): number {
  const n = to - from;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = mean(xs, from, to);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - mx) * ((xs[from + i] as number) - my);
    den += (i - mx) * (i - mx);
  }
  return num / den;
}

const POW10 = [1, 10, 100, 1000, 10_000] as const;
const round = (x: number, dp: 1 | 2 | 3 | 4 = 3): number => {
  const f = POW10[dp];
  return Math.round(x * f) / f;
};

const INJURY_RISK: Readonly<Record<string, number>> = { probable: 1, questionable: 2, doubtful: 3, out: 4 };

/**
 * The feature values of a player for one game. `history` is the player's games strictly before `context.gameDate`, oldest
 * first (DNP entries included) — its first `end` entries when `end` is given (the trainer walks a season-long log without
 * copying its prefixes); with no played game the base features are absent (the caller records them as defaults).
 */
// eslint-disable-next-line complexity -- one pass over a player's game log computing every feature; splitting it would walk the log once per feature
export function computeFeatures(history: readonly GameLogEntry[], context: FeatureContext, end = history.length): FeatureMap {
  // One pass over a possibly season-long log into the scratch columns; the sums are accumulated in log order.
  ensureScratch(end);
  let n = 0;
  let usageSum = 0;
  let vsOppSum = 0;
  let vsOppCount = 0;
  let lastPlayed = -1;
  for (let i = 0; i < end; i++) {
    const g = history[i] as GameLogEntry;
    if (g.isDnp) continue;
    pts[n] = g.points;
    mins[n] = g.minutes;
    usage[n] = g.usageRate;
    n++;
    lastPlayed = i;
    usageSum += g.usageRate;
    if (g.opponent === context.opponent) {
      vsOppSum += g.points;
      vsOppCount++;
    }
  }
  const from = (k: number): number => Math.max(0, n - k);
  const f: FeatureMap = {};
  const d = context.gameDate;
  // Games are in date order: the last 7 days are a suffix of the played games (scanning it alone keeps a long log cheap).
  let inLast7 = 0;
  let since7 = end;
  for (let i = lastPlayed; i >= 0; i--) {
    const g = history[i] as GameLogEntry;
    if (g.isDnp) continue;
    if (daysBetween(g.gameDate, d) > 7) break;
    inLast7++;
    since7 = i;
  }
  let minutesLoad7 = 0;
  for (let i = since7; i < end; i++) {
    const g = history[i] as GameLogEntry;
    if (!g.isDnp) minutesLoad7 += g.minutes;
  }
  const b2b = context.daysRest <= 0;

  if (n > 0) {
    const season = mean(pts, 0, n);
    const seasonStd = std(pts, 0, n);
    const avg3 = mean(pts, from(3), n);
    const avg5 = mean(pts, from(5), n);
    const avg10 = mean(pts, from(10), n);
    const min10 = mean(mins, from(10), n);
    const usage5 = mean(usage, from(5), n);
    const usage3 = mean(usage, from(3), n);
    const usageSeason = usageSum / n;
    f.points_avg_last_5 = round(avg5, 2);
    f.points_avg_last_10 = round(avg10, 2);
    f.points_avg_season = round(season, 2);
    f.points_std_last_10 = round(std(pts, from(10), n), 3);
    f.recent_trend = round(avg5 - avg10, 3);
    f.minutes_change = round(mean(mins, from(5), n) - min10, 3);
    f.usage_spike_score = round(usage3 - usageSeason, 3);
    f.avg_points_vs_opponent = round(vsOppCount > 0 ? vsOppSum / vsOppCount : season, 2);
    f.games_vs_opponent = vsOppCount;
    f.minutes_avg_last_10 = round(min10, 2);
    f.ppm_avg_last_10 = round(min10 > 0 ? avg10 / min10 : 0, 4);
    f.pts_slope_10g = round(slope(pts, from(10), n), 4);
    f.pts_vs_season_zscore = round(seasonStd > 0 ? (avg5 - season) / seasonStd : 0, 4);
    f.breakout_flag = (pts[n - 1] as number) > season + 1.5 * seasonStd && seasonStd > 0 ? 1 : 0;
    f.points_avg_last_3 = round(avg3, 2);
    f.scoring_trend_slope = round(slope(pts, from(5), n), 4);
    f.deviation_from_avg_last3 = round(avg3 - season, 3);
    let below = 0;
    for (let i = n - 1; i >= 0 && (pts[i] as number) < season; i--) below++;
    f.consecutive_games_below_avg = below;
    f.usage_rate_last_5 = round(usage5, 2);
    f.games_since_structural_change = gamesSinceStructuralChange(mins, n);
  }

  const recent = Math.min(10, end);
  let recentDnp = 0;
  for (let i = end - recent; i < end; i++) if ((history[i] as GameLogEntry).isDnp) recentDnp++;
  f.dnp_rate = round(recent > 0 ? recentDnp / recent : 0, 3);
  f.games_in_last_7_days = inLast7;
  f.fatigue_score = round(Math.max(0, Math.min(100, 100 - minutesLoad7 / 2.5 - (b2b ? 12 : 0) - inLast7 * 3)), 1);
  f.shot_zone_mismatch_score = round((context.shot.paint - 0.35) * (context.opponentTeam.defRating - 113) * 2, 3);
  f.pace_score = round((context.team.pace + context.opponentTeam.pace) / 2 - 99, 2);
  f.rest_advantage = Math.max(-3, Math.min(3, context.daysRest - context.opponentDaysRest));
  f.injury_risk = context.injuryStatus === null ? 0 : (INJURY_RISK[context.injuryStatus] ?? 0);
  f.opponent_def_rating = round(context.opponentTeam.defRating, 2);
  f.opponent_pace = round(context.opponentTeam.pace, 2);
  f.home_away = context.home ? 1 : 0;
  f.back_to_back = b2b ? 1 : 0;
  f.playoff_game = 0;
  f.pct_paint = round(context.shot.paint, 3);
  f.pct_mid_range = round(context.shot.midRange, 3);
  f.pct_three = round(context.shot.three, 3);
  f.pct_free_throw = round(context.shot.freeThrow, 3);
  f.team_pace = round(context.team.pace, 2);
  f.team_off_rating = round(context.team.offRating, 2);
  f.team_win_pct = round(context.team.winPct, 3);
  f.star_teammates_out = context.starTeammatesOut;
  const pace = (context.team.pace + context.opponentTeam.pace) / 2;
  f.game_total_line = Math.round(((context.team.offRating + context.opponentTeam.offRating) * pace) / 100) + 0.5;
  f.days_rest = context.daysRest;
  f.minutes_load_last_7d = round(minutesLoad7, 1);

  const line = context.line;
  f.has_vegas_line = line === null ? 0 : 1;
  if (line !== null) {
    f.vegas_points_line = line.current;
    f.vegas_opening_line = line.opening;
    f.vegas_line_move = round(line.current - line.opening, 1);
    f.prop_over_streak = streak(history, end, true);
    f.prop_under_streak = streak(history, end, false);
    if (f.points_avg_season !== undefined) f.line_vs_season_avg = round(line.current - f.points_avg_season, 2);
    let previous: GameLogEntry | undefined;
    for (let i = end - 1; i >= 0 && previous === undefined; i--) {
      const g = history[i] as GameLogEntry;
      if (!g.isDnp && g.line !== null) previous = g;
    }
    f.prop_line_delta = previous === undefined ? 0 : round(line.current - (previous.line as number), 1);
  }
  return f;
}

/** Consecutive played games with a line, newest first, over (`over`) or under theirs (games without a line are skipped). */
function streak(history: readonly GameLogEntry[], end: number, over: boolean): number {
  let n = 0;
  for (let i = end - 1; i >= 0; i--) {
    const g = history[i] as GameLogEntry;
    if (g.isDnp || g.line === null) continue;
    if (!(over ? g.points > g.line : g.points < g.line)) break;
    n++;
  }
  return n;
}

/** Games since the player's minutes last jumped by 10+ against his running average (capped at 30). */
function gamesSinceStructuralChange(mins: Float64Array, n: number): number {
  let sum = 0;
  let since = 0;
  for (let i = 0; i < n; i++) {
    const m = mins[i] as number;
    if (i >= 5 && Math.abs(m - sum / i) >= 10) since = 0;
    else since++;
    sum += m;
  }
  return Math.min(30, since);
}
