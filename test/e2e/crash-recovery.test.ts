/**
 * Nothing is lost when a process dies (issue 16), with real processes on the embedded default: the coordinator and the
 * worker run as `node dist/services/<svc>/main.js`, the coordinator hosting the DuckDB file (warehouse, durable local bus,
 * batch store) and the worker reaching it over loopback. The coordinator is SIGKILLed at each step of a batch by a named
 * crash point (`CRASH_AT`), started again without it, and the batch must end as if nothing had happened: every published
 * player's predictions merged exactly once, one phase-5 message, one run-history row. A dispatch that died before
 * publishing ends `failed` and frees its date. (The worker's crash, the start order and SIGTERM drains are in
 * drain-and-restart.test.ts: two files, so a run's two workers share them.)
 *
 * Expected values come from the world the test built: P players with lines and M models → P × M active rows, one per
 * (player, model), all from the batch.
 */
import { describe, expect, it } from 'vitest';
import { exited, kill, type ProcessPair } from '../helpers/process-pair.js';
import { crashSuite, dates, expectMergedOnce, MESSAGES, pair, startThatMayDie } from '../helpers/crash-pair.js';

crashSuite('crash-recovery-');

/**
 * One pair of processes and one warehouse file for the file's scenarios: each scenario has a date of its own (its batch,
 * rows, phase-5 message and run-history row are found by it), and the worker stays up across every coordinator crash and
 * restart, as it already does within a scenario. A scenario starts its own coordinator (with its crash point) after
 * stopping the previous scenario's, whose batch has closed. Saves a world and a worker start per scenario.
 */
let shared: ProcessPair | null = null;
async function pairForScenario(): Promise<ProcessPair> {
  shared ??= await pair();
  if (shared.coordinator) await kill(shared.coordinator, 'SIGTERM');
  return shared;
}

/** The worker after the first coordinator is up (a worker waits for its coordinator at boot), then kept. */
async function workerUp(p: ProcessPair): Promise<void> {
  if (p.worker === null || p.worker.child.exitCode !== null || p.worker.child.signalCode !== null) await p.startWorker();
}

describe('the coordinator SIGKILLed at each step of a batch, then started again', () => {
  const steps: Array<{ crashAt: string; when: string; date: string }> = [
    { crashAt: 'dispatch.published', when: 'during dispatch, after the requests were published', date: dates[0] as string },
    { crashAt: `completions.recorded@${MESSAGES / 2}`, when: 'with completions half in', date: dates[1] as string },
    { crashAt: 'completions.finished', when: 'right after the batch turned consolidating', date: dates[2] as string },
    { crashAt: 'consolidate.began', when: 'at the start of the merge', date: dates[3] as string },
    { crashAt: 'consolidate.merged', when: 'after the merge committed, before the batch ended', date: dates[4] as string },
  ];

  it.each(steps)(
    'killed $when ($crashAt): the batch still ends complete, merged exactly once, announced and recorded once',
    async ({ crashAt, date }) => {
      const p = await pairForScenario();
      const first = await p.startCoordinator({ CRASH_AT: crashAt });
      await workerUp(p);
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
    },
    150_000,
  );

  it('killed during dispatch before anything was published (dispatch.planned): the batch ends failed, announced, and frees its date', async () => {
    const date = dates[5] as string;
    const p = await pairForScenario();
    const first = await p.startCoordinator({ CRASH_AT: 'dispatch.planned' });
    await workerUp(p);
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
