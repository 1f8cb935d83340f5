/**
 * The seeded season through the product's front door: the local stack over a demo world with a window of past dates, today
 * and tomorrow; `POST /start` for a past date and for tomorrow passes the completeness gate and publishes a slate, and the
 * batch ends complete with predictions for that date only — no reseeding, no retraining in between.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { addDays } from '../../shared/dates/game-date.js';
import { param } from '../../shared/ports/warehouse.js';
import { seedWorld } from '../../bin/demo/seed-world.js';
import { startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
const from = addDays(today, -6);
const past = addDays(today, -2);
const tomorrow = addDays(today, 1);

let warehouse: DuckDbWarehouse;
let modelsDir: string;
let t: TestStack;

beforeAll(async () => {
  warehouse = await DuckDbWarehouse.open({ path: ':memory:' });
  modelsDir = await mkdtemp(join(tmpdir(), 'season-models-'));
  const seeded = await seedWorld({ warehouse, modelsDir, today, from, to: tomorrow, games: 3, trees: 8, historyDays: 40 });
  expect(seeded.action).toBe('seeded');
  t = await startTestStack({ warehouse, modelsDir, players: [], gameIds: [], systems: [] });
}, 180_000);

afterAll(async () => {
  await t?.close();
  await rm(modelsDir, { recursive: true, force: true });
});

const predictionsOn = async (date: string): Promise<number> => {
  const [row] = await warehouse.query({
    name: 'test.predictions',
    sql: 'SELECT COUNT(DISTINCT player_lookup) AS n FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = @d AND is_active = TRUE',
    params: { d: param.date(date) },
  });
  return Number(row?.n);
};

describe('a seeded season window through POST /start', () => {
  it('runs a past date: completeness gate passed on its final games, a realistic slate published, the batch complete', async () => {
    const res = await t.post('/start', { game_date: past, prediction_run_mode: 'BACKFILL' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const summary = res.body.summary as {
      completeness: { final_games: number };
      games: number;
      candidates: number;
      lines: { by_source: object };
    };
    expect(summary.completeness).toMatchObject({ checked: true, coverage_pct: 100 });
    expect(summary.completeness.final_games).toBeGreaterThan(0);
    expect(summary.games).toBeGreaterThanOrEqual(1);
    expect(summary.candidates).toBeGreaterThan(20);
    expect(summary.lines.by_source).toHaveProperty('ODDS_API');
    expect(Number(res.body.published)).toBeGreaterThan(0);
    const end = await waitForBatchEnd(t, String(res.body.batch_id));
    expect(end.status).toBe('complete');
    expect(await predictionsOn(past)).toBe(Number(res.body.published));
  });

  it("runs tomorrow after it, leaving the past date's predictions in place", async () => {
    const before = await predictionsOn(past);
    const res = await t.post('/start', { game_date: tomorrow });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(Number(res.body.published)).toBeGreaterThan(0);
    expect((await waitForBatchEnd(t, String(res.body.batch_id))).status).toBe('complete');
    expect(await predictionsOn(tomorrow)).toBe(Number(res.body.published));
    expect(await predictionsOn(past)).toBe(before);
  });

  it('leaves unpublished exactly the players whose latest injury report rules them out after their context said otherwise', async () => {
    // Independently of the product: the newest report per player for the date, read straight from the table.
    const ruledOut = await warehouse.query({
      name: 'test.late_outs',
      sql: `SELECT r.player_lookup FROM {{nba_raw.nbac_injury_report}} r
            WHERE r.game_date = @d QUALIFY ROW_NUMBER() OVER (PARTITION BY r.player_lookup ORDER BY r.report_date DESC, r.report_hour DESC) = 1
              AND r.injury_status = 'out'`,
      params: { d: param.date(tomorrow) },
    });
    const status = await t.get(`/status?game_date=${tomorrow}&players=true`);
    const players = (status.body.players ?? []) as Array<{ player_lookup: string; outcome: string; reason: string | null }>;
    const injuredOut = players
      .filter((p) => p.reason === 'player_injury_out')
      .map((p) => p.player_lookup)
      .sort();
    expect(injuredOut.length).toBeGreaterThan(0);
    // Every player skipped for injury is out in the latest report; the others out in it were never candidates (context out).
    const outNow = new Set(ruledOut.map((r) => String(r.player_lookup)));
    for (const p of injuredOut) expect(outNow.has(p), p).toBe(true);
    expect(players.filter((p) => outNow.has(p.player_lookup) && p.outcome !== 'skipped')).toEqual([]);
  });
});
