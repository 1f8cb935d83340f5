/**
 * Issue 16, with the coordinator and the worker as real processes on the embedded default and a proxy between the bus and
 * the worker (it stands for a worker that is unreachable, or that keeps failing one message):
 *  - ended batches cost nothing: after `/reset`, and after `/check-stalled` completed a batch as partial, the requests
 *    still on the bus are delivered and acked without a model run or a staging row;
 *  - dead letters are never silent: a request that fails on every delivery attempt is dead-lettered, its players show as
 *    `dead_lettered` with the reason on `/status?players=true`, the batch ends `partial` with a phase-5 message, and
 *    `predict redrive BATCH` re-predicts them in a new batch that ends complete.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildServices,
  PAIR_API_KEY,
  ProcessPair,
  type PairOptions,
  type ProxyAction,
  type PushedRequest,
} from '../helpers/process-pair.js';
import { cli } from '../helpers/predict-cli.js';
import { addDays } from '../../shared/dates/game-date.js';
import { TEST_TODAY } from '../helpers/clock.js';

const PLAYERS = 24;
const MODELS = 2;
const PER_MESSAGE = 3;
const MESSAGES = PLAYERS / PER_MESSAGE;
const today = TEST_TODAY;
const dates = Array.from({ length: 4 }, (_, i) => addDays(today, i));
/**
 * The workers here trust a batch's cached `running` state this long (BATCH_STATE_TTL_SECONDS; 5 s by default), so the
 * test can wait out the window instead of the default's 5 s per scenario.
 */
const BATCH_STATE_TTL_MS = 250;
const SHORT_TTL = { BATCH_STATE_TTL_SECONDS: String(BATCH_STATE_TTL_MS / 1000) };

let dir = '';
const pairs: ProcessPair[] = [];

beforeAll(() => {
  dir = buildServices('ended-batches-');
}, 180_000);

afterAll(async () => {
  await Promise.all(pairs.map((p) => p.cleanup()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function pair(
  proxy: (push: PushedRequest) => ProxyAction,
  env: Record<string, string> = {},
  opts: Partial<PairOptions> = {},
): Promise<ProcessPair> {
  const p = await ProcessPair.create({
    dir,
    dates,
    players: PLAYERS,
    models: MODELS,
    playersPerGame: 8,
    coordinatorEnv: { PLAYERS_PER_MESSAGE: String(PER_MESSAGE), LOCAL_BUS_MAX_DELIVERY_ATTEMPTS: '100', ...env },
    proxy,
    ...opts,
  });
  pairs.push(p);
  return p;
}

/** The first two request messages reach the worker; the rest find it unreachable (503) while `blocked`. */
function twoThenBlocked(): { proxy: (push: PushedRequest) => ProxyAction; unblock: () => void } {
  let blocked = true;
  const through = new Set<string>();
  return {
    proxy: (push) => {
      const key = push.players.join(',');
      if (through.has(key) || through.size < 2) {
        through.add(key);
        return { forward: true };
      }
      return blocked ? { status: 503 } : { forward: true };
    },
    unblock: () => (blocked = false),
  };
}

/** The worker's log lines saying it acked a request of this ended batch without predicting (not the access-log lines). */
const ended = (worker: string, batchId: string): number =>
  worker.split('\n').filter((l) => l.includes('"REQUEST_FOR_ENDED_BATCH"') && l.includes(batchId) && !l.includes('"httpRequest"')).length;

describe('ended batches cost nothing', () => {
  /**
   * After the end, the requests still held back are let through once the worker's cached `running` state has lapsed (it
   * trusts a running state that long: the window docs/operations.md names), and the test waits for the bus to have
   * delivered every one of them.
   */
  async function deliverTheRest(p: ProcessPair, unblock: () => void): Promise<void> {
    await new Promise((r) => setTimeout(r, BATCH_STATE_TTL_MS + 500));
    unblock();
    await p.until('every request delivered', async () => ((await p.pendingRequests()) === 0 ? true : undefined));
  }

  it('after /reset at 6 of 24 players, the 6 request messages still on the bus are acked without a model run or a staging row', async () => {
    const date = dates[0] as string;
    const gate = twoThenBlocked();
    const p = await pair(gate.proxy);
    await p.startCoordinator();
    const worker = await p.startWorker(SHORT_TTL);
    const answer = await p.api('POST', '/start', { game_date: date });
    expect(answer.status).toBe(202);
    const batchId = String(answer.body.batch_id);
    await p.until('two messages reported', async () =>
      (await p.status(batchId)).progress.completed === 2 * PER_MESSAGE ? true : undefined,
    );

    const reset = await p.api('POST', '/reset', { batch_id: batchId });
    expect(reset.status).toBe(200);
    const atReset = await p.waitClosed(batchId);
    expect(atReset).toMatchObject({ status: 'failed', progress: { completed: 2 * PER_MESSAGE } });
    const staged = await p.stagingRows(batchId);
    expect(staged).toBe(2 * PER_MESSAGE * MODELS);

    await deliverTheRest(p, gate.unblock);
    expect(await p.stagingRows(batchId)).toBe(staged);
    expect(ended(worker.logs(), batchId)).toBe(MESSAGES - 2);
    const after = await p.status(batchId);
    expect(after.progress).toEqual(atReset.progress);
    expect(await p.predictions(date)).toHaveLength(0);
  }, 150_000);

  it('after /check-stalled completed the batch as partial at 6 of 24 players, the remaining requests are acked without a staging row', async () => {
    const date = dates[1] as string;
    const gate = twoThenBlocked();
    const p = await pair(gate.proxy);
    await p.startCoordinator();
    const worker = await p.startWorker(SHORT_TTL);
    const answer = await p.api('POST', '/start', { game_date: date });
    const batchId = String(answer.body.batch_id);
    await p.until('two messages reported', async () =>
      (await p.status(batchId)).progress.completed === 2 * PER_MESSAGE ? true : undefined,
    );

    const check = await p.api('POST', '/check-stalled', { batch_id: batchId, max_batch_age_minutes: 0.001 });
    expect(check.status).toBe(200);
    expect(check.body.results).toMatchObject([{ batch_id: batchId, action: 'completed_as_partial' }]);
    const end = await p.waitClosed(batchId);
    expect(end).toMatchObject({
      status: 'partial',
      closing: { phase5_status: 'partial' },
      progress: { expected: PLAYERS, completed: 2 * PER_MESSAGE },
    });
    // What came in is merged: 6 players × 2 models.
    const merged = (await p.predictions(date)).filter((r) => r.is_active === true);
    expect(merged).toHaveLength(2 * PER_MESSAGE * MODELS);
    const staged = await p.stagingRows(batchId);
    expect(staged).toBe(2 * PER_MESSAGE * MODELS);

    await deliverTheRest(p, gate.unblock);
    expect(await p.stagingRows(batchId)).toBe(staged);
    expect(ended(worker.logs(), batchId)).toBe(MESSAGES - 2);
    expect((await p.status(batchId)).progress).toEqual(end.progress);
    expect(await p.predictions(date)).toHaveLength(2 * PER_MESSAGE * MODELS);
  }, 150_000);
});

describe('dead letters are never silent', () => {
  it('a request the worker fails on every attempt is dead-lettered, shown on /status, ends the batch partial, and predict redrive re-predicts it', async () => {
    const date = dates[2] as string;
    const victim = 'player004';
    let failing = true;
    // The worker answers 500 to the message carrying the victim (and its two companions) until the cause is fixed.
    const p = await pair((push) => (failing && push.players.includes(victim) ? { status: 500 } : { forward: true }), {
      LOCAL_BUS_MAX_DELIVERY_ATTEMPTS: '3',
    });
    await p.startCoordinator();
    await p.startWorker();
    const answer = await p.api('POST', '/start', { game_date: date });
    expect(answer.status).toBe(202);
    const batchId = String(answer.body.batch_id);

    const end = await p.waitClosed(batchId);
    expect(end).toMatchObject({
      status: 'partial',
      progress: { expected: PLAYERS, completed: PLAYERS, failed: PER_MESSAGE },
      closing: { phase5_status: 'partial' },
    });
    expect(end.closing?.reasons.join('; ')).toContain(`${PER_MESSAGE} players failed`);
    const withPlayers = await p.status(batchId, true);
    const lost = (withPlayers.players ?? []).filter((pl) => pl.completion?.kind === 'dead_lettered');
    expect(lost.map((pl) => pl.player_lookup)).toContain(victim);
    expect(lost).toHaveLength(PER_MESSAGE);
    for (const pl of lost)
      expect(pl.completion?.reason).toMatch(/^dead-lettered by prediction-request-push after 3 delivery attempts: .*500/);
    expect((withPlayers.players ?? []).filter((pl) => pl.completion?.kind === 'predicted')).toHaveLength(PLAYERS - PER_MESSAGE);
    const phase5 = await p.phase5(batchId);
    expect(phase5).toMatchObject([{ status: 'partial', metadata: { failed_players: PER_MESSAGE } }]);
    expect(await p.runHistory(batchId)).toEqual([{ run_id: batchId, status: 'partial' }]);
    expect((await p.predictions(date)).filter((r) => r.player_lookup === victim)).toHaveLength(0);

    // The cause is fixed; one command re-predicts exactly the lost players in a new batch.
    failing = false;
    const run = await cli(['redrive', batchId, '--url', p.coordinatorUrl], { COORDINATOR_API_KEY: PAIR_API_KEY });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Redriving ${PER_MESSAGE} players of ${batchId}`);
    const redrive = await p.latestBatch(date);
    expect(redrive.batch_id).not.toBe(batchId);
    expect(redrive).toMatchObject({
      status: 'complete',
      purpose: 'redrive',
      parent_batch_id: batchId,
      progress: { expected: PER_MESSAGE, completed: PER_MESSAGE, failed: 0 },
      closing: { phase5_status: 'success' },
    });
    expect(new Set((await p.status(redrive.batch_id, true)).players?.map((pl) => pl.player_lookup))).toEqual(
      new Set(lost.map((pl) => pl.player_lookup)),
    );

    // Every player of the date now has exactly one active prediction per model.
    const active = (await p.predictions(date)).filter((r) => r.is_active === true);
    const keys = active.map((r) => `${String(r.player_lookup)}|${String(r.system_id)}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(active).toHaveLength(PLAYERS * MODELS);
    expect((await p.phase5(redrive.batch_id)).map((m) => m.status)).toEqual(['success']);
  }, 150_000);
});
