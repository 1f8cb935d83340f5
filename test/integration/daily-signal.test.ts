/**
 * The daily signal through its table: active prediction rows written by hand, the signal computed, the rows read back. The
 * colours are checked at each boundary of the rule (RED: slate ≤ 4 games or pct over < 25; YELLOW: high-edge < 3 or pct over
 * > 45; else GREEN), with the expected colour written out per case, never computed by the code under test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { ALL_TABLES } from '../../shared/contracts/tables.js';
import { computeDailySignals, signalOf } from '../../services/coordinator/signals/daily-signal.js';
import type { Row } from '../../shared/ports/warehouse.js';

const DATE = '2026-03-10';
let wh: DuckDbWarehouse | undefined;
afterEach(async () => {
  await wh?.close();
  wh = undefined;
});

async function world(games: number): Promise<DuckDbWarehouse> {
  const w = await DuckDbWarehouse.open({ path: ':memory:' });
  await w.ensureTables(ALL_TABLES);
  await w.insert({
    name: 'schedule',
    table: 'nba_raw.nbac_schedule',
    rows: Array.from({ length: games }, (_, g) => ({ game_id: `G${g}`, game_date: DATE, game_status: 1 })),
  });
  return w;
}

/**
 * `n` active lined rows for `system`: the first `overs` recommend OVER, the rest UNDER; the first `highEdge` have an edge of
 * exactly 5.0 (the boundary), the others 4.9.
 */
function rows(system: string, n: number, overs: number, highEdge: number, extra: Partial<Row> = {}): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    prediction_id: `${system}-${i}`,
    system_id: system,
    player_lookup: `p${i}`,
    game_date: DATE,
    game_id: `G${i % 3}`,
    predicted_points: i < highEdge ? 25 : 24.9,
    current_points_line: 20,
    confidence_score: 70,
    recommendation: i < overs ? 'OVER' : 'UNDER',
    is_active: true,
    created_at: `${DATE}T12:00:00Z`,
    ...extra,
  }));
}

async function signals(w: DuckDbWarehouse): Promise<Record<string, Record<string, unknown>>> {
  const found = await w.query({
    name: 'read',
    sql: `SELECT * FROM {{nba_predictions.daily_prediction_signals}} WHERE game_date = CAST('${DATE}' AS DATE) ORDER BY system_id`,
  });
  return Object.fromEntries(found.map((r) => [String(r.system_id), r]));
}

describe('daily_prediction_signals', () => {
  it('on a 5-game slate: one row per model with ≥ 10 lined active predictions, coloured at each boundary', async () => {
    wh = await world(5);
    await wh.insert({
      name: 'rows',
      table: 'nba_predictions.player_prop_predictions',
      rows: [
        ...rows('over_25_of_100', 100, 25, 3), // exactly 25 % OVER: not RED; 3 high-edge: not YELLOW → GREEN
        ...rows('over_24_of_100', 100, 24, 3), // 24 % → RED
        ...rows('over_45_of_100', 100, 45, 3), // exactly 45 %: not YELLOW → GREEN
        ...rows('over_46_of_100', 100, 46, 3), // 46 % → YELLOW
        ...rows('edge_2', 20, 8, 2), // 40 % OVER, 2 high-edge picks → YELLOW
        ...rows('nine_picks', 9, 4, 4), // fewer than 10: no row
        ...rows('no_lines', 12, 6, 0, { current_points_line: null, recommendation: 'NO_LINE' }), // no line: not counted → no row
        ...rows('inactive', 12, 6, 6, { is_active: false }), // inactive: not counted → no row
      ],
    });
    const written = await computeDailySignals(wh, DATE, '', 'batch_x');
    expect(written.map((r) => r.system_id)).toEqual(['edge_2', 'over_24_of_100', 'over_25_of_100', 'over_45_of_100', 'over_46_of_100']);
    const table = await signals(wh);
    expect(Object.keys(table)).toEqual(['edge_2', 'over_24_of_100', 'over_25_of_100', 'over_45_of_100', 'over_46_of_100']);
    expect(table.over_25_of_100).toMatchObject({
      daily_signal: 'GREEN',
      pct_over: 25,
      pct_under: 75,
      total_picks: 100,
      high_edge_picks: 3,
      slate_size: 5,
      skew_category: 'BALANCED',
      volume_category: 'NORMAL',
      batch_id: 'batch_x',
    });
    expect(table.over_24_of_100).toMatchObject({ daily_signal: 'RED', pct_over: 24, skew_category: 'UNDER_HEAVY' });
    expect(String(table.over_24_of_100?.signal_explanation)).toContain('24% OVER (< 25%)');
    expect(table.over_45_of_100).toMatchObject({ daily_signal: 'GREEN', pct_over: 45 });
    expect(table.over_46_of_100).toMatchObject({ daily_signal: 'YELLOW', pct_over: 46, skew_category: 'OVER_HEAVY' });
    expect(table.edge_2).toMatchObject({ daily_signal: 'YELLOW', high_edge_picks: 2, pct_over: 40, volume_category: 'LOW' });
    expect(String(table.edge_2?.signal_explanation)).toContain('2 high-edge picks (< 3)');
    // avg edge: 2 rows at 5.0 and 18 at 4.9 → 4.91; avg confidence 70; the bias (predicted − line) equals the edge here.
    expect(table.edge_2).toMatchObject({ avg_edge: 4.91, avg_pvl: 4.91, avg_confidence: 70 });
  });

  it('on a 4-game slate every model is RED (light slate); on 5 games the same rows are GREEN', async () => {
    for (const [games, colour] of [
      [4, 'RED'],
      [5, 'GREEN'],
    ] as const) {
      wh = await world(games);
      await wh.insert({ name: 'rows', table: 'nba_predictions.player_prop_predictions', rows: rows('balanced', 20, 7, 5) });
      await computeDailySignals(wh, DATE, '', null);
      const row = (await signals(wh)).balanced;
      expect(row, `${games} games`).toMatchObject({ daily_signal: colour, slate_size: games });
      if (colour === 'RED') expect(String(row?.signal_explanation)).toContain('light slate: 4 games (≤ 4)');
      await wh.close();
      wh = undefined;
    }
  });

  it('recomputing is idempotent: still one row per model, updated in place; a model that no longer qualifies loses its row', async () => {
    wh = await world(6);
    await wh.insert({
      name: 'rows',
      table: 'nba_predictions.player_prop_predictions',
      rows: [...rows('a', 12, 6, 4), ...rows('b', 12, 1, 4)],
    });
    await computeDailySignals(wh, DATE, '', 'batch_1');
    await computeDailySignals(wh, DATE, '', 'batch_1');
    const count = async () =>
      Number((await wh!.query({ name: 'n', sql: `SELECT COUNT(*) AS n FROM {{nba_predictions.daily_prediction_signals}}` }))[0]?.n);
    expect(await count()).toBe(2);
    expect((await signals(wh)).b).toMatchObject({ daily_signal: 'RED', batch_id: 'batch_1' });
    // b's rows are superseded by a later batch that recommends OVER more often; a's rows drop below 10 active.
    await wh.query({
      name: 'deactivate',
      sql: `UPDATE {{nba_predictions.player_prop_predictions}} SET is_active = FALSE WHERE system_id = 'b' OR (system_id = 'a' AND player_lookup IN ('p0', 'p1', 'p2'))`,
    });
    await wh.insert({
      name: 'rows',
      table: 'nba_predictions.player_prop_predictions',
      rows: rows('b', 12, 5, 4).map((r) => ({ ...r, prediction_id: `new-${String(r.prediction_id)}` })),
    });
    await computeDailySignals(wh, DATE, '', 'batch_2');
    expect(await count()).toBe(1);
    expect(await signals(wh)).toEqual({ b: expect.objectContaining({ daily_signal: 'GREEN', batch_id: 'batch_2', total_picks: 12 }) });
  });

  it('signalOf: the rule at its boundaries, written out', () => {
    const cases: Array<[{ total: number; overs: number; highEdge: number }, number, string]> = [
      [{ total: 20, overs: 5, highEdge: 3 }, 5, 'GREEN'], // 25 % exactly
      [{ total: 20, overs: 4, highEdge: 3 }, 5, 'RED'], // 20 %
      [{ total: 20, overs: 9, highEdge: 3 }, 5, 'GREEN'], // 45 % exactly
      [{ total: 20, overs: 10, highEdge: 3 }, 5, 'YELLOW'], // 50 %
      [{ total: 20, overs: 8, highEdge: 2 }, 5, 'YELLOW'], // 2 high-edge
      [{ total: 20, overs: 8, highEdge: 3 }, 4, 'RED'], // 4 games
      [{ total: 20, overs: 8, highEdge: 0 }, 4, 'RED'], // RED wins over YELLOW
      [{ total: 3, overs: 1, highEdge: 3 }, 5, 'GREEN'], // 33.3 %
    ];
    for (const [agg, slate, colour] of cases) expect(signalOf(agg, slate).daily_signal, JSON.stringify({ agg, slate })).toBe(colour);
  });
});
