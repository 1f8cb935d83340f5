/**
 * `lines`: the product's batched line lookup (lookupLines: at most three queries) against the original per-player
 * waterfall (waterfall.ts: up to 10 queries per player), for 50, 365 and 500 players, over ~1.2 M OddsAPI rows and ~0.9 M
 * BettingPros rows (200 game dates × 500 players) in an in-memory DuckDB, without and with a simulated round trip.
 *
 * Players are spread over coverage classes by index (p mod 20) so the waterfall meets what it met in production:
 *  0–11 every OddsAPI book (1 query) · 12–14 no DraftKings anywhere, FanDuel on OddsAPI (3) · 15–16 BettingPros only (2) ·
 *  17 Caesars on OddsAPI only (9) · 18 only lines below 5.0 (10, "lines filtered out") · 19 not offered (10).
 */
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { ALL_TABLES } from '../../shared/contracts/tables.js';
import { addDays } from '../../shared/dates/game-date.js';
import { lookupLines } from '../../services/coordinator/dispatch/line-queries.js';
import { countQueries } from '../../services/coordinator/dispatch/query-counter.js';
import { round, median, timed, type BenchContext, type Benchmark } from './common.js';
import { waterfallLines } from './waterfall.js';

const DAYS = 200;
const PLAYERS_PER_DAY = 500;
const SIZES = [50, 365, 500] as const;
const FIRST_DATE = '2025-10-21';
/** The benchmark's slate: the last generated date. */
const GAME_DATE = addDays(FIRST_DATE, DAYS - 1);

const playerName = (p: number): string => `bench_player_${String(p).padStart(3, '0')}`;

const ODDS_SQL = `
INSERT INTO {{nba_raw.odds_api_player_points_props}}
  (game_id, game_date, player_lookup, player_name, bookmaker, points_line, over_price, under_price, snapshot_timestamp, minutes_before_tipoff)
SELECT 'G' || CAST(d AS VARCHAR) || '_' || CAST(p // 30 AS VARCHAR), CAST(DATE '${FIRST_DATE}' + CAST(d AS INTEGER) AS DATE),
  'bench_player_' || lpad(CAST(p AS VARCHAR), 3, '0'), 'Player ' || CAST(p AS VARCHAR),
  ['draftkings', 'fanduel', 'betmgm', 'pointsbet', 'caesars'][b + 1],
  CASE WHEN p % 20 = 18 THEN 3.5 ELSE 8.5 + (p % 25) + (d % 3) * 0.5 + s * 0.5 END,
  -110, -110,
  CAST(DATE '${FIRST_DATE}' + CAST(d AS INTEGER) AS TIMESTAMP) + to_minutes(CAST(600 + s * 60 AS BIGINT)),
  420 - s * 60
FROM (SELECT i // 7500 AS d, (i % 7500) // 15 AS p, (i % 15) // 3 AS b, i % 3 AS s FROM range(${DAYS * PLAYERS_PER_DAY * 15}) t(i))
WHERE (p % 20 < 12) OR (p % 20 BETWEEN 12 AND 14 AND b <> 0) OR (p % 20 = 17 AND b = 4) OR (p % 20 = 18)`;

const BETTINGPROS_SQL = `
INSERT INTO {{nba_raw.bettingpros_player_points_props}}
  (game_date, player_lookup, market_type, bet_side, bookmaker, points_line, odds_american, is_active, created_at)
SELECT CAST(DATE '${FIRST_DATE}' + CAST(d AS INTEGER) AS DATE), 'bench_player_' || lpad(CAST(p AS VARCHAR), 3, '0'),
  CASE WHEN m = 0 THEN 'points' ELSE 'rebounds' END, 'over',
  ['DraftKings', 'FanDuel', 'BetMGM', 'Caesars', 'PointsBet'][b + 1],
  CASE WHEN m = 0 THEN 8.5 + (p % 25) ELSE 4.5 + (p % 6) END, -115, TRUE,
  CAST(DATE '${FIRST_DATE}' + CAST(d AS INTEGER) AS TIMESTAMP) + to_minutes(CAST(540 + b AS BIGINT))
FROM (SELECT i // 5000 AS d, (i % 5000) // 10 AS p, (i % 10) // 2 AS b, i % 2 AS m FROM range(${DAYS * PLAYERS_PER_DAY * 10}) t(i))
WHERE (p % 20 < 12) OR (p % 20 BETWEEN 12 AND 14 AND b <> 0) OR (p % 20 BETWEEN 15 AND 16) OR (p % 20 IN (17, 18) AND m = 1)`;

async function buildWarehouse(rttMs: number): Promise<{ warehouse: DuckDbWarehouse; oddsRows: number; bpRows: number; seedMs: number }> {
  const t0 = performance.now();
  const warehouse = await DuckDbWarehouse.open({ path: ':memory:', simulatedRoundTripMs: rttMs });
  await warehouse.ensureTables(ALL_TABLES);
  await warehouse.transaction('bench.lines.seed', [
    { name: 'bench.lines.odds', sql: ODDS_SQL },
    { name: 'bench.lines.bettingpros', sql: BETTINGPROS_SQL },
  ]);
  const [counts] = await warehouse.query({
    name: 'bench.lines.count',
    sql: `SELECT (SELECT COUNT(*) FROM {{nba_raw.odds_api_player_points_props}}) AS odds, (SELECT COUNT(*) FROM {{nba_raw.bettingpros_player_points_props}}) AS bp`,
  });
  return { warehouse, oddsRows: Number(counts?.odds ?? 0), bpRows: Number(counts?.bp ?? 0), seedMs: performance.now() - t0 };
}

async function productOnce(
  warehouse: DuckDbWarehouse,
  players: readonly string[],
): Promise<{ ms: number; queries: number; found: number }> {
  const counted = countQueries(warehouse);
  const { ms, value } = await timed(() => lookupLines(counted.warehouse, GAME_DATE, '', players));
  return { ms, queries: counted.count(), found: value.lines.size };
}

export const linesBenchmark: Benchmark = {
  name: 'lines',
  description: 'batched line queries vs the per-player waterfall',
  async run(ctx: BenchContext) {
    const players = Array.from({ length: PLAYERS_PER_DAY }, (_, p) => playerName(p));
    // Waterfall query counts per size, measured without latency; reused for the extrapolated figures.
    const waterfallQueries = new Map<number, number>();

    for (const rtt of [0, ctx.rttMs]) {
      const { warehouse, oddsRows, bpRows, seedMs } = await buildWarehouse(rtt);
      ctx.log(`lines: rtt ${rtt} ms: ${oddsRows} OddsAPI rows, ${bpRows} BettingPros rows generated in ${(seedMs / 1000).toFixed(1)} s`);
      try {
        // Warm-up: the first query on a fresh table pays for loading it.
        await productOnce(warehouse, players.slice(0, 5));
        let perQueryMs: number | null = null;
        for (const n of SIZES) {
          const subset = players.slice(0, n);
          const reps = rtt === 0 ? 5 : 2;
          const runs = [];
          for (let i = 0; i < reps; i++) runs.push(await productOnce(warehouse, subset));
          const product = { ms: median(runs.map((r) => r.ms)), queries: runs[0]?.queries ?? 0, found: runs[0]?.found ?? 0 };

          let wf: { ms: number; queries: number; found: number | null; basis: string };
          if (rtt === 0 || n === SIZES[0]) {
            const { ms, value } = await timed(() => waterfallLines(warehouse, GAME_DATE, subset));
            wf = { ms, queries: value.queries, found: value.found, basis: 'measured' };
            if (rtt === 0) waterfallQueries.set(n, value.queries);
            else perQueryMs = ms / value.queries;
          } else {
            const q = waterfallQueries.get(n) ?? Number.NaN;
            wf = { ms: q * (perQueryMs ?? Number.NaN), queries: q, found: null, basis: 'extrapolated' };
          }
          ctx.log(
            `lines: rtt ${rtt} ms, ${n} players: product ${product.queries} queries ${product.ms.toFixed(1)} ms; waterfall ${wf.queries} queries ${wf.ms.toFixed(0)} ms (${wf.basis})`,
          );
          ctx.emit({
            name: 'lines',
            rtt_ms: rtt,
            players: n,
            odds_rows: oddsRows,
            bettingpros_rows: bpRows,
            product_queries: product.queries,
            product_ms: round(product.ms, 1),
            product_found: product.found,
            waterfall_queries: wf.queries,
            waterfall_ms: round(wf.ms, 0),
            waterfall_found: wf.found,
            waterfall_basis: wf.basis,
            waterfall_ms_per_query: round(wf.ms / wf.queries, 2),
            query_ratio: round(wf.queries / product.queries, 0),
            time_ratio: round(wf.ms / product.ms, 1),
          });
        }
      } finally {
        await warehouse.close();
      }
    }
  },
};
