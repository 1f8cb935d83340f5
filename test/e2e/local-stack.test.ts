import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
let t: TestStack;
let batchId: string;
let published: number;
let messages: number;

const snapshot = () =>
  t.world.warehouse.query({
    name: 'snapshot',
    sql: `SELECT * FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = '${today}' ORDER BY prediction_id`,
  });

beforeAll(async () => {
  // 16 a message (the default, 64, would put the 45 players in one): the batch spans several chunked messages.
  t = await startTestStack({ gameDate: today, players: 45, models: 3 }, { env: { PLAYERS_PER_MESSAGE: '16' } });
  // Two players lose their lines: they are still published (NO_PROP_LINE), with NO_LINE rows.
  await t.world.warehouse.query({
    name: 'drop lines',
    sql: `DELETE FROM {{nba_raw.odds_api_player_points_props}} WHERE player_lookup IN ('player010', 'player011')`,
  });
  const res = await t.post('/start', { game_date: today });
  expect(res.status).toBe(202);
  batchId = String(res.body.batch_id);
  published = Number(res.body.published);
  messages = Number(res.body.messages);
  await waitForBatchEnd(t, batchId);
});

afterAll(async () => {
  await t.close();
});

describe('the local stack end to end', () => {
  it('consolidates one active row per (player, model) for every published player with a line', async () => {
    const status = (await t.get(`/status?batch_id=${batchId}`)).body;
    expect(status).toMatchObject({ status: 'complete', progress: { expected: published, completed: published } });
    expect(status.consolidation).toMatchObject({ duplicate_active_keys: 0, verify: { missing_rows: 0 } });
    expect(status.closing).toMatchObject({ phase5_status: 'success' });
    // Several players per message: fewer messages than players, every player in exactly one.
    expect(messages).toBeLessThan(published);
    const { players_per_message: perMessage } = (await t.get('/capacity')).body as { players_per_message: number };
    expect(messages).toBe(Math.ceil(published / perMessage));

    const rows = await snapshot();
    const active = rows.filter((r) => r.is_active === true);
    const withLine = active.filter((r) => r.current_points_line !== null);
    const key = (r: Record<string, unknown>) => `${String(r.player_lookup)}|${String(r.system_id)}`;
    const keys = withLine.map(key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(withLine.map((r) => r.player_lookup)).size).toBe(published - 2);
    expect(keys.length).toBe((published - 2) * t.world.systems.length);
    expect(active.filter((r) => r.current_points_line === null).every((r) => r.recommendation === 'NO_LINE')).toBe(true);
  });

  it('publishes exactly one honest phase-5 message', () => {
    const phase5 = t.stack.bus.published(t.stack.topics.phase5).map((m) => m.data as Record<string, unknown>);
    expect(phase5).toHaveLength(1);
    expect(phase5[0]).toMatchObject({
      metadata: { reasons: [`all ${published} published players predicted and merged`], failed_players: 0, missing_rows: 0 },
    });
    expect(phase5[0]).toMatchObject({
      processor_name: 'PredictionCoordinator',
      execution_id: batchId,
      status: 'success',
      record_count: published,
      metadata: { completion_pct: 100 },
    });
  });

  it('redelivering every request and every completion a second time leaves the table, the counts and the phase-5 messages unchanged', async () => {
    const before = await snapshot();
    const statusBefore = (await t.get(`/status?batch_id=${batchId}`)).body;
    expect(t.stack.bus.redeliverAll(`${t.stack.topics.request}-push`)).toBe(messages);
    await t.stack.bus.idle();
    t.stack.bus.redeliverAll(`${t.stack.topics.ready}-push`);
    await t.stack.bus.idle();
    expect(await snapshot()).toEqual(before);
    const statusAfter = (await t.get(`/status?batch_id=${batchId}`)).body;
    expect(statusAfter.progress).toMatchObject({
      completed: (statusBefore.progress as Record<string, number>).completed,
      total_predictions: (statusBefore.progress as Record<string, number>).total_predictions,
    });
    expect(t.stack.bus.published(t.stack.topics.phase5)).toHaveLength(1);
  });

  it('lists every candidate with exactly one outcome on /status?players=true', async () => {
    const body = (await t.get(`/status?batch_id=${batchId}&players=true`)).body;
    const players = body.players as Array<{ player_lookup: string; outcome: string }>;
    expect(players).toHaveLength(45);
    expect(new Set(players.map((p) => p.player_lookup)).size).toBe(45);
    expect(players.filter((p) => p.outcome === 'published')).toHaveLength(published);
  });

  it('a second run for the same date publishes nobody: every model already has an active prediction', async () => {
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(202);
    expect(res.body.published).toBe(0);
    expect((res.body.summary as { gate: { by_reason: unknown } }).gate.by_reason).toEqual({ already_has_prediction: 45 });
    const end = await waitForBatchEnd(t, String(res.body.batch_id));
    expect(end).toMatchObject({ status: 'complete', closing: { phase5_status: 'no_data' } });
  });
});

describe('exactly once under duplicate and concurrent delivery', () => {
  it('every completion redelivered three times, in random order and at once, changes no count, no row and no message', async () => {
    const completions = t.stack.bus.published(t.stack.topics.ready).filter((m) => (m.data as { batch_id: string }).batch_id === batchId);
    const copies = [...completions, ...completions, ...completions].sort(() => Math.random() - 0.5);
    const before = await snapshot();
    const statusBefore = (await t.get(`/status?batch_id=${batchId}`)).body;
    const answers = await Promise.all(
      copies.map((m) =>
        fetch(`${t.stack.coordinatorUrl}/complete`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            message: { data: Buffer.from(JSON.stringify(m.data)).toString('base64'), messageId: m.messageId },
            subscription: 'x',
          }),
        }).then((r) => r.status),
      ),
    );
    expect(new Set(answers)).toEqual(new Set([204]));
    expect(await snapshot()).toEqual(before);
    // An ended batch's progress is frozen at its end: the same answer, to the field.
    expect((await t.get(`/status?batch_id=${batchId}`)).body.progress).toEqual(statusBefore.progress);
    expect(
      t.stack.bus.published(t.stack.topics.phase5).filter((m) => (m.data as { execution_id: string }).execution_id === batchId),
    ).toHaveLength(1);
  });

  it('a forced second batch for one date supersedes the first before it dispatches: one batch per date, no duplicate active rows', async () => {
    const a = await t.post('/start', { game_date: today, prediction_run_mode: 'LINE_UPDATE' });
    const b = await t.post('/start', { game_date: today, prediction_run_mode: 'LINE_UPDATE', force: true });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.body.superseded_batch_id).toBe(a.body.batch_id);
    const [endA, endB] = await Promise.all([waitForBatchEnd(t, String(a.body.batch_id)), waitForBatchEnd(t, String(b.body.batch_id))]);
    // The first may have finished before the second started; if not, it ended `superseded`, its phase 5 not success.
    if (endA.status === 'superseded') {
      expect(endA).toMatchObject({ superseded_by: b.body.batch_id, closing: { phase5_status: 'failed' } });
      const phase5A = t.stack.bus
        .published(t.stack.topics.phase5)
        .map((m) => m.data as { execution_id?: unknown; status?: unknown; metadata: { superseded_by?: unknown } })
        .filter((m) => m.execution_id === a.body.batch_id);
      expect(phase5A.map((m) => m.status)).toEqual(['failed']);
      expect(phase5A[0]?.metadata.superseded_by).toBe(b.body.batch_id);
    } else expect(endA.status).toBe('complete');
    expect(endB).toMatchObject({ status: 'complete', consolidation: { duplicate_active_keys: 0 }, closing: { phase5_status: 'success' } });
    const active = (await snapshot()).filter((r) => r.is_active === true);
    const keys = active.map((r) => `${String(r.player_lookup)}|${String(r.system_id)}|${String(r.current_points_line)}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(active.map((r) => `${String(r.player_lookup)}|${String(r.system_id)}`)).size).toBe(keys.length);
  });
});
