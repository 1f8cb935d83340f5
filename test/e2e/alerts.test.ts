/**
 * Alerts and the morning summary (issue 19) on the embedded default, delivered by the Slack adapter to a webhook receiver on
 * 127.0.0.1: every event is alerted once — however often it is seen again (redeliveries, sweeps, second calls) — and a
 * notifier that fails never fails the batch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { addDays } from '../../shared/dates/game-date.js';
import { WarehouseError, type Warehouse } from '../../shared/ports/warehouse.js';
import { overrideWarehouse } from '../helpers/warehouse-faults.js';
import { copySlate, holdingBus } from '../helpers/predict-cli.js';
import { losingBus } from '../helpers/bus-faults.js';
import { topicNames } from '../../shared/config/common.js';
import { ManualClock } from '../../shared/ports/clock.js';
import { TEST_TODAY, TEST_NOW } from '../helpers/clock.js';

const today = TEST_TODAY;
let t: TestStack | undefined;
let hook: WebhookReceiver | undefined;
afterEach(async () => {
  await t?.close();
  await hook?.close();
  t = undefined;
  hook = undefined;
});

/** The staging append of any row of `player` fails transiently, every time: its request message ends dead-lettered. */
const failingStagingFor =
  (player: string) =>
  (inner: Warehouse): Warehouse =>
    overrideWarehouse(inner, {
      insert: (req) =>
        req.table === 'nba_predictions.prediction_staging' && req.rows.some((r) => r.player_lookup === player)
          ? Promise.reject(new WarehouseError(req.name, 'backendError: staging unavailable', 'QUERY_FAILED', { retryable: true }))
          : inner.insert(req),
    });

const ids = (h: WebhookReceiver) => h.received.map((r) => r.id);

describe('alerts to a Slack incoming webhook', () => {
  it('a dead letter, a partial batch, post-check warnings, a line check, the signal and the morning summary: each delivered once', async () => {
    hook = await startWebhookReceiver();
    t = await startTestStack(
      { gameDate: today, players: 12, models: 3 },
      {
        wrapWarehouse: failingStagingFor('player007'),
        maxDeliveryAttempts: 2,
        env: { SLACK_WEBHOOK_URL: hook.url, PLAYERS_PER_MESSAGE: '1' },
      },
    );
    const res = await t.post('/start', { game_date: today });
    const batchId = String(res.body.batch_id);
    const end = await waitForBatchEnd(t, batchId);
    expect(end).toMatchObject({ status: 'partial', closing: { reasons: ['1 players failed (see /status?players=true)'] } });
    // Without player007 the champion has 11 rows, one UNDER (player002): 9.1 % < 15 %.
    expect((end.consolidation as { checks: { warnings: string[] } }).checks.warnings).toEqual([
      'champion UNDER share 9.1% below 15% (11 rows)',
    ]);

    const dlq = `${t.stack.topics.request}-dlq-push`;
    const deadLetterId = t.stack.bus.published(`${t.stack.topics.request}-dlq`)[0]?.messageId;
    expect(deadLetterId).toBeDefined();
    expect(ids(hook).sort()).toEqual([`batch_end.${batchId}`, `dead_letter.${deadLetterId}`, `post_checks.${batchId}`].sort());
    const texts = Object.fromEntries(hook.received.map((r): [string, string] => [r.id ?? '', r.text]));
    expect(texts[`batch_end.${batchId}`]).toContain(`Batch ${batchId} for ${today} ended partial`);
    expect(texts[`dead_letter.${deadLetterId}`]).toContain('dead-lettered by prediction-request-push after 2 delivery attempts');
    expect(texts[`post_checks.${batchId}`]).toContain('champion UNDER share 9.1% below 15% (11 rows)');

    // The same events seen again: the dead letter and the consolidation trigger redelivered, a sweep. Nothing is sent again.
    t.stack.bus.redeliverAll(dlq);
    t.stack.bus.redeliverAll(`${t.stack.topics.consolidate}-push`);
    await t.stack.bus.idle();
    await t.post('/check-stalled', {});
    expect(hook.received).toHaveLength(3);

    // A line moves: the check-lines run is alerted once.
    await t.world.warehouse.insert({
      name: 'move',
      table: 'nba_raw.odds_api_player_points_props',
      rows: [
        {
          game_id: `${today.replaceAll('-', '')}_G0`,
          game_date: today,
          player_lookup: 'player003',
          bookmaker: 'draftkings',
          points_line: 15.5,
          snapshot_timestamp: `${today}T18:00:00Z`,
          minutes_before_tipoff: 30,
        },
      ],
    });
    const check = await t.post('/check-lines', { game_date: today });
    expect(check.status).toBe(202);
    await waitForBatchEnd(t, String(check.body.batch_id));
    expect(hook.counts().get(`check_lines.${String(check.body.batch_id)}`)).toBe(1);
    expect(hook.received.find((r) => r.id === `check_lines.${String(check.body.batch_id)}`)?.text).toContain(
      'player003: 11.5 → 15.5 (line_move)',
    );

    // The signal and the morning summary: asked twice each, sent once each (force sends the summary again, as a new event).
    for (let i = 0; i < 2; i++)
      expect((await t.post('/check-signal', { game_date: today })).body).toMatchObject({
        status: 'success',
        signal: 'RED',
        alert: i === 0 ? 'sent' : 'duplicate',
      });
    const summary = await t.post('/morning-summary', {});
    expect(summary.body).toMatchObject({ status: 'sent', game_date: today });
    expect((await t.post('/morning-summary', {})).body).toMatchObject({ status: 'already_sent' });
    expect((await t.post('/morning-summary', { force: true })).body).toMatchObject({ status: 'sent' });

    const counts = hook.counts();
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.get(`morning_summary.${today}`)).toBe(1);
    expect([...counts.keys()].filter((k) => k.startsWith(`morning_summary.${today}.`))).toHaveLength(1);
    expect([...counts.keys()].filter((k) => k.startsWith(`signal.${today}.catboost_v9_tiny.RED`))).toHaveLength(1);
    expect(counts.has('(none)')).toBe(false);
  });

  it('three batches stalled within the hour raise one repeated-stalls alert; each failed batch is alerted once', async () => {
    hook = await startWebhookReceiver();
    const clock = new ManualClock(TEST_NOW);
    const dates = [today, addDays(today, 1), addDays(today, 2)];
    t = await startTestStack(
      { gameDate: today, players: 4, models: 1 },
      { clock, wrapCoordinatorBus: holdingBus(topicNames('').request, new Set(dates)), env: { SLACK_WEBHOOK_URL: hook.url } },
    );
    await copySlate(t.world, today, dates.slice(1));
    const batches: string[] = [];
    for (const date of dates) {
      const res = await t.post('/start', { game_date: date });
      expect(res.status).toBe(202);
      batches.push(String(res.body.batch_id));
    }
    clock.advance(31 * 60_000);
    const swept = await t.post('/check-stalled', {});
    expect(swept.body).toMatchObject({ batches_completed: 3 });
    for (const b of batches) expect((await waitForBatchEnd(t, b)).status).toBe('failed');
    await t.post('/check-stalled', {});
    const counts = hook.counts();
    const stalls = [...counts.keys()].filter((k) => k.startsWith('repeated_stalls.'));
    expect(stalls).toHaveLength(1);
    expect(counts.get(stalls[0] as string)).toBe(1);
    expect(hook.received.find((r) => r.id === stalls[0])?.text).toContain('3 batches stalled within the last hour (threshold 3)');
    for (const b of batches) expect(counts.get(`batch_end.${b}`), b).toBe(1);
    expect(hook.received).toHaveLength(4);
  });

  it('a notifier that fails never fails the batch: the batch ends and closes, and the alert was attempted once', async () => {
    hook = await startWebhookReceiver();
    hook.answer(500);
    t = await startTestStack(
      { gameDate: today, players: 5, models: 1 },
      {
        wrapCoordinatorBus: losingBus(topicNames('').request, new Set(['player001'])),
        env: { SLACK_WEBHOOK_URL: hook.url, PLAYERS_PER_MESSAGE: '1' },
      },
    );
    const res = await t.post('/start', { game_date: today });
    await t.stack.bus.idle();
    // player001's request was lost: the batch waits; the sweep completes it as it stands once it is old enough.
    const checked = await t.post('/check-stalled', { max_batch_age_minutes: 0.001 });
    expect(checked.body).toMatchObject({ batches_completed: 1 });
    const end = await waitForBatchEnd(t, String(res.body.batch_id));
    expect(end).toMatchObject({ status: 'partial', closed: true, closing: { phase5_status: 'partial' } });
    // One attempt (answered 500), nothing retried by the closing; the next batch still runs.
    expect(ids(hook)).toEqual([`batch_end.${String(res.body.batch_id)}`]);
    expect(t.stack.bus.published(t.stack.topics.phase5)).toHaveLength(1);
  });
});
