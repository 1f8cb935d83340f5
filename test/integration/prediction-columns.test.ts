/**
 * Issue 14, through the tables: the values whose meaning had drifted from the original, the columns downstream readers use,
 * what /start accepts from the original's callers, and the worker's own quality rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { featureColumn } from '../../shared/contracts/feature-contract.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
let t: TestStack;
let batchId: string;
let started: Record<string, unknown>;

const sql = (s: string) => t.world.warehouse.query({ name: 'test', sql: s });

beforeAll(async () => {
  t = await startTestStack({ gameDate: today, players: 5 });
  const ctx = '{{nba_analytics.upcoming_player_game_context}}';
  const fs = '{{nba_predictions.ml_feature_store_v2}}';
  await sql(`UPDATE ${ctx} SET universal_player_id = 'upid_' || player_lookup, points_avg_last_5 = 20.3 WHERE player_lookup = 'player000'`);
  await sql(`UPDATE ${ctx} SET universal_player_id = 'upid_' || player_lookup, points_avg_last_5 = 18.2 WHERE player_lookup = 'player001'`);
  await sql(`UPDATE ${fs} SET default_feature_indices = [41, 42] WHERE player_lookup = 'player000'`);
  // player001 and player002: a clear OVER for the champion (L5 26 against a 20.5 line); player002's readiness is NULL.
  await sql(`UPDATE ${fs} SET ${featureColumn(0)} = 26 WHERE player_lookup IN ('player001', 'player002')`);
  await sql(`UPDATE {{nba_raw.odds_api_player_points_props}} SET points_line = 20.5 WHERE player_lookup IN ('player001', 'player002')`);
  await sql(`UPDATE ${fs} SET is_quality_ready = NULL WHERE player_lookup = 'player002'`);
  // The worker's own floor, for requests that arrive without values (the coordinator's gate blocks these two).
  await sql(`UPDATE ${fs} SET feature_quality_score = 45 WHERE player_lookup = 'player003'`);
  await sql(`UPDATE ${fs} SET feature_quality_score = NULL WHERE player_lookup = 'player004'`);

  const res = await t.post('/start', {
    game_date: today,
    prediction_run_mode: 'OVERNIGHT',
    trigger_source: 'phase4_to_phase5',
    parent_processor: 'MLFeatureStoreProcessor',
    min_minutes: 15,
  });
  expect(res.status).toBe(202);
  started = res.body;
  batchId = String(res.body.batch_id);
  await waitForBatchEnd(t, batchId);
});

afterAll(async () => {
  await t?.close();
});

const rowsOf = async (player: string) =>
  sql(
    `SELECT * FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = '${today}' AND player_lookup = '${player}' ORDER BY system_id`,
  );

describe('/start accepts what the original accepted', () => {
  it("takes the Phase-4→5 function's trigger_source, parent_processor and min_minutes (ignored), and records who triggered the run", async () => {
    expect(started).toMatchObject({ status: 'started', published: 3 });
    const history = await sql(
      `SELECT trigger_source, parent_processor FROM {{nba_reference.processor_run_history}} WHERE run_id = '${batchId}'`,
    );
    expect(history).toEqual([{ trigger_source: 'phase4_to_phase5', parent_processor: 'MLFeatureStoreProcessor' }]);
  });

  it('still answers 400 naming a field nobody sends', async () => {
    const res = await t.post('/start', { game_date: today, trigger_source: 'x', min_minute: 15 });
    expect(res.status).toBe(400);
    expect(String(res.body.message)).toMatch(/min_minute/);
  });
});

describe('values as the original wrote them', () => {
  it('prediction_run_mode is the mode as requested; the gate still used its normalised form', async () => {
    expect((started.summary as Record<string, unknown>).run_mode).toBe('RETRY');
    const modes = await sql(
      `SELECT DISTINCT prediction_run_mode FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = '${today}'`,
    );
    expect(modes).toEqual([{ prediction_run_mode: 'OVERNIGHT' }]);
  });

  it("universal_player_id comes from the context table; estimated_line_value is the player's L5 average to the nearest 0.5", async () => {
    const [p0] = await rowsOf('player000');
    const [p1] = await rowsOf('player001');
    const [p2] = await rowsOf('player002');
    expect(p0).toMatchObject({ universal_player_id: 'upid_player000', estimated_line_value: 20.5, estimation_method: null });
    expect(p1).toMatchObject({ universal_player_id: 'upid_player001', estimated_line_value: 18 });
    expect(p2).toMatchObject({ universal_player_id: null, estimated_line_value: null });
  });

  it('the phase-5 message carries completed_predictions (completed players, the name its consumer reads)', () => {
    const message = t.stack.bus.published(t.stack.topics.phase5).at(-1)?.data as { metadata: Record<string, unknown> };
    expect(message.metadata).toMatchObject({ completed_players: 3, completed_predictions: 3, expected_players: 3 });
  });

  it('writes the columns downstream readers use, with the original meaning and type', async () => {
    const rows = await rowsOf('player000');
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row).toMatchObject({
        prediction_version: 1,
        default_feature_indices: [41, 42],
        build_commit_sha: 'unknown',
        deployment_revision: 'local',
        superseded_by: null,
        invalidation_reason: null,
        invalidated_at: null,
        injury_flag_at_prediction: false,
        injury_status_at_prediction: null,
      });
      expect(row.predicted_at).toBe(row.created_at);
      expect(typeof row.injury_checked_at).toBe('string');
      const critical = JSON.parse(String(row.critical_features)) as Record<string, unknown>;
      const snapshot = JSON.parse(String(row.features_snapshot)) as Record<string, unknown>;
      expect(critical).toEqual({
        vegas_points_line: row.current_points_line,
        has_vegas_line: 1,
        ppm_avg_last_10: snapshot.ppm_avg_last_10,
        avg_points_vs_opponent: snapshot.avg_points_vs_opponent,
        team_win_pct: snapshot.team_win_pct,
      });
    }
    expect((await rowsOf('player001'))[0]).toMatchObject({ default_feature_indices: [] });
  });
});

describe('quality, as the original judged it', () => {
  it('a NULL is_quality_ready is not ready: written false, and the row is not actionable', async () => {
    const champion = (rows: Array<Record<string, unknown>>) => rows.find((r) => r.system_id === 'catboost_v9_tiny');
    expect(champion(await rowsOf('player001'))).toMatchObject({
      recommendation: 'OVER',
      is_quality_ready: true,
      is_actionable: true,
      filter_reason: null,
    });
    expect(champion(await rowsOf('player002'))).toMatchObject({
      recommendation: 'OVER',
      is_quality_ready: false,
      is_actionable: false,
      filter_reason: 'not_quality_ready',
    });
  });

  it("a request without values meets the worker's floor of 50: below it, or without a score, it is a permanent invalid_features skip", async () => {
    const ready = t.stack.topics.ready;
    for (const player of ['player003', 'player004']) {
      const request = {
        batch_id: 'direct',
        correlation_id: 'direct',
        game_date: today,
        game_id: t.world.gameIds[0],
        player_lookup: player,
        line_values: [15.5],
        line_source: 'ACTUAL_PROP',
        line_source_api: 'ODDS_API',
        sportsbook: 'DRAFTKINGS',
        was_line_fallback: false,
        line_minutes_before_game: null,
      };
      const res = await fetch(`${t.stack.workerUrl}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: { data: Buffer.from(JSON.stringify(request)).toString('base64'), messageId: player } }),
      });
      expect(res.status).toBe(204);
      const completion = t.stack.bus
        .published(ready)
        .map((m) => m.data as { batch_id: string; players: Array<Record<string, unknown>> })
        .filter((c) => c.batch_id === 'direct')
        .flatMap((c) => c.players)
        .find((p) => p.player_lookup === player);
      expect(completion).toMatchObject({ kind: 'skipped', predictions: 0, reason: expect.stringMatching(/^invalid_features: /) });
    }
    expect(await sql(`SELECT * FROM {{nba_predictions.prediction_staging}} WHERE batch_id = 'direct'`)).toEqual([]);
  });
});
