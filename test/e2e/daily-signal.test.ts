/**
 * The daily signal through HTTP (issue 19): a batch's consolidation writes one row per qualifying model to
 * daily_prediction_signals, `/check-signal` answers the champion's, and the colour follows the rule at each boundary. The
 * boundary cases are extra models whose active rows are written by hand beside the batch's; a line update (an ordinary
 * batch) then recomputes the date. Expected colours are written out per case.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import type { Row } from '../../shared/ports/warehouse.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
let t: TestStack | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** `n` active lined rows: the first `overs` OVER (the rest UNDER), the first `highEdge` with an edge of exactly 5.0, the rest 4.9. */
function handRows(system: string, n: number, overs: number, highEdge: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    prediction_id: `${system}-${i}`,
    system_id: system,
    player_lookup: `hand${i}`,
    game_date: today,
    game_id: 'hand_game',
    batch_id: 'hand',
    predicted_points: i < highEdge ? 25 : 24.9,
    current_points_line: 20,
    confidence_score: 70,
    recommendation: i < overs ? 'OVER' : 'UNDER',
    is_active: true,
    created_at: `${today}T12:00:00Z`,
  }));
}

async function signals(t: TestStack): Promise<Record<string, Row>> {
  const rows = await t.world.warehouse.query({
    name: 'read',
    sql: `SELECT * FROM {{nba_predictions.daily_prediction_signals}} WHERE game_date = CAST('${today}' AS DATE)`,
  });
  return Object.fromEntries(rows.map((r) => [String(r.system_id), r]));
}

async function recompute(t: TestStack): Promise<void> {
  const res = await t.post('/line-update', { game_date: today, player_lookups: ['player000'] });
  expect(res.status).toBe(202);
  expect((await waitForBatchEnd(t, String(res.body.batch_id))).status).toBe('complete');
}

describe('daily signal', () => {
  it('after a batch: one row per model with ≥ 10 lined predictions; /check-signal answers the champion', async () => {
    t = await startTestStack({ gameDate: today, players: 12, models: 3 });
    expect((await t.post('/check-signal', { game_date: today })).body).toMatchObject({ status: 'warning', signal: null });
    const res = await t.post('/start', { game_date: today });
    await waitForBatchEnd(t, String(res.body.batch_id));
    const table = await signals(t);
    expect(Object.keys(table).sort()).toEqual([...t.world.systems].sort());
    // The champion (catboost_v9_tiny): 12 lined rows, 7 OVER, 2 UNDER, no edge ≥ 5, one game on the slate.
    const answer = await t.post('/check-signal', { game_date: today, send_alert: false });
    expect(answer.body).toMatchObject({
      status: 'success',
      system_id: 'catboost_v9_tiny',
      signal: 'RED',
      total_picks: 12,
      pct_over: 58.3,
      pct_under: 16.7,
      high_edge_picks: 0,
      slate_size: 1,
      alert: 'not_requested',
    });
    expect(String(answer.body.explanation)).toContain('light slate: 1 games (≤ 4)');
  });

  it('the colour follows the rule at each boundary, recomputed by the next batch; on a 4-game slate everything is RED', async () => {
    // 12 players, 2 per game: 6 games on the schedule.
    t = await startTestStack({ gameDate: today, players: 12, models: 1, playersPerGame: 2 });
    const res = await t.post('/start', { game_date: today });
    await waitForBatchEnd(t, String(res.body.batch_id));
    await t.world.warehouse.insert({
      name: 'hand rows',
      table: 'nba_predictions.player_prop_predictions',
      rows: [
        ...handRows('over_25_pct', 100, 25, 3), // exactly 25 % OVER, 3 high-edge → GREEN
        ...handRows('over_24_pct', 100, 24, 3), // 24 % → RED
        ...handRows('over_45_pct', 100, 45, 3), // exactly 45 % → GREEN
        ...handRows('over_46_pct', 100, 46, 3), // 46 % → YELLOW
        ...handRows('high_edge_2', 20, 8, 2), // 2 high-edge picks → YELLOW
        ...handRows('nine_rows', 9, 4, 4), // fewer than 10 → no row
      ],
    });
    await recompute(t);
    const six = await signals(t);
    expect(Object.fromEntries(Object.entries(six).map(([k, r]) => [k, [r.daily_signal, r.slate_size]]))).toEqual({
      catboost_v9_tiny: ['YELLOW', 6], // 7 OVER of 12 = 58.3 % > 45 %
      over_25_pct: ['GREEN', 6],
      over_24_pct: ['RED', 6],
      over_45_pct: ['GREEN', 6],
      over_46_pct: ['YELLOW', 6],
      high_edge_2: ['YELLOW', 6],
    });
    expect((await t.post('/check-signal', { send_alert: false })).body).toMatchObject({ signal: 'YELLOW', skew_category: 'OVER_HEAVY' });

    await t.world.warehouse.query({
      name: 'two games fewer',
      sql: `DELETE FROM {{nba_raw.nbac_schedule}} WHERE game_date = CAST('${today}' AS DATE) AND game_id IN ('${today.replaceAll('-', '')}_G4', '${today.replaceAll('-', '')}_G5')`,
    });
    await recompute(t);
    const four = await signals(t);
    expect(
      Object.values(four)
        .map((r) => [r.system_id, r.daily_signal, r.slate_size])
        .sort(),
    ).toEqual(['catboost_v9_tiny', 'high_edge_2', 'over_24_pct', 'over_25_pct', 'over_45_pct', 'over_46_pct'].map((s) => [s, 'RED', 4]));
    // Still one row per model after three computations.
    const [count] = await t.world.warehouse.query({
      name: 'n',
      sql: `SELECT COUNT(*) AS n FROM {{nba_predictions.daily_prediction_signals}}`,
    });
    expect(Number(count?.n)).toBe(6);
  });
});
