/** Stalls, resets, expired leases and the line-in-tenths merge key (issue 6), with an injectable clock. */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { ManualClock } from '../../shared/ports/clock.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { createTinyWorld } from '../helpers/tiny-world.js';
import { runPostChecks } from '../../services/coordinator/batch/post-checks.js';
import { overrideWarehouse } from '../helpers/warehouse-faults.js';
import { losingBus } from '../helpers/bus-faults.js';
import { batchRecord } from '../helpers/batch-store-contract.js';
import { topicNames } from '../../shared/config/common.js';
import { WarehouseError } from '../../shared/ports/warehouse.js';
import { TEST_TODAY, TEST_NOW } from '../helpers/clock.js';

const today = TEST_TODAY;
let t: TestStack | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** One player's request message is lost by the transport (one player per message): that player never reports. */
async function startStuck(players: number, clock: ManualClock): Promise<string> {
  t = await startTestStack(
    { gameDate: today, players },
    { clock, wrapCoordinatorBus: losingBus(topicNames('').request, new Set(['player003'])), env: { PLAYERS_PER_MESSAGE: '1' } },
  );
  const res = await t.post('/start', { game_date: today });
  expect(res.status).toBe(202);
  await t.stack.bus.idle();
  const batchId = String(res.body.batch_id);
  expect((await t.get(`/status?batch_id=${batchId}`)).body).toMatchObject({
    status: 'running',
    progress: { expected: players, completed: players - 1 },
  });
  return batchId;
}

describe('stalled batches', () => {
  it('a batch older than 30 minutes is completed as partial and consolidated; the date is free again', async () => {
    const clock = new ManualClock(TEST_NOW);
    const batchId = await startStuck(5, clock);
    expect((await t!.post('/check-stalled', {})).body).toMatchObject({
      batches_checked: 1,
      batches_completed: 0,
      results: [{ action: 'no_action' }],
    });
    clock.advance(31 * 60_000);
    const checked = (await t!.post('/check-stalled', {})).body;
    // Completed as it stands and handed to the consolidation step (its own step: the answer does not wait for it).
    expect(checked).toMatchObject({
      batches_completed: 1,
      results: [
        { batch_id: batchId, action: 'completed_as_partial', state: 'consolidating', reason: expect.stringContaining('older than 30 min') },
      ],
    });
    const status = await waitForBatchEnd(t!, batchId);
    expect(status).toMatchObject({
      status: 'partial',
      consolidation: { merge: { rows_merged: 12, rows_accounted: 12 } },
      closing: { phase5_status: 'partial', reasons: ['1 of 5 published players never reported'] },
    });
    const phase5 = t!.stack.bus.published(t!.stack.topics.phase5).map((m) => m.data as Record<string, unknown>);
    expect(phase5).toHaveLength(1);
    expect(phase5[0]).toMatchObject({
      status: 'partial',
      record_count: 4,
      records_failed: 1,
      metadata: { completion_pct: 80, reasons: ['1 of 5 published players never reported'] },
    });
    expect((await t!.post('/check-stalled', {})).body).toMatchObject({ batches_checked: 0 });
    expect((await t!.post('/start', { game_date: today, prediction_run_mode: 'LINE_UPDATE', player_lookups: ['player000'] })).status).toBe(
      202,
    );
  });

  it('a batch at ≥ 95% with no progress for 10 minutes is completed; before that it is left alone', async () => {
    const clock = new ManualClock(TEST_NOW);
    const batchId = await startStuck(20, clock);
    clock.advance(9 * 60_000);
    expect((await t!.post('/check-stalled', { batch_id: batchId })).body).toMatchObject({ results: [{ action: 'no_action' }] });
    clock.advance(2 * 60_000);
    expect((await t!.post('/check-stalled', { batch_id: batchId })).body).toMatchObject({
      results: [{ action: 'completed_as_partial', reason: expect.stringContaining('no progress for 11.0 min at 95.0%') }],
    });
  });
});

describe('reset and leases', () => {
  it('/reset ends a running batch without consolidating, frees the date, and late completions change nothing', async () => {
    const clock = new ManualClock(TEST_NOW);
    const batchId = await startStuck(5, clock);
    expect((await t!.post('/start', { game_date: today })).status).toBe(409);
    const reset = await t!.post('/reset', { game_date: today });
    expect(reset.body).toMatchObject({
      status: 'reset',
      batch_id: batchId,
      previous_state: 'running',
      state: 'failed',
      lease_released: true,
    });
    const status = (await t!.get(`/status?batch_id=${batchId}`)).body;
    expect(status).toMatchObject({
      status: 'failed',
      error: 'reset by operator: ended without consolidating',
      consolidation: null,
      closed: true,
      closing: { phase5_status: 'failed' },
    });
    // No end without a phase-5 message: a reset batch announces that it failed.
    expect(t!.stack.bus.published(t!.stack.topics.phase5).map((m) => (m.data as Record<string, unknown>).status)).toEqual(['failed']);
    t!.stack.bus.redeliverAll(`${t!.stack.topics.ready}-push`);
    await t!.stack.bus.idle();
    expect((await t!.get(`/status?batch_id=${batchId}`)).body.progress).toMatchObject({ completed: 4 });
    expect((await t!.post('/reset', { batch_id: batchId })).body).toMatchObject({ status: 'already_ended' });
    expect((await t!.post('/reset', {})).status).toBe(400);
    expect((await t!.post('/start', { game_date: today })).status).toBe(202);
  });

  it('a coordinator that died mid-dispatch before publishing blocks the date only until its lease expires; /check-stalled fails that batch', async () => {
    const clock = new ManualClock(TEST_NOW);
    t = await startTestStack({ gameDate: today, players: 3 }, { clock });
    const dead = 'batch_dead';
    await t.stack.batches.claimLease({ gameDate: today, batchId: dead, ttlMs: 30 * 60_000, force: false });
    await t.stack.batches.createBatch(
      batchRecord(dead, { game_date: today, started_at: clock.now().toISOString(), updated_at: clock.now().toISOString() }),
    );
    expect((await t.post('/start', { game_date: today })).body).toMatchObject({ status: 'already_running', batch_id: dead });
    clock.advance(31 * 60_000);
    expect((await t.post('/check-stalled', {})).body).toMatchObject({
      results: [{ batch_id: dead, action: 'failed_dispatch', state: 'failed' }],
    });
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(202);
    await waitForBatchEnd(t, String(res.body.batch_id));
  });
});

describe('merge key keeps the line to tenths', () => {
  it('lines 25.5 then 26.0 for one player and model give two rows: the newer active, the older superseded', async () => {
    t = await startTestStack({ gameDate: today, players: 1, models: 1 });
    await t.world.warehouse.query({
      name: 'line',
      sql: `UPDATE {{nba_raw.odds_api_player_points_props}} SET points_line = 25.5 WHERE player_lookup = 'player000'`,
    });
    const first = await t.post('/start', { game_date: today });
    await waitForBatchEnd(t, String(first.body.batch_id));
    await t.world.warehouse.query({
      name: 'line',
      sql: `UPDATE {{nba_raw.odds_api_player_points_props}} SET points_line = 26.0 WHERE player_lookup = 'player000'`,
    });
    const second = await t.post('/start', { game_date: today, prediction_run_mode: 'LINE_UPDATE' });
    const end = await waitForBatchEnd(t, String(second.body.batch_id));
    const rows = await t.world.warehouse.query({
      name: 'rows',
      sql: `SELECT current_points_line, is_active FROM {{nba_predictions.player_prop_predictions}} WHERE player_lookup = 'player000' ORDER BY current_points_line`,
    });
    expect(rows).toEqual([
      { current_points_line: 25.5, is_active: false },
      { current_points_line: 26, is_active: true },
    ]);
    // Staging is append-only (rows expire, they are not deleted): both batches' rows are still there, and the second
    // consolidation merged only its own row — the first batch's staging row was not merged again.
    const staged = await t.world.warehouse.query({
      name: 'staged',
      sql: `SELECT batch_id, current_points_line FROM {{nba_predictions.prediction_staging}} ORDER BY current_points_line`,
    });
    expect(staged).toEqual([
      { batch_id: first.body.batch_id, current_points_line: 25.5 },
      { batch_id: second.body.batch_id, current_points_line: 26 },
    ]);
    expect(end.consolidation).toMatchObject({ merge: { rows_merged: 1, rows_deactivated: 1, rows_accounted: 1 } });
  });
});

describe('merge failure', () => {
  it('a merge that fails for good leaves the batch failed with the reason visible, the staging rows kept and a failed phase-5 message', async () => {
    const failingMerge = (inner: Warehouse): Warehouse =>
      overrideWarehouse(inner, {
        transaction: (name) =>
          Promise.reject(new WarehouseError(name, 'Syntax error: Unexpected keyword MERGE', 'QUERY_FAILED', { retryable: false })),
      });
    t = await startTestStack({ gameDate: today, players: 3 }, { wrapWarehouse: failingMerge });
    const res = await t.post('/start', { game_date: today });
    const status = await waitForBatchEnd(t, String(res.body.batch_id));
    expect(status).toMatchObject({
      status: 'failed',
      error: 'merge failed: consolidate: Syntax error: Unexpected keyword MERGE',
      consolidation: { merge: null, attempts: 1 },
      closing: { phase5_status: 'failed' },
    });
    const staged = await t.world.warehouse.query({
      name: 'staged',
      sql: `SELECT COUNT(*) AS n FROM {{nba_predictions.prediction_staging}} WHERE batch_id = '${String(res.body.batch_id)}'`,
    });
    expect(staged[0]?.n).toBe(9);
    expect(t.stack.bus.published(t.stack.topics.phase5)[0]?.data).toMatchObject({ status: 'failed' });
  });

  it('a merge that fails transiently is retried by redelivery of the consolidation step, merges once, and ends complete', async () => {
    let failures = 2;
    let merges = 0;
    const flakyMerge = (inner: Warehouse): Warehouse =>
      overrideWarehouse(inner, {
        transaction: (name, statements) => {
          if (name !== 'consolidate') return inner.transaction(name, statements); // the daily signal's own transaction
          if (failures-- > 0)
            return Promise.reject(new WarehouseError(name, 'backendError: try again', 'QUERY_FAILED', { retryable: true }));
          merges++;
          return inner.transaction(name, statements);
        },
      });
    t = await startTestStack({ gameDate: today, players: 3 }, { wrapWarehouse: flakyMerge });
    const res = await t.post('/start', { game_date: today });
    const status = await waitForBatchEnd(t, String(res.body.batch_id));
    expect(status).toMatchObject({
      status: 'complete',
      consolidation: { attempts: 3, error: null, merge: { rows_accounted: 9 } },
      closing: { phase5_status: 'success' },
    });
    expect(merges).toBe(1);
    expect(t.stack.bus.stats()[`${t.stack.topics.consolidate}-push`]).toMatchObject({ nacked: 2, acked: 1, deadLettered: 0 });
  });
});

describe('after consolidation', () => {
  it('post-checks flag champion bias, one-sided recommendations and direction mismatches', async () => {
    const world = await createTinyWorld({ gameDate: today, players: 0, models: 0 });
    const rows = Array.from({ length: 12 }, (_, i) => ({
      prediction_id: `p${i}`,
      system_id: 'champ',
      player_lookup: `x${i}`,
      game_date: today,
      game_id: 'g',
      predicted_points: 23,
      confidence_score: 80,
      recommendation: i === 0 ? 'UNDER' : 'OVER',
      current_points_line: 20,
      is_active: true,
      created_at: `${today}T12:00:00Z`,
    }));
    await world.warehouse.insert({ name: 'rows', table: 'nba_predictions.player_prop_predictions', rows });
    const checks = await runPostChecks(world.warehouse, today, '', 'champ');
    expect(checks).toMatchObject({ rows: 12, avg_bias: 3, over_pct: 91.7, under_pct: 8.3, direction_mismatches: 1 });
    expect(checks.warnings).toEqual([
      'champion bias 3 points (prediction − line) beyond ±2',
      'champion UNDER share 8.3% below 15% (12 rows)',
      '1 champion rows recommend against the sign of (prediction − line)',
    ]);
    await world.warehouse.close();
  });

  it('writes one run-history row per batch, consolidated or reset', async () => {
    const clock = new ManualClock(TEST_NOW);
    const stuck = await startStuck(5, clock);
    await t!.post('/reset', { batch_id: stuck });
    const again = await t!.post('/start', { game_date: today, player_lookups: ['player000', 'player001'] });
    const end = await waitForBatchEnd(t!, String(again.body.batch_id));
    expect(end.consolidation).toMatchObject({ checks: { champion: t!.world.systems[0], rows: 2 } });
    const history = await t!.world.warehouse.query({
      name: 'h',
      sql: 'SELECT run_id, status, records_processed, records_skipped, predictions, errors FROM {{nba_reference.processor_run_history}} ORDER BY records_skipped DESC',
    });
    expect(history).toEqual([
      {
        run_id: stuck,
        status: 'failed',
        records_processed: 4,
        records_skipped: 1,
        predictions: 12,
        errors: '["reset by operator: ended without consolidating"]',
      },
      { run_id: again.body.batch_id, status: 'success', records_processed: 2, records_skipped: 0, predictions: 6, errors: '[]' },
    ]);
  });
});
