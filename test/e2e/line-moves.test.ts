/**
 * Lines that appear or move after the day's batch (issue 19), through HTTP on the embedded default with the tiny world:
 * `/check-lines` names exactly the players whose line moved by the threshold or appeared, re-predicts only them in a new
 * batch, and that batch's merge supersedes only their rows; `/line-update` does the same for named players. Expected rows are
 * written out from the world's own numbers (player i's line is 8 + i % 20 + 0.5), never computed by the code under test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import type { Row } from '../../shared/ports/warehouse.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
const compact = today.replaceAll('-', '');
let t: TestStack | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A newer DraftKings snapshot for the player (the newest snapshot of the best book wins). */
async function moveLine(t: TestStack, player: string, line: number, gameId = `${compact}_G0`): Promise<void> {
  await moveLines(t, [{ player, line, gameId }]);
}

/** Newer snapshots for several players, in one insert. */
async function moveLines(t: TestStack, moves: Array<{ player: string; line: number; gameId: string }>): Promise<void> {
  await t.world.warehouse.insert({
    name: 'move',
    table: 'nba_raw.odds_api_player_points_props',
    rows: moves.map(({ player, line, gameId }) => ({
      game_id: gameId,
      game_date: today,
      player_lookup: player,
      bookmaker: 'draftkings',
      points_line: line,
      snapshot_timestamp: `${today}T18:00:00Z`,
      minutes_before_tipoff: 30,
    })),
  });
}

async function predictions(t: TestStack): Promise<Row[]> {
  return t.world.warehouse.query({
    name: 'read',
    sql: `SELECT player_lookup, system_id, game_id, current_points_line, is_active, batch_id, superseded, superseded_by, superseded_reason,
            CAST(superseded_metadata AS VARCHAR) AS superseded_metadata, prediction_run_mode
          FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = CAST('${today}' AS DATE) ORDER BY player_lookup, system_id, is_active`,
  });
}

/** Active rows sharing (game, player, model, line in tenths): must be none. */
async function activeDuplicates(t: TestStack): Promise<number> {
  const [row] = await t.world.warehouse.query({
    name: 'dups',
    sql: `SELECT COUNT(*) AS n FROM (
            SELECT game_id, player_lookup, system_id, COALESCE(CAST(ROUND(current_points_line * 10) AS INT64), -1) AS k
            FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = CAST('${today}' AS DATE) AND is_active = TRUE
            GROUP BY game_id, player_lookup, system_id, k HAVING COUNT(*) > 1) d`,
  });
  return Number(row?.n);
}

async function runDay(t: TestStack): Promise<string> {
  const res = await t.post('/start', { game_date: today });
  expect(res.status).toBe(202);
  const batchId = String(res.body.batch_id);
  expect((await waitForBatchEnd(t, batchId)).status).toBe('complete');
  return batchId;
}

describe('POST /check-lines', () => {
  it('names exactly the moved and the new lines (dry run), then supersedes only those players: one active row per key, the old rows marked', async () => {
    t = await startTestStack({ gameDate: today, players: 12, models: 3 });
    // player010 and player011 have no line when the day's batch runs: they are predicted NO_PROP_LINE.
    await t.world.warehouse.query({
      name: 'no lines',
      sql: `DELETE FROM {{nba_raw.odds_api_player_points_props}} WHERE player_lookup IN ('player010', 'player011')`,
    });
    const first = await runDay(t);
    expect((await predictions(t)).filter((r) => r.is_active && r.current_points_line === null).map((r) => r.player_lookup)).toEqual(
      Array(6)
        .fill('')
        .map((_, i) => (i < 3 ? 'player010' : 'player011')),
    );

    // After the batch: two lines move by at least 1.0, one by 0.5 (below the threshold), two players get a line.
    await moveLine(t, 'player003', 13.0); // 11.5 → 13.0 (+1.5)
    await moveLine(t, 'player004', 11.5); // 12.5 → 11.5 (−1.0: exactly the threshold)
    await moveLine(t, 'player005', 14.0); // 13.5 → 14.0 (+0.5: not enough)
    await moveLine(t, 'player010', 18.5); // new
    await moveLine(t, 'player011', 19.5); // new

    const dry = await t.post('/check-lines', { game_date: today, dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      status: 'dry_run',
      game_date: today,
      new_lines: 2,
      line_moves: 2,
      total_affected: 4,
      predicted_players: 12,
      started_players: 0,
    });
    expect(dry.body.players).toEqual([
      {
        player_lookup: 'player010',
        game_id: `${compact}_G0`,
        reason: 'new_line',
        predicted_line: null,
        current_line: 18.5,
        change: null,
        sportsbook: 'DRAFTKINGS',
      },
      {
        player_lookup: 'player011',
        game_id: `${compact}_G0`,
        reason: 'new_line',
        predicted_line: null,
        current_line: 19.5,
        change: null,
        sportsbook: 'DRAFTKINGS',
      },
      {
        player_lookup: 'player003',
        game_id: `${compact}_G0`,
        reason: 'line_move',
        predicted_line: 11.5,
        current_line: 13,
        change: 1.5,
        sportsbook: 'DRAFTKINGS',
      },
      {
        player_lookup: 'player004',
        game_id: `${compact}_G0`,
        reason: 'line_move',
        predicted_line: 12.5,
        current_line: 11.5,
        change: -1,
        sportsbook: 'DRAFTKINGS',
      },
    ]);
    // The dry run changed nothing.
    expect((await predictions(t)).every((r) => r.batch_id === first && r.is_active === true && r.superseded === null)).toBe(true);

    const run = await t.post('/check-lines', { game_date: today });
    expect(run.status).toBe(202);
    expect(run.body).toMatchObject({ status: 'started', new_lines: 2, line_moves: 2, total_affected: 4, published: 4 });
    const lineBatch = String(run.body.batch_id);
    const end = await waitForBatchEnd(t, lineBatch);
    expect(end).toMatchObject({
      status: 'complete',
      purpose: 'line_check',
      prediction_run_mode: 'LINE_CHECK',
      consolidation: { merge: { rows_merged: 12, rows_superseded: 12, rows_accounted: 12 } },
    });

    const rows = await predictions(t);
    const affected = new Set(['player003', 'player004', 'player010', 'player011']);
    const expectedLine: Record<string, number> = { player003: 13, player004: 11.5, player010: 18.5, player011: 19.5 };
    const active = rows.filter((r) => r.is_active);
    expect(active).toHaveLength(36); // 12 players × 3 models, exactly one each
    expect(await activeDuplicates(t)).toBe(0);
    for (const r of active) {
      const p = String(r.player_lookup);
      if (affected.has(p))
        expect(r, p).toMatchObject({
          batch_id: lineBatch,
          current_points_line: expectedLine[p],
          prediction_run_mode: 'LINE_CHECK',
          superseded: null,
        });
      else expect(r, p).toMatchObject({ batch_id: first, superseded: null });
    }
    const superseded = rows.filter((r) => r.superseded === true);
    expect(superseded).toHaveLength(12);
    expect(new Set(superseded.map((r) => r.player_lookup))).toEqual(affected);
    for (const r of superseded) {
      expect(r).toMatchObject({ is_active: false, batch_id: first, superseded_by: lineBatch, superseded_reason: 'line_check' });
      expect(JSON.parse(String(r.superseded_metadata))).toMatchObject({ line_change_threshold: 1, new_lines: 2, line_moves: 2 });
    }
    // Nothing else changed: 36 + 12 rows in all.
    expect(rows).toHaveLength(48);

    // Lines are now as predicted: nothing to do.
    expect((await t.post('/check-lines', { game_date: today })).body).toMatchObject({ status: 'no_changes', total_affected: 0 });
  });

  it('when every game of the date has started: all_games_started; with no games at all: no_games', async () => {
    t = await startTestStack({ gameDate: today, players: 3 });
    await t.world.warehouse.query({
      name: 'started',
      sql: `UPDATE {{nba_raw.nbac_schedule}} SET game_status = 2 WHERE game_date = CAST('${today}' AS DATE)`,
    });
    expect((await t.post('/check-lines', {})).body).toMatchObject({ status: 'all_games_started', game_date: today, games: 1 });
    await t.world.warehouse.query({
      name: 'none',
      sql: `DELETE FROM {{nba_raw.nbac_schedule}} WHERE game_date = CAST('${today}' AS DATE)`,
    });
    expect((await t.post('/check-lines', {})).body).toMatchObject({ status: 'no_games', game_date: today });
    const bad = await t.post('/check-lines', { line_change_threshold: -1 });
    expect(bad.status).toBe(400);
    expect(String(bad.body.message)).toMatch(/line_change_threshold/);
    expect((await t.post('/check-lines', { game_date: '2026-02-30' })).status).toBe(400);
  });

  it('makes the same number of warehouse queries for 12 and for 120 moved lines', async () => {
    const totals: number[] = [];
    for (const players of [12, 120]) {
      t = await startTestStack({ gameDate: today, players, models: 2 });
      await runDay(t);
      await moveLines(
        t,
        Array.from({ length: players }, (_, i) => ({
          player: `player${String(i).padStart(3, '0')}`,
          line: 8 + (i % 20) + 2.5,
          gameId: `${compact}_G${Math.floor(i / 30)}`,
        })),
      );
      const run = await t.post('/check-lines', { game_date: today });
      expect(run.status).toBe(202);
      expect(run.body).toMatchObject({ total_affected: players, line_moves: players, published: players });
      totals.push(Number(run.body.scan_queries) + Number((run.body.summary as Record<string, unknown>).warehouse_queries));
      expect((await waitForBatchEnd(t, String(run.body.batch_id))).status).toBe('complete');
      expect(await activeDuplicates(t)).toBe(0);
      await t.close();
      t = undefined;
    }
    expect(totals[0]).toBe(totals[1]);
    expect(totals[0]).toBeLessThanOrEqual(13);
  });
});

describe('POST /line-update', () => {
  it('re-predicts the named players (LINE_UPDATE), superseding only their rows; a dry run shows their lines; an empty list is no_players', async () => {
    t = await startTestStack({ gameDate: today, players: 6, models: 2 });
    const first = await runDay(t);
    await moveLine(t, 'player001', 12.0); // 9.5 → 12.0
    const dry = await t.post('/line-update', { game_date: today, player_lookups: ['player001', 'player002'], dry_run: true });
    expect(dry.body).toEqual({
      status: 'dry_run',
      dry_run: true,
      game_date: today,
      players: [
        { player_lookup: 'player001', predicted_line: 9.5, current_line: 12, sportsbook: 'DRAFTKINGS' },
        { player_lookup: 'player002', predicted_line: 10.5, current_line: 10.5, sportsbook: 'DRAFTKINGS' },
      ],
    });
    expect((await t.post('/line-update', { game_date: today, player_lookups: [] })).body).toMatchObject({ status: 'no_players' });
    const missing = await t.post('/line-update', { player_lookups: ['player001'] });
    expect(missing.status).toBe(400);
    expect(String(missing.body.message)).toMatch(/game_date/);

    const run = await t.post('/line-update', { game_date: today, player_lookups: ['player001'] });
    expect(run.status).toBe(202);
    const batchId = String(run.body.batch_id);
    expect(await waitForBatchEnd(t, batchId)).toMatchObject({
      status: 'complete',
      purpose: 'line_update',
      prediction_run_mode: 'LINE_UPDATE',
      consolidation: { merge: { rows_superseded: 2 } },
    });
    const rows = await predictions(t);
    expect(
      rows.filter((r) => r.superseded === true).map((r) => [r.player_lookup, r.current_points_line, r.superseded_reason, r.superseded_by]),
    ).toEqual([
      ['player001', 9.5, 'line_update', batchId],
      ['player001', 9.5, 'line_update', batchId],
    ]);
    expect(
      rows
        .filter((r) => r.is_active && r.player_lookup === 'player001')
        .map((r) => [r.current_points_line, r.batch_id, r.prediction_run_mode]),
    ).toEqual([
      [12, batchId, 'LINE_UPDATE'],
      [12, batchId, 'LINE_UPDATE'],
    ]);
    expect(rows.filter((r) => r.is_active && r.player_lookup !== 'player001').every((r) => r.batch_id === first)).toBe(true);
    expect(await activeDuplicates(t)).toBe(0);
  });
});
