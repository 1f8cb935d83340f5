/**
 * Regeneration with supersede (issue 19), through HTTP and through the nba-prediction-trigger topic on the embedded default:
 * the date's rows are superseded and replaced by the regeneration batch's, whose id is the one the answer gave, with one audit
 * row; a regeneration whose batch fails leaves the previous rows active; a redelivered trigger starts nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { WarehouseError, type Row, type Warehouse } from '../../shared/ports/warehouse.js';
import { overrideWarehouse } from '../helpers/warehouse-faults.js';
import { holdingBus } from '../helpers/predict-cli.js';
import { topicNames } from '../../shared/config/common.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
let t: TestStack | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function predictions(t: TestStack): Promise<Row[]> {
  return t.world.warehouse.query({
    name: 'read',
    sql: `SELECT player_lookup, system_id, is_active, batch_id, superseded, superseded_by, superseded_reason, CAST(superseded_metadata AS VARCHAR) AS superseded_metadata, superseded_at
          FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = CAST('${today}' AS DATE)`,
  });
}

async function audit(t: TestStack): Promise<Row[]> {
  return t.world.warehouse.query({
    name: 'audit',
    sql: `SELECT batch_id, reason, CAST(metadata AS VARCHAR) AS metadata, superseded_count, regenerated_count, not_replaced_count, triggered_by, processing_time_seconds, game_date
          FROM {{nba_predictions.prediction_regeneration_audit}} ORDER BY created_at`,
  });
}

async function runDay(t: TestStack): Promise<string> {
  const res = await t.post('/start', { game_date: today });
  expect(res.status).toBe(202);
  expect((await waitForBatchEnd(t, String(res.body.batch_id))).status).toBe('complete');
  return String(res.body.batch_id);
}

describe('POST /regenerate-with-supersede', () => {
  it('supersedes and replaces the date in the batch it names, and writes one audit row with that batch id', async () => {
    t = await startTestStack({ gameDate: today, players: 12, models: 3 });
    const first = await runDay(t);

    const res = await t.post('/regenerate-with-supersede', {
      game_date: today,
      reason: 'feature_upgrade',
      metadata: { ticket: 'NBA-42', models: ['v9'] },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'started', game_date: today, reason: 'feature_upgrade', published: 12 });
    const regen = String(res.body.batch_id);
    const end = await waitForBatchEnd(t, regen);
    expect(end).toMatchObject({
      status: 'complete',
      batch_id: regen,
      purpose: 'regeneration',
      prediction_run_mode: 'RETRY',
      requested_run_mode: 'REGENERATION',
      consolidation: { merge: { rows_superseded: 36, rows_accounted: 36 } },
    });

    const rows = await predictions(t);
    const active = rows.filter((r) => r.is_active);
    expect(active).toHaveLength(36);
    expect(new Set(active.map((r) => r.batch_id))).toEqual(new Set([regen]));
    const superseded = rows.filter((r) => r.superseded === true);
    expect(superseded).toHaveLength(36);
    for (const r of superseded) {
      expect(r).toMatchObject({ is_active: false, batch_id: first, superseded_by: regen, superseded_reason: 'feature_upgrade' });
      expect(JSON.parse(String(r.superseded_metadata))).toEqual({ ticket: 'NBA-42', models: ['v9'] });
      expect(r.superseded_at).toEqual(expect.any(String));
    }
    const rowsAudit = await audit(t);
    expect(rowsAudit).toHaveLength(1);
    expect(rowsAudit[0]).toMatchObject({
      batch_id: regen,
      game_date: today,
      reason: 'feature_upgrade',
      superseded_count: 36,
      regenerated_count: 36,
      not_replaced_count: 0,
      triggered_by: 'coordinator_endpoint',
    });
    expect(JSON.parse(String(rowsAudit[0]?.metadata))).toEqual({ ticket: 'NBA-42', models: ['v9'] });
    expect(Number(rowsAudit[0]?.processing_time_seconds)).toBeGreaterThanOrEqual(0);
  });

  it('a regeneration whose batch fails leaves the previous rows active and unmarked, and writes no audit row', async () => {
    let failMerges = false;
    const failing = (inner: Warehouse): Warehouse =>
      overrideWarehouse(inner, {
        transaction: (name, statements) =>
          failMerges && name === 'consolidate'
            ? Promise.reject(
                new WarehouseError(name, 'invalidQuery: the table changed under the merge', 'QUERY_FAILED', { retryable: false }),
              )
            : inner.transaction(name, statements),
      });
    t = await startTestStack({ gameDate: today, players: 8, models: 2 }, { wrapWarehouse: failing });
    const first = await runDay(t);
    const before = await predictions(t);

    failMerges = true;
    const res = await t.post('/regenerate-with-supersede', { game_date: today, reason: 'feature_upgrade' });
    expect(res.status).toBe(202);
    const end = await waitForBatchEnd(t, String(res.body.batch_id));
    expect(end).toMatchObject({ status: 'failed', closing: { phase5_status: 'failed' } });
    expect(String(end.error)).toMatch(/merge failed/);

    const after = await predictions(t);
    expect(after).toEqual(before);
    expect(after.filter((r) => r.is_active)).toHaveLength(16);
    expect(after.every((r) => r.batch_id === first && r.is_active === true && r.superseded === null)).toBe(true);
    expect(await audit(t)).toEqual([]);

    // Once the merge works again, the next regeneration replaces the date.
    failMerges = false;
    const again = await t.post('/regenerate-with-supersede', { game_date: today, reason: 'retry_after_failure' });
    expect((await waitForBatchEnd(t, String(again.body.batch_id))).status).toBe('complete');
    expect((await predictions(t)).filter((r) => r.is_active).every((r) => r.batch_id === again.body.batch_id)).toBe(true);
    expect((await audit(t)).map((r) => [r.batch_id, r.superseded_count])).toEqual([[again.body.batch_id, 16]]);
  });

  it('refuses a body without game_date, a bad reason or a bad date, naming the field; a busy date is a 409', async () => {
    // The day's batch is published but its worker never answers: the date stays busy.
    t = await startTestStack({ gameDate: today, players: 3 }, { wrapCoordinatorBus: holdingBus(topicNames('').request, new Set([today])) });
    const running = await t.post('/start', { game_date: today });
    expect(running.status).toBe(202);
    const busy = await t.post('/regenerate-with-supersede', { game_date: today });
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ status: 'already_running', batch_id: running.body.batch_id, reason: 'feature_upgrade' });
    for (const [body, field] of [
      [{}, /game_date/],
      [{ game_date: today, reason: 'has spaces' }, /reason/],
      [{ game_date: today, metadata: 'x' }, /metadata/],
      [{ game_date: '2026-13-01' }, /game_date/],
    ] as const) {
      const res = await t.post('/regenerate-with-supersede', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(String(res.body.message)).toMatch(field);
    }
  });
});

describe('POST /regenerate-pubsub (topic nba-prediction-trigger)', () => {
  it('a trigger message regenerates the date once; a redelivery of the same message starts nothing; another mode is dropped', async () => {
    t = await startTestStack({ gameDate: today, players: 5, models: 2 });
    const first = await runDay(t);
    const [published] = await t.stack.bus.publish(t.stack.topics.trigger, [
      { data: { game_date: today, reason: 'upstream_fix', metadata: { source: 'phase4' } } },
    ]);
    expect(published?.ok).toBe(true);
    await t.stack.bus.idle();
    const latest = (await t.get(`/status?game_date=${today}`)).body;
    expect(latest).toMatchObject({ purpose: 'regeneration', trigger_source: 'pubsub' });
    const regen = String(latest.batch_id);
    expect(regen).not.toBe(first);
    expect((await waitForBatchEnd(t, regen)).status).toBe('complete');
    expect((await audit(t)).map((r) => [r.batch_id, r.triggered_by, r.reason, r.superseded_count])).toEqual([
      [regen, 'pubsub', 'upstream_fix', 10],
    ]);

    // The same message delivered again (Pub/Sub is at least once): acked, nothing started.
    expect(t.stack.bus.redeliverAll(`${t.stack.topics.trigger}-push`)).toBe(1);
    await t.stack.bus.idle();
    expect((await t.get(`/status?game_date=${today}`)).body.batch_id).toBe(regen);
    expect(await audit(t)).toHaveLength(1);

    await t.stack.bus.publish(t.stack.topics.trigger, [{ data: { game_date: today, mode: 'something_else' } }]);
    await t.stack.bus.idle();
    expect((await t.get(`/status?game_date=${today}`)).body.batch_id).toBe(regen);
    expect(t.stack.bus.stats()[`${t.stack.topics.trigger}-push`]).toMatchObject({ deadLettered: 0, nacked: 0 });
  });

  it('a trigger for a busy date is retried, then dead-lettered and alerted: never dropped silently', async () => {
    const hook = await startWebhookReceiver();
    try {
      t = await startTestStack(
        { gameDate: today, players: 3 },
        {
          wrapCoordinatorBus: holdingBus(topicNames('').request, new Set([today])),
          maxDeliveryAttempts: 2,
          env: { SLACK_WEBHOOK_URL: hook.url },
        },
      );
      const running = await t.post('/start', { game_date: today });
      expect(running.status).toBe(202);
      await t.stack.bus.publish(t.stack.topics.trigger, [{ data: { game_date: today, reason: 'upstream_fix' } }]);
      await t.stack.bus.idle();
      expect(t.stack.bus.stats()[`${t.stack.topics.trigger}-push`]).toMatchObject({ nacked: 2, deadLettered: 1 });
      expect((await t.get(`/status?game_date=${today}`)).body.batch_id).toBe(running.body.batch_id);
      const alerts = hook.received.filter((r) => r.id?.startsWith('dead_letter.'));
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.text).toContain(
        `Dead letter: regeneration trigger for ${today} (never started: predict regenerate ${today} once the date is free)`,
      );
    } finally {
      await hook.close();
    }
  });
});
