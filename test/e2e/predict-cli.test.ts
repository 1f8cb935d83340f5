/**
 * The operator CLI (`npm run predict`) against the real local stack: coordinator and worker on loopback, the local bus,
 * DuckDB. The CLI runs in-process through runCli (output captured as a pipe), and once as a child process of its compiled
 * entry.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startTestStack, type TestStack } from '../helpers/stack.js';
import { CONTROL_CHARS, cli, copySlate, holdingBus, type CliRun } from '../helpers/predict-cli.js';
import { addDays } from '../../shared/dates/game-date.js';
import { topicNames } from '../../shared/config/common.js';
import { CLOCK_ENV, TEST_TODAY } from '../helpers/clock.js';
import { buildDist } from '../helpers/service-process.js';

const today = TEST_TODAY;
const base = addDays(today, -10);
const D = Array.from({ length: 7 }, (_, i) => addDays(base, i));
const [D0, D1, D2, D3, HELD, D5, D6] = D as [string, string, string, string, string, string, string];
const PLAYERS = 12;

let t: TestStack;
let env: Record<string, string>;
const runs: CliRun[] = [];

/** Every in-process run goes through here, so the last test can check all piped output for control characters. */
async function run(argv: string[], overrides: Record<string, string | undefined> = {}): Promise<CliRun> {
  const r = await cli([...argv, '--interval', '0.02'], { ...env, ...overrides });
  runs.push(r);
  return r;
}

const latest = async (date: string) => (await t.get(`/status?game_date=${date}`)).body;

beforeAll(async () => {
  t = await startTestStack(
    { gameDate: D0, players: PLAYERS, models: 2 },
    { wrapCoordinatorBus: holdingBus(topicNames('').request, new Set([HELD])) },
  );
  await copySlate(t.world, D0, D.slice(1));
  env = { COORDINATOR_URL: t.stack.coordinatorUrl, COORDINATOR_API_KEY: API_KEY };
});

afterAll(async () => {
  await t?.close();
});

describe('predict start', () => {
  it('starts the date, follows it to the end and prints the summary; exit 0', async () => {
    const r = await run(['start', D0]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const batchId = String((await latest(D0)).batch_id);
    expect(r.stdout).toContain(`Batch ${batchId} started for ${D0}: ${PLAYERS} of ${PLAYERS} candidates published`);
    // Off a terminal the progress is one plain line per change, ending at the full count.
    expect(r.stdout).toMatch(new RegExp(`^complete\\s+${PLAYERS}/${PLAYERS} \\(100%\\)`, 'm'));
    for (const section of ['Lines by source', 'Gate outcomes', 'Gate verdicts per model', 'Consolidation', 'Time per phase (ms)'])
      expect(r.stdout).toContain(section);
    expect(r.stdout).toContain(
      `Result: COMPLETE — ${PLAYERS}/${PLAYERS} players reported (0 failed), ${PLAYERS * 2} predictions, phase-5 success (exit 0)`,
    );
    expect(await latest(D0)).toMatchObject({ status: 'complete', batch_id: batchId });
  });

  it('--json prints one JSON object per line: started, progress events, then the summary', async () => {
    const r = await run(['start', D0, '--mode', 'LINE_UPDATE', '--json']);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ event: 'started', game_date: D0, published: PLAYERS, run_mode: 'LINE_UPDATE' });
    expect(events.filter((e) => e.event === 'progress').length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({
      event: 'summary',
      status: 'complete',
      exit_code: 0,
      game_date: D0,
      completed: PLAYERS,
      total_predictions: PLAYERS * 2,
      phase5_status: 'success',
    });
    expect((events.at(-1) as { batch_id: unknown }).batch_id).toBe((await latest(D0)).batch_id);
  });

  it('on a terminal the bar is redrawn in place', async () => {
    const r = await cli(['start', D0, '--mode', 'LINE_UPDATE', '--interval', '0.02'], env, true);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\r\\[#{30}\\] complete\\s+${PLAYERS}/${PLAYERS} \\(100%\\)`));
  });

  it('a 400 from the coordinator exits 2 with the field it names', async () => {
    const r = await run(['start', D0, '--dataset-prefix', 'Bad-Prefix']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: the coordinator rejected POST \/start for .*dataset_prefix/);
  });
});

describe('predict backfill', () => {
  it('runs three dates at once (the coordinator recommends how many), each to its end, and prints one table; a re-run skips them', async () => {
    const r = await run(['backfill', '--from', D1, '--to', D3]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`3 dates, 3 at a time (the coordinator)`);
    const batches = await Promise.all([D1, D2, D3].map(latest));
    for (const b of batches)
      expect(b).toMatchObject({ status: 'complete', prediction_run_mode: 'BACKFILL', progress: { completed: PLAYERS, expected: PLAYERS } });
    // Concurrently: every date started before the first one ended.
    const firstEnd = batches.map((b) => String(b.ended_at)).sort()[0] as string;
    for (const b of batches) expect(String(b.started_at) < firstEnd).toBe(true);
    // Progress per date and overall, as each date ends.
    expect(r.stdout).toMatch(
      /^\[3\/3\] \d{4}-\d{2}-\d{2}: complete — 12\/12 players, 24 predictions in [\d.]+ s · overall 3\/3 dates, [\d.]+ s$/m,
    );
    const table = r.stdout.slice(r.stdout.lastIndexOf('date  '));
    for (const [i, date] of [D1, D2, D3].entries()) {
      expect(table).toMatch(
        new RegExp(
          `^${date}\\s+complete\\s+${PLAYERS}/${PLAYERS}\\s+${PLAYERS * 2}\\s+[\\d.]+ s\\s+${String(batches[i]?.batch_id)}\\s+-$`,
          'm',
        ),
      );
    }
    expect(r.stdout).toContain('3 complete, 0 skipped');

    const again = await run(['backfill', '--from', D1, '--to', D3, '--json']);
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout.trim().split('\n').at(-1) ?? '{}') as {
      event: string;
      dates: Array<{ date: string; status: string; batch_id: string }>;
    };
    expect(summary.event).toBe('backfill_summary');
    expect(summary.dates.map((d) => [d.date, d.status, d.batch_id])).toEqual(
      [D1, D2, D3].map((d, i) => [d, 'skipped', batches[i]?.batch_id]),
    );
    expect(await Promise.all([D1, D2, D3].map(async (d) => (await latest(d)).batch_id))).toEqual(batches.map((b) => b.batch_id));
  });

  it('status --date shows the latest batch of a date; a date without batches exits 1', async () => {
    const b = await latest(D2);
    const r = await run(['status', '--date', D2]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Batch ${String(b.batch_id)} — ${D2} — COMPLETE (phase-5 status: success)`);
    const none = await run(['status', '--date', addDays(base, -20)]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no batch for ${addDays(base, -20)}`);
  });

  it('a backfill may go back a year, as the coordinator allows a BACKFILL batch: a date 200 days back is run, not refused', async () => {
    const old = addDays(today, -200);
    const r = await run(['backfill', '--from', old, '--to', old, '--json']);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      event: string;
      dates: Array<{ date: string; status: string }>;
    };
    expect({ code: r.code, stderr: r.stderr, summary: summary.event, dates: summary.dates }).toEqual({
      code: 0,
      stderr: '',
      summary: 'backfill_summary',
      dates: [expect.objectContaining({ date: old, status: 'no_games' })],
    });
  });

  it('--no-skip-existing re-runs a complete date', async () => {
    const before = (await latest(D1)).batch_id;
    const r = await run(['backfill', '--from', D1, '--to', D1, '--no-skip-existing', '--mode', 'LINE_UPDATE']);
    expect(r.code).toBe(0);
    const after = await latest(D1);
    expect(after.batch_id).not.toBe(before);
    expect(after).toMatchObject({ status: 'complete', prediction_run_mode: 'LINE_UPDATE' });
  });
});

describe('a busy date (a batch whose worker never answers)', () => {
  let held: string;

  beforeAll(async () => {
    const r = await run(['start', HELD, '--no-wait']);
    expect(r.code).toBe(0);
    held = String((await latest(HELD)).batch_id);
    expect(r.stdout).toContain(`Batch ${held} started for ${HELD}`);
    expect(r.stdout).toContain(`Follow it: predict status ${held} --wait`);
  });

  it('a second start is a 409, explained: which batch, its progress, how to wait for it or force it; exit 4', async () => {
    const r = await run(['start', HELD]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`error: batch ${held} is already running for ${HELD}: state running, 0/${PLAYERS} players (0%)`);
    expect(r.stderr).toContain(`predict status ${held} --wait`);
    expect(r.stderr).toContain(`predict start ${HELD} --force`);
    expect((await latest(HELD)).batch_id).toBe(held);
  });

  it('status shows the running batch; with no argument it lists it among the active batches', async () => {
    const one = await run(['status', held]);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`Batch ${held} — ${HELD} — RUNNING`);
    expect(one.stdout).toContain(`Still running: follow it with predict status ${held} --wait`);
    const all = await run(['status']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`^${held}\\s+${HELD}\\s+running\\s+0/${PLAYERS}`, 'm'));
  });

  it('check-stalled lists it with no action (it is neither idle at 95 % nor too old)', async () => {
    const r = await run(['check-stalled']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${held}\\s+${HELD}\\s+no_action\\s+running`, 'm'));
  });

  it('a backfill refuses the busy date and stops there; --continue-on-error goes on; both exit 4', async () => {
    const stopped = await run(['backfill', '--from', HELD, '--to', D5, '--concurrency', '1']);
    expect(stopped.code).toBe(4);
    expect(stopped.stdout).toMatch(
      new RegExp(
        `^${HELD}\\s+busy\\s+0/${PLAYERS}\\s+0\\s+-\\s+${held}\\s+batch is running \\(0/${PLAYERS}\\), so the date was not started: wait \\(predict status ${held} --wait\\) or pass --force$`,
        'm',
      ),
    );
    expect(stopped.stdout).toMatch(new RegExp(`^${D5}\\s+not_run`, 'm'));
    expect((await t.get(`/status?game_date=${D5}`)).status).toBe(404);
    expect((await latest(HELD)).batch_id).toBe(held);

    const onward = await run(['backfill', '--from', HELD, '--to', D5, '--concurrency', '1', '--continue-on-error']);
    expect(onward.code).toBe(4);
    expect(onward.stdout).toMatch(new RegExp(`^${HELD}\\s+busy`, 'm'));
    expect(onward.stdout).toMatch(new RegExp(`^${D5}\\s+complete\\s+${PLAYERS}/${PLAYERS}`, 'm'));
  });

  it('reset ends it and frees the date; a second reset says it already ended', async () => {
    const r = await run(['reset', held]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Batch ${held} reset: was running, now failed`);
    expect(await latest(HELD)).toMatchObject({ batch_id: held, status: 'failed' });
    const again = await run(['reset', '--date', HELD]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`nothing to reset: no active batch for ${HELD}`);
    const byId = await run(['reset', held]);
    expect(byId.code).toBe(0);
    expect(byId.stdout).toContain(`Batch ${held} had already ended (failed)`);
  });

  it('status --wait on the failed batch exits 1 and says why', async () => {
    const r = await run(['status', held, '--wait']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('reset by operator');
    expect(r.stdout).toContain('Result: FAILED (exit 1)');
  });
});

describe('errors say what to do next', () => {
  it('a wrong API key: exit 3, pointing at COORDINATOR_API_KEY', async () => {
    const r = await run(['status'], { COORDINATOR_API_KEY: 'wrong-key-0123456789abcdef' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/error: GET \/status was refused \(HTTP 401\)/);
    expect(r.stderr).toContain('COORDINATOR_API_KEY');
  });

  it('no credentials at all: exit 3, saying neither variable is set', async () => {
    const r = await run(['check-stalled'], { COORDINATOR_API_KEY: undefined });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('neither COORDINATOR_API_KEY nor COORDINATOR_ID_TOKEN is set');
  });

  it('nobody listening: exit 3, asking whether the URL is right', async () => {
    const r = await run(['status', '--url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('could not reach the coordinator at http://127.0.0.1:9');
    expect(r.stderr).toContain('is the URL right?');
  });

  it('usage errors exit 2 and name the problem', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['start', '2026-02-30'], /not TODAY, TOMORROW or a valid YYYY-MM-DD date/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['backfill', '--from', D1], /backfill needs --from and --to/],
      [['backfill', '--from', D3, '--to', D1], /is after --to/],
      [['backfill', '--from', addDays(today, -367), '--to', D1], /more than 366 days in the past/],
      [['backfill', '--from', addDays(today, -200), '--to', D1, '--mode', 'LINE_UPDATE'], /more than 90 days in the past/],
      [['start', '--mode', 'SOMETIMES'], /unknown mode 'SOMETIMES'/],
      [['reset'], /reset needs a batch id or --date/],
      [['start', '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.stderr).toMatch(message);
    }
  });

  it('--help prints the commands and the exit codes; no command at all is a usage error', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const command of [
      'start [DATE|TODAY|TOMORROW]',
      'backfill --from D1 --to D2',
      'status [BATCH_ID]',
      'reset BATCH_ID',
      'check-stalled',
      'Exit codes:',
    ])
      expect(help.stdout).toContain(command);
    const nothing = await cli([], env);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('error: no command given');
  });

  it('status of an unknown batch exits 1', async () => {
    const r = await run(['status', 'batch_nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no batch batch_nope');
  });
});

describe('the compiled entry as a child process', () => {
  const out = mkdtempSync(join(tmpdir(), 'predict-cli-build-'));
  const root = resolve(import.meta.dirname, '..', '..');
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('node dist/bin/predict.js start: exit 0, a summary, and plain output on a pipe', async () => {
    // The run's production build (test/global-setup.ts), run with the project's installed dependencies, as dist/ is.
    buildDist(out);
    writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
    symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');
    const entry = join(out, 'dist', 'bin', 'predict.js');
    expect(existsSync(entry)).toBe(true);

    const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        [entry, 'start', D6, '--interval', '0.05'],
        { env: { PATH: process.env.PATH ?? '', ...CLOCK_ENV, ...env } },
        (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(child.stderr).toBe('');
    expect(child.code).toBe(0);
    expect(child.stdout).toContain(`Result: COMPLETE — ${PLAYERS}/${PLAYERS} players reported`);
    expect(child.stdout).not.toMatch(CONTROL_CHARS);
    expect(await latest(D6)).toMatchObject({ status: 'complete' });
  });
});

describe('output off a terminal', () => {
  it('no run written to a pipe contained an escape sequence, a carriage return or any other control character', () => {
    expect(runs.length).toBeGreaterThan(15);
    for (const r of runs) {
      expect(r.stdout).not.toMatch(CONTROL_CHARS);
      expect(r.stderr).not.toMatch(CONTROL_CHARS);
    }
  });
});
