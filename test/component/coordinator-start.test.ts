import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { TEST_TODAY } from '../helpers/clock.js';
import { losingBus } from '../helpers/bus-faults.js';
import { topicNames } from '../../shared/config/common.js';

const today = TEST_TODAY;
let t: TestStack | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('POST /start', () => {
  it('when the slate is healthy, answers 202 with the batch, the summary and a monitor URL, and the batch completes', async () => {
    t = await startTestStack({ gameDate: today, players: 12 });
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'started', game_date: today, total_requests: 12, published: 12 });
    expect(res.body.monitor_url).toBe(`/status?batch_id=${String(res.body.batch_id)}`);
    const summary = res.body.summary as { lines: { by_source: object }; gate: { by_outcome: object }; phase_ms: object };
    expect(summary.lines.by_source).toMatchObject({ ODDS_API: 12, BETTINGPROS: 0, NO_PROP_LINE: 0 });
    expect(summary.gate.by_outcome).toMatchObject({ published: 12, skipped: 0, blocked: 0 });
    expect(Object.keys(summary.phase_ms)).toEqual(expect.arrayContaining(['lease', 'completeness', 'players', 'lines', 'gate', 'publish']));
    const end = await waitForBatchEnd(t, String(res.body.batch_id));
    expect(end.status).toBe('complete');
    expect(end.progress).toMatchObject({ expected: 12, completed: 12, total_predictions: 36 });
  });

  it('when ten /start calls for one date arrive at once, exactly one gets 202 and the others 409 naming that batch', async () => {
    t = await startTestStack({ gameDate: today, players: 30 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => t!.post('/start', { game_date: today })));
    const started = answers.filter((a) => a.status === 202);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(started).toHaveLength(1);
    expect(conflicts).toHaveLength(9);
    for (const c of conflicts) {
      expect(c.body).toMatchObject({ status: 'already_running', batch_id: started[0]?.body.batch_id });
      expect(c.body.message).toMatch(/force/);
    }
    await waitForBatchEnd(t, String(started[0]?.body.batch_id));
  });

  it('rejects bad bodies with 400 naming the field, and never starts a batch', async () => {
    t = await startTestStack({ gameDate: today, players: 3 });
    const cases: Array<[unknown, RegExp]> = [
      [{ game_date: '2026-13-01' }, /game_date/],
      [{ game_date: '1999-01-01' }, /more than 90 days in the past/],
      [{ force: 'true' }, /force/],
      [{ unknown_field: 1 }, /unknown_field/],
      [{ prediction_run_mode: 'NOPE' }, /prediction_run_mode/],
      [{ dataset_prefix: 'Bad-Prefix' }, /dataset_prefix/],
      ['{not json', /not valid JSON/],
    ];
    for (const [body, pattern] of cases) {
      const res = await t.post('/start', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(String(res.body.message)).toMatch(pattern);
    }
    expect((await t.get('/status')).body).toMatchObject({ status: 'no_active_batch', batches: [] });
  });

  it('refuses requests without the API key or with a wrong one', async () => {
    t = await startTestStack({ gameDate: today, players: 3 });
    expect((await t.post('/start', {}, { 'x-api-key': 'wrong-key-wrong-key-wrong' })).status).toBe(401);
    const res = await fetch(`${t.stack.coordinatorUrl}/start`, { method: 'POST' });
    expect(res.status).toBe(401);
  });

  it('makes the same number of warehouse queries at 10, 100 and 500 players, and at 1 and 8 models', async () => {
    const counts: number[] = [];
    for (const [players, models] of [
      [10, 1],
      [100, 1],
      [500, 1],
      [10, 8],
      [500, 8],
    ] as const) {
      // The count is in the 202 answer: the request messages are accepted and dropped, so no worker predicts up to 500
      // players × 8 models while the stack closes (closing waits for pushes in flight).
      t = await startTestStack({ gameDate: today, players, models }, { wrapCoordinatorBus: losingBus(topicNames('').request, 'all') });
      const res = await t.post('/start', { game_date: today });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ published: Math.min(players, 500) });
      const reported = (res.body.summary as Record<string, number>).warehouse_queries;
      counts.push(reported as number);
      await t.close();
      t = undefined;
    }
    expect(new Set(counts).size).toBe(1);
    expect(counts[0]).toBeLessThanOrEqual(8);
  });
});
