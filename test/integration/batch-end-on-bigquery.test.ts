/**
 * The batch end against what BigQuery does (issue 15), through the real product: the coordinator and the worker on the
 * local stack, their warehouse the real BigQueryWarehouse talking to the fake BigQuery in engine mode (jobs run on the tiny
 * world's DuckDB; the worker streams staging rows with insertAll). The fake holds streamed rows back like BigQuery's
 * streaming buffer, cancels a transaction that overlaps another on the same table, and gives successful jobs warnings.
 * The tiny world: 3 players × 3 models = 9 predictions per date, one staging row each. Waits are shortened through the
 * configuration (VERIFY_WAIT_SECONDS, …) and an injected clock, never by patching the product.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitForBatchEnd, until } from '../helpers/stack.js';
import { startStackOnFakeBigQuery, FAKE_PROJECT, type FakeBigQueryStack } from '../helpers/fake-bigquery-stack.js';
import { copySlate } from '../helpers/predict-cli.js';
import { ManualClock } from '../../shared/ports/clock.js';
import { addDays } from '../../shared/dates/game-date.js';
import { mergeLockKey } from '../../services/coordinator/batch/locks.js';
import { topicNames } from '../../shared/config/common.js';
import { buildEnvelope } from '../../shared/adapters/local-bus/push.js';
import type { BatchStore } from '../../shared/ports/batch-store.js';
import type { Bus, OutgoingMessage } from '../../shared/ports/bus.js';
import type { PublishedMessage } from '../../shared/adapters/local-bus/local-bus.js';
import { TEST_TODAY, TEST_NOW } from '../helpers/clock.js';

const today = TEST_TODAY;
const STAGING = 'nba_predictions.prediction_staging';
const STREAMING_WARNING = `[streamingBuffer] Table ${FAKE_PROJECT}:nba_predictions.prediction_staging: buffered data may be temporarily unavailable to this query (streaming buffer)`;
const MERGE_KEY = mergeLockKey('');

let t: FakeBigQueryStack | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start(date: string): Promise<string> {
  const res = await t!.post('/start', { game_date: date });
  expect(res.status).toBe(202);
  return String(res.body.batch_id);
}

/** What the merge wrote for a date, read from the DuckDB tables (not through the fake). */
async function merged(date: string) {
  return t!.world.warehouse.query({
    name: 'merged',
    sql: `SELECT COUNT(*) AS n, COUNT(DISTINCT prediction_id) AS ids, COUNT(DISTINCT player_lookup) AS players, SUM(CASE WHEN is_active THEN 1 ELSE 0 END) AS active
          FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = CAST('${date}' AS DATE)`,
  });
}

const phase5 = () => t!.stack.bus.published(t!.stack.topics.phase5).map((m) => m.data as Record<string, unknown>);
const mergeJobs = () => t!.fake.createdJobs((sql) => sql.includes('MERGE INTO'));
const stagedCountWarned = () =>
  t!.fake.warned.filter((w) => t!.fake.createdJobs((sql) => sql.includes('AS visible_rows')).some((j) => j.jobId === w.jobId));

describe('streamed rows the merge cannot see yet (the streaming buffer)', () => {
  it('rows hidden for a while: the verification waits for them with backoff, then the batch ends success with every row merged', async () => {
    t = await startStackOnFakeBigQuery({ gameDate: today, players: 3 }, { env: { VERIFY_WAIT_SECONDS: '60' } });
    const buffer = t.fake.hideStreamedRows({ table: STAGING });
    const batchId = await start(today);
    // The coordinator counted the staged rows, saw none (the count succeeded with the buffer's warning), and is waiting.
    await until('the staged-row count ran while the rows were held back', () => stagedCountWarned().length >= 1);
    expect(buffer.hiddenRows).toBe(9);
    expect((await t.get(`/status?batch_id=${batchId}`)).body).toMatchObject({ status: 'consolidating' });
    await buffer.reveal();

    const status = await waitForBatchEnd(t, batchId);
    expect(status).toMatchObject({
      status: 'complete',
      consolidation: {
        verify: { reported_rows: 9, visible_rows: 9, missing_rows: 0 },
        merge: { rows_merged: 9, rows_deactivated: 0, rows_accounted: 9 },
        warnings: [STREAMING_WARNING],
        error: null,
      },
      closing: { phase5_status: 'success' },
    });
    expect((status.consolidation as { verify: { checks: number } }).verify.checks).toBeGreaterThanOrEqual(2);
    expect(await merged(today)).toEqual([{ n: 9, ids: 9, players: 3, active: 9 }]);
    expect(phase5()).toEqual([
      expect.objectContaining({ status: 'success', metadata: expect.objectContaining({ rows_merged: 9, missing_rows: 0 }) }),
    ]);
    expect(mergeJobs()).toHaveLength(1);
  });

  it('rows that never appear: the batch ends partial with the missing count in /status and the phase-5 message, never success', async () => {
    t = await startStackOnFakeBigQuery({ gameDate: today, players: 3 }, { env: { VERIFY_WAIT_SECONDS: '1' } });
    // player001's three rows (one per model) stay in the buffer for good.
    t.fake.hideStreamedRows({ table: STAGING, where: (row) => row.player_lookup === 'player001' });
    const batchId = await start(today);

    const status = await waitForBatchEnd(t, batchId);
    expect(status).toMatchObject({
      status: 'partial',
      consolidation: {
        verify: { reported_rows: 9, visible_rows: 6, missing_rows: 3 },
        merge: { rows_merged: 6, rows_accounted: 6 },
        warnings: [STREAMING_WARNING],
      },
      closing: { phase5_status: 'partial', reasons: ['3 of 9 staged rows never became visible to the merge'] },
    });
    const [message] = phase5();
    expect(phase5()).toHaveLength(1);
    expect(message).toMatchObject({
      status: 'partial',
      metadata: { missing_rows: 3, rows_merged: 6, reasons: ['3 of 9 staged rows never became visible to the merge'] },
    });
    expect(await merged(today)).toEqual([{ n: 6, ids: 6, players: 2, active: 6 }]);
  });
});

describe('two dates consolidating at the same moment', () => {
  const D1 = addDays(today, -2);
  const D2 = addDays(today, -1);

  /** Both dates' slates in one world; the merge lock watched (or bypassed) through the batch store. */
  async function twoDates(lock: 'watched' | 'bypassed', env: Record<string, string>) {
    const attempts: Array<{ key: string; holder: string; ok: boolean }> = [];
    const wrapBatchStore = (store: BatchStore): BatchStore =>
      new Proxy(store, {
        get(target, prop, receiver) {
          if (prop !== 'acquireLock') {
            const v = Reflect.get(target, prop, receiver) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          }
          return async (key: string, holder: string, ttlMs: number) => {
            const ok = (await target.acquireLock(key, holder, ttlMs)) || (lock === 'bypassed' && key === MERGE_KEY);
            attempts.push({ key, holder, ok });
            return ok;
          };
        },
      });
    t = await startStackOnFakeBigQuery({ gameDate: D1, players: 3 }, { wrapBatchStore, env });
    await copySlate(t.world, D1, [D2]);
    return attempts;
  }

  const PREDICTIONS_TABLE = `${FAKE_PROJECT}.nba_predictions.player_prop_predictions`;
  const mergeTransactions = () => t!.fake.transactions.filter((x) => x.tables.includes(PREDICTIONS_TABLE));

  it('the table-wide merge lock makes the second wait for the first: both end success, no transaction is cancelled', async () => {
    const attempts = await twoDates('watched', { MERGE_LOCK_WAIT_SECONDS: '60' });
    // The first date's merge transaction stops before its COMMIT, holding player_prop_predictions.
    const commit = t!.fake.holdTransactions();
    const first = await start(D1);
    await until('the first merge waits before its COMMIT', () => commit.waiting.length === 1);
    const second = await start(D2);
    // The second date's consolidation asks for the merge lock while the first holds it, and is refused: it waits.
    await until('the second consolidation waits for the merge lock', () =>
      attempts.some((a) => a.key === MERGE_KEY && a.holder.startsWith(`${second}:`) && !a.ok),
    );
    commit.release();

    const [a, b] = [await waitForBatchEnd(t!, first), await waitForBatchEnd(t!, second)];
    for (const status of [a, b])
      expect(status).toMatchObject({
        status: 'complete',
        consolidation: { merge: { rows_merged: 9, rows_accounted: 9 } },
        closing: { phase5_status: 'success' },
      });
    expect(t!.fake.conflicts).toEqual([]);
    // The merges (each batch's daily-signal update is a transaction of its own, on another table).
    const txs = mergeTransactions();
    expect(txs.map((x) => x.outcome)).toEqual(['committed', 'committed']);
    expect(txs[1]!.began).toBeGreaterThan(txs[0]!.ended!); // one after the other
    expect(mergeJobs()).toHaveLength(2);
    expect(await merged(D1)).toEqual([{ n: 9, ids: 9, players: 3, active: 9 }]);
    expect(await merged(D2)).toEqual([{ n: 9, ids: 9, players: 3, active: 9 }]);
    expect(
      phase5()
        .map((m) => [m.game_date, m.status])
        .sort(),
    ).toEqual([
      [D1, 'success'],
      [D2, 'success'],
    ]);
  });

  it('with the lock bypassed, BigQuery cancels the overlapping merge and the conflict retry budget still gets both through', async () => {
    await twoDates('bypassed', { MERGE_CONFLICT_RETRY_SECONDS: '60' });
    const commit = t!.fake.holdTransactions();
    const first = await start(D1);
    await until('the first merge waits before its COMMIT', () => commit.waiting.length === 1);
    const second = await start(D2);
    await until('the second merge was cancelled by the first', () => t!.fake.conflicts.length >= 1);
    commit.release();

    const [a, b] = [await waitForBatchEnd(t!, first), await waitForBatchEnd(t!, second)];
    for (const status of [a, b])
      expect(status).toMatchObject({
        status: 'complete',
        consolidation: { merge: { rows_merged: 9, rows_accounted: 9 } },
        closing: { phase5_status: 'success' },
      });
    const [held] = mergeTransactions();
    expect(t!.fake.conflicts.every((c) => c.heldBy === held!.jobId && c.table === PREDICTIONS_TABLE)).toBe(true);
    expect(mergeTransactions().filter((x) => x.outcome === 'committed')).toHaveLength(2);
    expect(await merged(D1)).toEqual([{ n: 9, ids: 9, players: 3, active: 9 }]);
    expect(await merged(D2)).toEqual([{ n: 9, ids: 9, players: 3, active: 9 }]);
  });
});

describe('a consolidation interrupted after the batch moved to consolidating', () => {
  /** Accepts the first consolidation trigger and drops it: the message is lost. */
  const losingFirstTrigger =
    (topic: string) =>
    (bus: Bus): Bus => {
      let lost = false;
      return {
        async publish(to: string, messages: OutgoingMessage[]) {
          if (to !== topic || lost) return bus.publish(to, messages);
          lost = true;
          return messages.map((_, i) => ({ ok: true as const, messageId: `lost-${i}` }));
        },
        close: () => bus.close(),
      };
    };

  it('its trigger lost: /check-stalled past the deadline hands it to the step again; every prediction merged once', async () => {
    const clock = new ManualClock(TEST_NOW);
    t = await startStackOnFakeBigQuery(
      { gameDate: today, players: 3 },
      { clock, wrapCoordinatorBus: losingFirstTrigger(topicNames('').consolidate) },
    );
    const batchId = await start(today);
    await until('every player reported', async () => (await t!.get(`/status?batch_id=${batchId}`)).body.status === 'consolidating');
    await t.stack.bus.idle();
    expect(await t.post('/check-stalled', {})).toMatchObject({
      body: { results: [{ batch_id: batchId, action: 'no_action', state: 'consolidating' }] },
    });
    expect(mergeJobs()).toHaveLength(0);

    clock.advance(541_000); // CONSOLIDATION_DEADLINE_SECONDS (540 by default) after the transition
    const checked = await t.post('/check-stalled', {});
    expect(checked.body).toMatchObject({
      results: [{ batch_id: batchId, action: 'consolidation_retriggered', reason: expect.stringContaining('deadline 540 s') }],
    });
    const status = await waitForBatchEnd(t, batchId);
    expect(status).toMatchObject({
      status: 'complete',
      consolidation: { attempts: 1, merge: { rows_merged: 9, rows_accounted: 9 } },
      closing: { phase5_status: 'success' },
    });
    expect(await merged(today)).toEqual([{ n: 9, ids: 9, players: 3, active: 9 }]);
    expect(mergeJobs()).toHaveLength(1);
    expect(phase5()).toHaveLength(1);
  });

  it('its attempts failed until the trigger was dead-lettered: /check-stalled past the deadline finishes it; every prediction merged once', async () => {
    const clock = new ManualClock(TEST_NOW);
    t = await startStackOnFakeBigQuery({ gameDate: today, players: 3 }, { clock, maxDeliveryAttempts: 2 });
    // Each delivery of the step: the adapter's 3 attempts at the merge fail (BigQuery backendError) → 5xx; after 2
    // deliveries the trigger is dead-lettered.
    const backend = { code: 503, reason: 'backendError', message: 'Backend error. Job aborted.' };
    t.fake.failJobsMatching((sql) => sql.includes('MERGE INTO'), ...Array.from({ length: 6 }, () => backend));
    const batchId = await start(today);
    await until(
      'the consolidation trigger was dead-lettered',
      () => t!.stack.bus.deadLettered(`${t!.stack.topics.consolidate}-push`).length === 1,
    );
    await t.stack.bus.idle();
    const stuck = (await t.get(`/status?batch_id=${batchId}`)).body;
    expect(stuck).toMatchObject({
      status: 'consolidating',
      closed: false,
      consolidation: { attempts: 2, merge: null, error: expect.stringContaining('backendError') },
    });
    expect(await merged(today)).toEqual([{ n: 0, ids: 0, players: 0, active: null }]);

    clock.advance(541_000);
    expect((await t.post('/check-stalled', {})).body).toMatchObject({
      results: [{ batch_id: batchId, action: 'consolidation_retriggered' }],
    });
    const status = await waitForBatchEnd(t, batchId);
    expect(status).toMatchObject({
      status: 'complete',
      consolidation: { attempts: 3, error: null, merge: { rows_merged: 9, rows_accounted: 9 } },
      closing: { phase5_status: 'success' },
    });
    expect(await merged(today)).toEqual([{ n: 9, ids: 9, players: 3, active: 9 }]);
    expect(mergeJobs().map((j) => j.failed)).toEqual([true, true, true, true, true, true, false]);
    expect(phase5()).toHaveLength(1);
  });

  it('its merge committed but the answer was lost: the step runs again (the merge is idempotent) and ends success; every prediction merged once', async () => {
    t = await startStackOnFakeBigQuery({ gameDate: today, players: 3 });
    // The merge transaction commits; reading its per-statement results (jobs.list of its child jobs) fails on every one of
    // the adapter's attempts, as during a short BigQuery API outage.
    const unavailable = { code: 503, reason: 'backendError', message: 'The service is currently unavailable.' };
    t.fake.failRequests('jobs.list', unavailable, unavailable, unavailable);
    const batchId = await start(today);
    const status = await waitForBatchEnd(t, batchId);
    expect(status).toMatchObject({
      status: 'complete',
      consolidation: { attempts: 2, error: null, merge: { rows_merged: 9, rows_accounted: 9 } },
      closing: { phase5_status: 'success' },
    });
    expect(await merged(today)).toEqual([{ n: 9, ids: 9, players: 3, active: 9 }]);
    expect(mergeJobs().map((j) => j.failed)).toEqual([false, false]);
    expect(phase5()).toEqual([expect.objectContaining({ status: 'success' })]);
  });
});

describe('redelivery', () => {
  it('every completion and the consolidation step delivered 3 times, concurrently: one merge, one phase-5 message, one run-history row', async () => {
    t = await startStackOnFakeBigQuery({ gameDate: today, players: 3 }, { env: { PLAYERS_PER_MESSAGE: '1' } });
    const { bus, topics, coordinatorUrl } = t.stack;
    // Pub/Sub delivers at least once: each message on the ready and consolidate topics is pushed twice more, at once, with
    // the same message id, beside the bus's own delivery.
    const extra: Array<Promise<number>> = [];
    const redeliver = (subscription: string, path: string) => (m: PublishedMessage) => {
      const envelope = buildEnvelope(
        {
          messageId: m.messageId,
          attributes: m.attributes,
          publishTime: m.publishTime,
          data64: Buffer.from(JSON.stringify(m.data)).toString('base64'),
        },
        `projects/local/subscriptions/${subscription}`,
        undefined,
      );
      for (let i = 0; i < 2; i++) {
        extra.push(
          fetch(`${coordinatorUrl}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(envelope),
          }).then(async (r) => (await r.arrayBuffer(), r.status)),
        );
      }
    };
    bus.onPublish(topics.ready, redeliver(`${topics.ready}-push`, '/complete'));
    bus.onPublish(topics.consolidate, redeliver(`${topics.consolidate}-push`, '/consolidate'));
    const batchId = await start(today);

    const status = await waitForBatchEnd(t, batchId);
    const answers = await Promise.all(extra);
    expect(answers).toHaveLength(2 * (3 + 1)); // 3 completion events and 1 consolidation trigger, 2 extra copies each
    expect(answers.every((s) => s >= 200 && s < 300)).toBe(true);
    expect(status).toMatchObject({
      status: 'complete',
      progress: { expected: 3, completed: 3, failed: 0 },
      consolidation: { merge: { rows_merged: 9, rows_accounted: 9 } },
      closing: { phase5_status: 'success' },
    });
    expect(mergeJobs()).toHaveLength(1);
    expect(phase5()).toHaveLength(1);
    expect(await merged(today)).toEqual([{ n: 9, ids: 9, players: 3, active: 9 }]);
    const history = await t.world.warehouse.query({ name: 'h', sql: 'SELECT run_id, status FROM {{nba_reference.processor_run_history}}' });
    expect(history).toEqual([{ run_id: batchId, status: 'success' }]);
  });

  it('every prediction request delivered 3 times and BigQuery’s insertId dedupe missing the copies: staging holds duplicates, each prediction is merged once', async () => {
    t = await startStackOnFakeBigQuery({ gameDate: today, players: 3 }, { env: { PLAYERS_PER_MESSAGE: '1', VERIFY_WAIT_SECONDS: '60' } });
    t.fake.dedupeInsertIds = false;
    const { bus, topics, workerUrl } = t.stack;
    const extra: Array<Promise<number>> = [];
    bus.onPublish(topics.request, (m) => {
      const envelope = buildEnvelope(
        {
          messageId: m.messageId,
          attributes: m.attributes,
          publishTime: m.publishTime,
          data64: Buffer.from(JSON.stringify(m.data)).toString('base64'),
        },
        `projects/local/subscriptions/${topics.request}-push`,
        undefined,
      );
      for (let i = 0; i < 2; i++)
        extra.push(
          fetch(`${workerUrl}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(envelope),
          }).then(async (r) => (await r.arrayBuffer(), r.status)),
        );
    });
    // Every copy writes its rows before the merge can see any (the buffer holds them until all copies were answered).
    const buffer = t.fake.hideStreamedRows({ table: STAGING });
    const batchId = await start(today);
    await until('the requests were published', () => extra.length === 6);
    expect((await Promise.all(extra)).every((s) => s >= 200 && s < 300)).toBe(true);
    await buffer.reveal();

    const status = await waitForBatchEnd(t, batchId);
    expect(status).toMatchObject({
      status: 'complete',
      consolidation: { verify: { reported_rows: 9, visible_rows: 9, missing_rows: 0 }, merge: { rows_merged: 9, rows_accounted: 9 } },
      closing: { phase5_status: 'success' },
    });
    expect(
      await t.world.warehouse.query({
        name: 'staged',
        sql: 'SELECT COUNT(*) AS n, COUNT(DISTINCT prediction_id) AS ids FROM {{nba_predictions.prediction_staging}}',
      }),
    ).toEqual([{ n: 27, ids: 9 }]);
    expect(await merged(today)).toEqual([{ n: 9, ids: 9, players: 3, active: 9 }]);
    expect(status).toMatchObject({ consolidation: { duplicate_active_keys: 0 } });
  });
});
