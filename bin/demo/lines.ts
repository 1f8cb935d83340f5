/**
 * Sportsbook rows for one slate player: OddsAPI points props (lower-case books, 2–5 snapshots each, the line moving half a
 * point between snapshots, now and then a mislabelled sub-5.0 row) and BettingPros props across four markets and both
 * sides (title-case books, older versions inactive). Also works out the line the coordinator's rules would pick, which
 * becomes the context row's current_points_line and the feature store's vegas line.
 */
import type { Row } from '../../shared/ports/warehouse.js';
import type { LineContext } from './features.js';
import type { Player } from './league.js';
import type { Rng } from './random.js';

export const ODDS_BOOKS = ['draftkings', 'fanduel', 'betmgm', 'pointsbet', 'caesars'] as const;
export const EXTRA_ODDS_BOOKS = ['bovada', 'betrivers'] as const;
export const BP_BOOKS = ['DraftKings', 'FanDuel', 'BetMGM', 'Caesars', 'PointsBet', 'BettingPros Consensus'] as const;
const BP_MARKETS = ['points', 'rebounds', 'assists', 'threes'] as const;

/** Books hang no genuine points line below this. */
export const MIN_POINTS_LINE = 5.5;

export type LineCategory = 'odds' | 'bp_only' | 'none' | 'low_only';

export interface LinePlan {
  category: LineCategory;
  /** The player's fair points line (null for none / low_only). */
  fair: number | null;
  /** Also listed on BettingPros (points market) when on OddsAPI. */
  alsoBettingPros: boolean;
  /** Adds one mislabelled OddsAPI row below 5.0 (a rebounds prop), newest snapshot. */
  lowRow: boolean;
  /** Every book's newest line is exactly the fair line (used for the genuine 20.0 line). */
  exact: boolean;
}

export interface PlayerLines {
  odds: Row[];
  bettingPros: Row[];
  /** What the coordinator's batched rules pick, as the store sees it; null when no valid points line exists. */
  line: LineContext | null;
  source: 'odds_api' | 'bettingpros' | 'both' | 'none';
}

interface GameInfo {
  gameId: string;
  date: string;
  startUtc: string;
}

const price = (rng: Rng): number => -100 - 5 * rng.int(0, 6);
const ODDS_RANK = (book: string): number => {
  const i = (ODDS_BOOKS as readonly string[]).indexOf(book);
  return i < 0 ? 99 : i;
};
const BP_RANK = (book: string): number => {
  const i = ['DraftKings', 'FanDuel', 'BetMGM', 'Caesars', 'PointsBet'].indexOf(book);
  return i < 0 ? 99 : i;
};

function oddsBooks(rng: Rng): string[] {
  const books: string[] = rng.chance(0.8) ? rng.sample(ODDS_BOOKS, rng.int(4, 5)) : rng.sample(ODDS_BOOKS, rng.int(1, 2));
  if (rng.chance(0.1)) books.push(rng.pick(EXTRA_ODDS_BOOKS));
  return books;
}

/** Snapshot lines oldest → newest ending at `final`, moving half a point at most between snapshots. */
function snapshotLines(rng: Rng, final: number, count: number): number[] {
  const lines = [final];
  for (let i = 1; i < count; i++)
    lines.unshift(Math.max(MIN_POINTS_LINE, (lines[0] as number) + (rng.chance(0.6) ? rng.pick([0.5, -0.5]) : 0)));
  return lines;
}

// eslint-disable-next-line complexity -- the sportsbook-line generator: one branch per source and per market quirk the demo world reproduces
export function generateLines(rng: Rng, plan: LinePlan, player: Player, game: GameInfo): PlayerLines {
  const start = Date.parse(game.startUtc);
  const odds: Row[] = [];
  const bettingPros: Row[] = [];
  const oddsRow = (book: string, line: number, at: number): Row => ({
    game_id: game.gameId,
    game_date: game.date,
    player_lookup: player.lookup,
    player_name: player.name,
    bookmaker: book,
    points_line: line,
    over_price: price(rng),
    under_price: price(rng),
    snapshot_timestamp: new Date(at).toISOString(),
    minutes_before_tipoff: Math.round((start - at) / 60_000),
  });
  let best: { rank: number; at: number; line: number; opening: number } | null = null;
  const newest: number[] = [];

  if (plan.category === 'odds' && plan.fair !== null) {
    for (const book of oddsBooks(rng)) {
      const final = plan.exact ? plan.fair : Math.max(MIN_POINTS_LINE, plan.fair + rng.pick([0, 0, 0, 0.5, -0.5]));
      const count = rng.int(2, 5);
      const lines = plan.exact ? Array.from({ length: count }, () => final) : snapshotLines(rng, final, count);
      let at = start - rng.int(45, 240) * 60_000 - (count - 1) * 90 * 60_000;
      lines.forEach((line, i) => {
        odds.push(oddsRow(book, line, at));
        const rank = ODDS_RANK(book);
        if (i === lines.length - 1 && (best === null || rank < best.rank)) best = { rank, at, line, opening: lines[0] as number };
        at += rng.int(60, 90) * 60_000;
      });
      newest.push(final);
    }
    if (plan.lowRow) {
      const book = (odds[0]?.bookmaker as string | undefined) ?? 'draftkings';
      odds.push(oddsRow(book, rng.pick([2.5, 3.5, 4.5]), start - 20 * 60_000));
    }
  }
  if (plan.category === 'low_only') {
    for (const book of rng.sample(ODDS_BOOKS, 2)) {
      const final = rng.pick([3.5, 4.5]);
      odds.push(oddsRow(book, final - 0.5 >= 0.5 ? final - 0.5 : final, start - 300 * 60_000));
      odds.push(oddsRow(book, final, start - 120 * 60_000));
    }
  }

  const bpRow = (book: string, market: string, side: string, line: number, active: boolean, createdAt: string): Row => ({
    game_date: game.date,
    player_lookup: player.lookup,
    market_type: market,
    bet_side: side,
    bookmaker: book,
    points_line: line,
    odds_american: price(rng),
    is_active: active,
    created_at: createdAt,
  });
  const onBp = plan.category === 'bp_only' || (plan.category === 'odds' && plan.alsoBettingPros);
  const otherMarketsOnly = plan.category === 'low_only' || (plan.category === 'none' && rng.chance(0.5));
  let bpBest: { rank: number; line: number; opening: number } | null = null;
  if (onBp || otherMarketsOnly) {
    const books = rng.sample(BP_BOOKS, otherMarketsOnly ? rng.int(1, 2) : rng.int(2, 5));
    const at = start - rng.int(180, 480) * 60_000;
    const current = new Date(at).toISOString();
    const earlier = new Date(at - 150 * 60_000).toISOString();
    for (const market of BP_MARKETS) {
      if (market === 'points' && !onBp) continue;
      for (const book of books) {
        const base =
          market === 'points'
            ? (plan.fair as number)
            : Math.floor(market === 'rebounds' ? player.rebounds : market === 'assists' ? player.assists : player.threes) + 0.5;
        const floor = market === 'points' ? MIN_POINTS_LINE : 0.5;
        const line = market === 'points' && !plan.exact ? Math.max(floor, base + rng.pick([0, 0, 0.5, -0.5])) : base;
        const older = rng.chance(0.4) ? Math.max(floor, line + rng.pick([0.5, -0.5, 1])) : null;
        for (const side of ['over', 'under']) {
          if (older !== null) bettingPros.push(bpRow(book, market, side, older, false, earlier));
          bettingPros.push(bpRow(book, market, side, line, true, current));
        }
        if (market === 'points' && (bpBest === null || BP_RANK(book) < bpBest.rank))
          bpBest = { rank: BP_RANK(book), line, opening: older ?? line };
      }
    }
  }

  const picked = best as { line: number; opening: number } | null;
  const bpPicked = bpBest as { line: number; opening: number } | null;
  const hasOdds = picked !== null;
  const hasBp = bpPicked !== null;
  const line: LineContext | null = picked
    ? { current: picked.line, opening: picked.opening, books: newest }
    : bpPicked
      ? { current: bpPicked.line, opening: bpPicked.opening, books: [bpPicked.line] }
      : null;
  const source = hasOdds && hasBp ? 'both' : hasOdds ? 'odds_api' : hasBp ? 'bettingpros' : 'none';
  return { odds, bettingPros, line, source };
}
