/**
 * Nothing is lost when a process dies (issue 16), with real processes on the embedded default: the coordinator and the
 * worker run as `node dist/services/<svc>/main.js`, the coordinator hosting the DuckDB file (warehouse, durable local bus,
 * batch store) and the worker reaching it over loopback. The coordinator is SIGKILLed at each step of a batch by a named
 * crash point (`CRASH_AT`), started again without it, and the batch must end as if nothing had happened: every published
 * player's predictions merged exactly once, one phase-5 message, one run-history row. A dispatch that died before
 * publishing ends `failed` and frees its date. The worker is SIGKILLed mid-batch too, and both processes are SIGTERMed
 * mid-batch: each exits within the 10 s Cloud Run gives (a bound of the drain contract, not a performance figure), and
 * after a restart nothing is lost.
 *
 * Expected values come from the world the test built: P players with lines and M models → P × M active rows, one per
 * (player, model), all from the batch.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices, exited, ProcessPair, type PairOptions } from '../helpers/process-pair.js';
import { addDays, etDate } from '../../shared/dates/game-date.js';
import type { BatchStatus } from '../../shared/contracts/status.js';

const PLAYERS = 24;
const MODELS = 2;
const PER_MESSAGE = 3;
const MESSAGES = PLAYERS / PER_MESSAGE;
const today = etDate(new Date());
/** One date per scenario, so scenarios never meet (each date is claimed by one batch at a time). */
const dates = Array.from({ length: 12 }, (_, i) => addDays(today, i));

let dir = '';
const pairs: ProcessPair[] = [];

beforeAll(() => {
  dir = buildServices('crash-recovery-');
}, 180_000);

afterAll(async () => {
  await Promise.all(pairs.map((p) => p.cleanup()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function pair(opts: Partial<PairOptions> = {}): Promise<ProcessPair> {
  const p = await ProcessPair.create({
    dir,
    dates,
    players: PLAYERS,
    models: MODELS,
    playersPerGame: 8,
    coordinatorEnv: { PLAYERS_PER_MESSAGE: String(PER_MESSAGE), LOCAL_BUS_MAX_DELIVERY_ATTEMPTS: '100' },
    ...opts,
  });
  pairs.push(p);
  return p;
}

/** POST /start that the coordinator may die in: the answer, or null when the connection broke. */
async function startThatMayDie(p: ProcessPair, gameDate: string): Promise<{ status: number; body: Record<string, unknown> } | null> {
  return p.api('POST', '/start', { game_date: gameDate }).catch(() => null);
}

/**
 * The end every crash must still reach: complete, each published player's predictions merged exactly once (one active row
 * per player × model, all of this batch, no other rows for the date), one phase-5 `success`, one run-history row.
 */
async function expectMergedOnce(p: ProcessPair, end: BatchStatus): Promise<void> {
  expect(end).toMatchObject({ status: 'complete', closed: true, progress: { expected: PLAYERS, completed: PLAYERS, failed: 0 }, closing: { phase5_status: 'success' } });
  const rows = await p.predictions(end.game_date);
  const active = rows.filter((r) => r.is_active === true);
  const keys = active.map((r) => `${String(r.player_lookup)}|${String(r.system_id)}`);
  expect(new Set(keys).size).toBe(keys.length);
  expect(active).toHaveLength(PLAYERS * MODELS);
  expect(rows).toHaveLength(PLAYERS * MODELS);
  expect(new Set(active.map((r) => r.batch_id))).toEqual(new Set([end.batch_id]));
  expect(new Set(active.map((r) => r.player_lookup))).toEqual(new Set(p.world.players));
  expect(end.consolidation).toMatchObject({ duplicate_active_keys: 0, merge: { rows_accounted: PLAYERS * MODELS }, verify: { missing_rows: 0 } });
  const phase5 = await p.phase5(end.batch_id);
  expect(phase5.map((m) => m.status)).toEqual(['success']);
  expect(await p.runHistory(end.batch_id)).toEqual([{ run_id: end.batch_id, status: 'success' }]);
}

describe('the coordinator SIGKILLed at each step of a batch, then started again', () => {
  const steps: Array<{ crashAt: string; when: string; date: string }> = [
    { crashAt: 'dispatch.published', when: 'during dispatch, after the requests were published', date: dates[0] as string },
    { crashAt: `completions.recorded@${MESSAGES / 2}`, when: 'with completions half in', date: dates[1] as string },
    { crashAt: 'completions.finished', when: 'right after the batch turned consolidating', date: dates[2] as string },
    { crashAt: 'consolidate.began', when: 'at the start of the merge', date: dates[3] as string },
    { crashAt: 'consolidate.merged', when: 'after the merge committed, before the batch ended', date: dates[4] as string },
  ];

  it.each(steps)('killed $when ($crashAt): the batch still ends complete, merged exactly once, announced and recorded once', async ({ crashAt, date }) => {
    const p = await pair();
    const first = await p.startCoordinator({ CRASH_AT: crashAt });
    await p.startWorker();
    const answer = await startThatMayDie(p, date);
    const died = await exited(first, 60_000);
    expect(died.signal).toBe('SIGKILL');
    expect(first.logs()).toContain(`crash point ${crashAt.split('@')[0]}: SIGKILL`);
    // The /start answer is lost when dispatch was killed; the operator finds the batch by its date.
    if (crashAt.startsWith('dispatch.')) expect(answer).toBeNull();
    else expect(answer?.status).toBe(202);

    await p.startCoordinator();
    const batchId = (await p.latestBatch(date)).batch_id;
    const end = await p.waitClosed(batchId);
    await expectMergedOnce(p, end);
  }, 150_000);

  it('killed during dispatch before anything was published (dispatch.planned): the batch ends failed, announced, and frees its date', async () => {
    const date = dates[5] as string;
    const p = await pair();
    const first = await p.startCoordinator({ CRASH_AT: 'dispatch.planned' });
    await p.startWorker();
    expect(await startThatMayDie(p, date)).toBeNull();
    expect((await exited(first, 60_000)).signal).toBe('SIGKILL');

    await p.startCoordinator();
    const dead = await p.latestBatch(date);
    const end = await p.waitClosed(dead.batch_id);
    expect(end).toMatchObject({ status: 'failed', closed: true, closing: { phase5_status: 'failed' } });
    expect(end.error).toMatch(/nothing was published/);
    expect((await p.phase5(end.batch_id)).map((m) => m.status)).toEqual(['failed']);
    expect(await p.runHistory(end.batch_id)).toHaveLength(1);
    expect(await p.stagingRows(end.batch_id)).toBe(0);
    expect(await p.predictions(date)).toHaveLength(0);

    // The date is free: a new /start is accepted (not 409) and runs to its end.
    const again = await p.api('POST', '/start', { game_date: date });
    expect(again.status).toBe(202);
    await expectMergedOnce(p, await p.waitClosed(String(again.body.batch_id)));
  }, 150_000);
});

describe('the worker SIGKILLed mid-batch, then started again', () => {
  it('killed with a request staged but its completion not sent (predict.staged@3): the batch still ends complete, merged exactly once', async () => {
    const date = dates[6] as string;
    const p = await pair();
    await p.startCoordinator();
    const first = await p.startWorker({ CRASH_AT: 'predict.staged@3' });
    const answer = await p.api('POST', '/start', { game_date: date });
    expect(answer.status).toBe(202);
    expect((await exited(first, 60_000)).signal).toBe('SIGKILL');
    expect(first.logs()).toContain('crash point predict.staged: SIGKILL');
    const batchId = String(answer.body.batch_id);
    // Mid-batch: the dead worker's third request (and whatever was queued behind it) has not reported.
    const mid = await p.status(batchId);
    expect(mid.status).toBe('running');
    expect(mid.progress.completed).toBeLessThan(PLAYERS);

    await p.startWorker();
    await expectMergedOnce(p, await p.waitClosed(batchId));
  }, 150_000);
});

describe('two processes started in either order', () => {
  it('a worker started before its coordinator waits for it (bounded), then serves a batch to its end', async () => {
    const date = dates[9] as string;
    const p = await pair();
    let waiting = false;
    let booted = false;
    const worker = p.startWorker({}, (out) => (waiting ||= out.includes('model registry not readable yet; retrying (is the coordinator at')));
    void worker.then(() => (booted = true), () => undefined);
    await p.until('the worker to wait for its coordinator', async () => (waiting ? true : undefined), 60_000);
    expect(booted).toBe(false);
    await p.startCoordinator();
    await worker;
    const answer = await p.api('POST', '/start', { game_date: date });
    expect(answer.status).toBe(202);
    await expectMergedOnce(p, await p.waitClosed(String(answer.body.batch_id)));
  }, 150_000);
});

describe('SIGTERM mid-batch: each process drains and exits within 10 s, and after a restart nothing is lost', () => {
  /** The drain contract's bound (Cloud Run sends SIGKILL 10 s after SIGTERM): a bound, never a performance figure. */
  const DRAIN_BOUND_MS = 10_000;

  it('the coordinator, with pushes to the worker in flight: exits 0 within 10 s; restarted, its batch ends complete', async () => {
    const date = dates[7] as string;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let forwarded = 0;
    // The first two request messages go straight to the worker; the rest are held in flight until the coordinator stops.
    const p = await pair({ proxy: (push) => (push.attempt === 1 && ++forwarded <= 2 ? { forward: true } : { forward: true, after: held }) });
    const c = await p.startCoordinator();
    await p.startWorker();
    const answer = await p.api('POST', '/start', { game_date: date });
    expect(answer.status).toBe(202);
    const batchId = String(answer.body.batch_id);
    await p.until('two messages reported', async () => ((await p.status(batchId)).progress.completed >= 2 * PER_MESSAGE ? true : undefined));

    c.child.kill('SIGTERM');
    setTimeout(release, 500).unref();
    const exit = await exited(c, DRAIN_BOUND_MS);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(c.logs()).toContain('shutdown complete');
    // The pushes in flight were handed back to the store (their completions could no longer be published), not lost.
    expect(c.logs()).toMatch(/nack after close; not retried now \(kept in the store\)|aborting in-flight deliveries/);

    await p.startCoordinator();
    await expectMergedOnce(p, await p.waitClosed(batchId));
  }, 150_000);

  it('the worker, mid-batch with a request arriving as it stops: exits 0 within 10 s; restarted, the batch ends complete', async () => {
    const date = dates[8] as string;
    let releaseOne!: () => void;
    let releaseRest!: () => void;
    const one = new Promise<void>((r) => (releaseOne = r));
    const rest = new Promise<void>((r) => (releaseRest = r));
    let pushes = 0;
    // Two request messages go through; the third is held until the worker is told to stop; the rest until it has exited.
    const p = await pair({
      proxy: (push) => {
        if (push.attempt > 1) return { forward: true };
        pushes++;
        return pushes <= 2 ? { forward: true } : pushes === 3 ? { forward: true, after: one } : { forward: true, after: rest };
      },
    });
    await p.startCoordinator();
    const w = await p.startWorker();
    const answer = await p.api('POST', '/start', { game_date: date });
    expect(answer.status).toBe(202);
    const batchId = String(answer.body.batch_id);
    await p.until('two messages reported', async () => ((await p.status(batchId)).progress.completed >= 2 * PER_MESSAGE ? true : undefined));

    // The held request reaches the worker as it begins to drain: served to the end, or refused and delivered again later.
    releaseOne();
    w.child.kill('SIGTERM');
    const exit = await exited(w, DRAIN_BOUND_MS);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(w.logs()).toContain('shutdown complete');
    expect((await p.status(batchId)).progress.completed).toBeLessThanOrEqual(3 * PER_MESSAGE);
    releaseRest();

    await p.startWorker();
    await expectMergedOnce(p, await p.waitClosed(batchId));
  }, 150_000);
});
