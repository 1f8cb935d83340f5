/**
 * Nothing is lost when a process dies (issue 16), continued from crash-recovery.test.ts with the same real processes: the
 * worker SIGKILLed mid-batch, the two processes started in either order, and both processes SIGTERMed mid-batch — each
 * exits within the 10 s Cloud Run gives (a bound of the drain contract, not a performance figure), and after a restart
 * nothing is lost.
 *
 * Expected values come from the world the test built: P players with lines and M models → P × M active rows, one per
 * (player, model), all from the batch.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildServices, exited } from '../helpers/process-pair.js';
import { bootService } from '../helpers/service-process.js';
import { crashSuite, dates, expectMergedOnce, pair, PER_MESSAGE, PLAYERS } from '../helpers/crash-pair.js';

crashSuite('drain-and-restart-');

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
    const worker = p.startWorker(
      {},
      (out) => (waiting ||= out.includes('model registry not readable yet; retrying (is the coordinator at')),
    );
    void worker.then(
      () => (booted = true),
      () => undefined,
    );
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
    const p = await pair({
      proxy: (push) => (push.attempt === 1 && ++forwarded <= 2 ? { forward: true } : { forward: true, after: held }),
    });
    const c = await p.startCoordinator();
    await p.startWorker();
    const answer = await p.api('POST', '/start', { game_date: date });
    expect(answer.status).toBe(202);
    const batchId = String(answer.body.batch_id);
    await p.until('two messages reported', async () =>
      (await p.status(batchId)).progress.completed >= 2 * PER_MESSAGE ? true : undefined,
    );

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
    await p.until('two messages reported', async () =>
      (await p.status(batchId)).progress.completed >= 2 * PER_MESSAGE ? true : undefined,
    );

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

describe('SIGTERM while a service is still starting', () => {
  it('a start-up step the drain cut short (the bus closed under it) does not turn the drain into exit 1', async () => {
    // serve() as main.ts uses it, in a process of the build: the step after listening (on the embedded default the
    // coordinator subscribes the bus there) is still running when SIGTERM arrives, and fails because the drain closed what
    // it was starting. The shutdown owns the exit: it drains and exits 0.
    const dir = buildServices('serve-signal-');
    try {
      writeFileSync(
        join(dir, 'dist', 'probe.mjs'),
        [
          "import { createLogger } from './shared/logging/logger.js';",
          "import { serve } from './shared/http/serve.js';",
          'let drained; const closed = new Promise((r) => (drained = r));',
          'async function main() {',
          "  await serve((req, res) => res.end('ok'), {",
          "    host: process.env.HOST, port: Number(process.env.PORT), service: 'probe', logger: createLogger({ service: 'probe', level: 'info' }),",
          "    onListening: async () => { await closed; throw new Error('local bus: cannot subscribe: bus closed'); },",
          '    drain: async () => drained(),',
          '    cleanup: async () => {},',
          '  });',
          '}',
          'main().catch((err) => { process.stderr.write(`probe failed to start: ${err.message}\\n`); process.exit(1); });',
        ].join('\n'),
      );
      // Ready (it answers) while its start-up step still waits.
      const probe = await bootService(dir, 'coordinator', {}, { cmd: ['node', 'dist/probe.mjs'] });
      expect(await probe.stop(), probe.logs()).toBe(0);
      expect(probe.logs()).toContain('shutdown complete');
      expect(probe.logs()).not.toContain('failed to start');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
