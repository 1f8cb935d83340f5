/**
 * `npm start -- --serve` (bin/start.ts, compiled as `npm start` compiles it) as a real process: stopped with SIGTERM in the
 * middle of its batch it says what it did and exits within the 10 s drain bound (a bound of the contract, not a
 * performance figure); started again it finishes that batch — following it instead of starting another — and stops on
 * SIGINT the same way. A signal while the demo world is still being seeded stops at once and says so. The signal test
 * reads only how the batch stops and resumes, not the models' quality or the season: its demo world is seeded first by
 * `npm run seed` with a short window, small slates and 5-tree models (`--days 3 --games 4 --trees 5`, what npm start given
 * the same `--days 3 --games 4` finds present and keeps), instead of npm start training the 120-tree models (≈ 14 CPU-s)
 * or either of them writing the 165-date season (≈ 10 CPU-s; the training and the season are checked by seed-cli and
 * demo-seed). Today's slate, the batch that is stopped, is the same size whatever the window.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices } from '../helpers/process-pair.js';
import { baseEnv } from '../helpers/service-process.js';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { isEnded, type BatchState } from '../../shared/batch/batch-record.js';

const DRAIN_BOUND_MS = 10_000;

interface StartProcess {
  child: ChildProcess;
  out: () => string;
  /** Resolves with the first match of `pattern` in stdout; rejects after `timeoutMs` or if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let dir = '';
const children: ChildProcess[] = [];

function npmStart(cwd: string, args: string[]): StartProcess {
  const child = spawn(process.execPath, [join(dir, 'dist/bin/start.js'), ...args], {
    cwd,
    env: baseEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    out: () => out,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(pattern);
        if (m) return m;
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`npm start exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`npm start did not print ${pattern} within ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    exited: (timeoutMs) =>
      Promise.race([
        ended,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`npm start still running ${timeoutMs} ms after the signal:\n${out}`)), timeoutMs).unref(),
        ),
      ]),
  };
}

beforeAll(() => {
  dir = buildServices('npm-start-');
}, 180_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm start -- --serve on SIGTERM and SIGINT', () => {
  it('SIGTERM mid-batch: says what it did and exits 0 within 10 s; the next start finishes that batch; SIGINT stops it the same way', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'npm-start-run-'));
    try {
      const seeded = spawnSync(process.execPath, [join(dir, 'dist/bin/seed-world.js'), '--days', '3', '--games', '4', '--trees', '5'], {
        cwd,
        env: baseEnv(),
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(seeded.status, `${seeded.stdout}${seeded.stderr}`).toBe(0);
      const first = npmStart(cwd, ['--serve', '--days', '3', '--games', '4']);
      const [, batchId, published] = await first.waitFor(/batch (batch_\S+): (\d+) of \d+ candidates published/, 300_000);
      // It kept the world and the models npm run seed made (it may still extend the world, should the day turn in between):
      // its --days 3 is the seed's window, not the default season, which would reseed and retrain.
      expect(first.out()).not.toMatch(/seeding the demo world|training \d+ models/);
      first.child.kill('SIGTERM');
      expect(await first.exited(DRAIN_BOUND_MS)).toEqual({ code: 0, signal: null });
      expect(first.out()).toContain('SIGTERM: stopping — taking no new work');
      expect(first.out()).toMatch(/Stopped in \d+\.\d s\./);
      expect(first.out()).not.toMatch(/error:|npm start failed/);

      // The process is gone, so the file can be opened: the batch was stopped mid-way (else the restart proves nothing).
      const wh = await DuckDbWarehouse.open({ path: join(cwd, '.local/warehouse.duckdb') });
      const [row] = await wh.query({
        name: 'test.state',
        sql: `SELECT state FROM embedded_state.batches WHERE batch_id = @b`,
        params: { b: { type: 'STRING', value: batchId as string } },
      });
      await wh.close();
      expect(isEnded(String(row?.state) as BatchState)).toBe(false);

      const second = npmStart(cwd, ['--serve', '--days', '3', '--games', '4']);
      await second.waitFor(/Services are up/, 180_000);
      expect(second.out()).toContain(`resuming batch ${batchId} left open by the previous run`);
      expect(second.out()).toMatch(new RegExp(`Batch ${batchId} — \\S+ — COMPLETE \\(phase-5 status: success\\)`));
      expect(second.out()).toContain(`phase-5 message: status success, ${published} players`);
      expect(second.out()).not.toMatch(/already running|error:/);
      const [, url] = second.out().match(/coordinator (http:\/\/127\.0\.0\.1:\d+)/) as RegExpMatchArray;
      const [, key] = second.out().match(/API key: ([0-9a-f]+)/) as RegExpMatchArray;
      const status = (await (
        await fetch(`${url}/status?batch_id=${batchId}`, { headers: { 'x-api-key': key as string } })
      ).json()) as Record<string, unknown>;
      expect(status).toMatchObject({
        status: 'complete',
        closed: true,
        progress: { expected: Number(published), completed: Number(published) },
        consolidation: { duplicate_active_keys: 0 },
      });

      second.child.kill('SIGINT');
      expect(await second.exited(DRAIN_BOUND_MS)).toEqual({ code: 0, signal: null });
      expect(second.out()).toContain('SIGINT: stopping');
      expect(second.out()).toMatch(/Stopped in \d+\.\d s\./);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 600_000);

  it('a signal while the demo world is being seeded stops at once and says so', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'npm-start-seed-'));
    try {
      const run = npmStart(cwd, ['--serve', '--games', '1']);
      await run.waitFor(/NBA points predictions — local stack/, 60_000);
      run.child.kill('SIGINT');
      expect(await run.exited(DRAIN_BOUND_MS)).toEqual({ code: 0, signal: null });
      expect(run.out()).toContain('SIGINT: stopped before the services were up');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('npm start options', () => {
  it.each([
    { args: ['--bogus'], says: "Unknown option '--bogus'" },
    { args: ['--games', '99'], says: "--games must be an integer 1–15, got '99'" },
    { args: ['--days', '401'], says: "--days must be an integer 0–400, got '401'" },
    { args: ['--date', '2026-02-30'], says: "--date must be a date YYYY-MM-DD, got '2026-02-30'" },
  ])('$args is refused with the usage and exit code 2, before anything is seeded', async ({ args, says }) => {
    const cwd = mkdtempSync(join(tmpdir(), 'npm-start-usage-'));
    try {
      const run = npmStart(cwd, args);
      expect(await run.exited(60_000)).toEqual({ code: 2, signal: null });
      expect(run.out()).toContain(`npm start: ${says}`);
      expect(run.out()).toContain('usage: npm start');
      expect(existsSync(join(cwd, '.local'))).toBe(false);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('--help prints the usage and exits 0', async () => {
    const run = npmStart(tmpdir(), ['--help']);
    expect(await run.exited(60_000)).toEqual({ code: 0, signal: null });
    expect(run.out()).toMatch(/^usage: npm start \[-- options\]\n {2}--date YYYY-MM-DD/);
  });
});
