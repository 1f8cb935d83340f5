/**
 * `season`: a whole season's backfill on the embedded default, through the operator CLI.
 *
 * 1. The season world: the demo world's default window (the last 165 dates, today, tomorrow) seeded once into
 *    `<world-dir>/season-world` as `npm run seed` does (reused when present; the seeding time is reported on its own row and
 *    is not part of the timed figure).
 * 2. Each run copies that world to a fresh directory (no batch, no prediction yet), starts the local stack on it as
 *    `npm start -- --serve` does (both services in this process on 127.0.0.1, the log at level info to a file), and runs the
 *    real CLI as a child process: `node dist/bin/predict.js backfill --from A --to B --json [--concurrency N]` with
 *    COORDINATOR_URL / COORDINATOR_API_KEY. The wall time is from spawning the CLI to its exit.
 * 3. Every date must end `complete` (in the CLI's table and in the batch store); anything else fails the benchmark.
 *    Per date: the batch's started_at → phase-5 published, from the batch store.
 * 4. The reference, in the same process just before the season: the season's first `--season-reference-days` dates
 *    (default 10) the same way at `--concurrency 1` (one date after another, as the backfill ran before issue 20). The
 *    season's row reports its wall time per date against the reference's (`speedup_vs_c1`) and against the 2-minute target.
 *
 * Options: --season-runs N (default 1), --season-concurrency "2,4,8" (default: none given, the CLI asks GET /capacity),
 * --season-interval S (the CLI's --interval, default the CLI's own), --season-days N (default 165),
 * --season-reference-days N (default 10; 0 for none).
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { addDays, etDate } from '../../shared/dates/game-date.js';
import { createLogger } from '../../shared/logging/logger.js';
import { ensureDemoWorld, DEFAULT_PAST_DAYS } from '../demo/seed-world.js';
import { startLocalStack } from '../local-stack.js';
import { median, percentile, round, type BenchContext, type Benchmark } from './common.js';
import type { BatchRecord } from '../../shared/batch/batch-record.js';
import { benchOptions } from './options.js';
import { BENCH_API_KEY } from './stack.js';

/** The CLI child's hard cap: the target is 2 minutes; a run past 10 is a failure, not a figure. */
const CLI_CAP_MS = 600_000;

interface CliDate {
  date: string;
  status: string;
  predictions: number | null;
  problems: string[];
}

interface CliRun {
  exitCode: number | null;
  wallMs: number;
  concurrency: number | null;
  dates: CliDate[];
  stderr: string;
}

/** The season world, seeded once (reused when present): its warehouse file and models. */
async function seasonWorld(ctx: BenchContext, today: string): Promise<{ dir: string; seedSeconds: number; action: string }> {
  const dir = join(ctx.worldDir, 'season-world');
  mkdirSync(dir, { recursive: true });
  const warehouse = await DuckDbWarehouse.open({ path: join(dir, 'warehouse.duckdb') });
  try {
    const s = await ensureDemoWorld({ warehouse, modelsDir: join(dir, 'models'), today, log: (l) => ctx.log(`  seed: ${l}`) });
    return { dir, seedSeconds: s.seconds, action: s.action };
  } finally {
    await warehouse.close();
  }
}

/** Runs the operator CLI as a child process and collects its --json events. */
function runCli(args: readonly string[], env: Record<string, string>, log: (line: string) => void): Promise<CliRun> {
  const cli = resolve(import.meta.dirname, '..', 'predict.js');
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: CliRun = { exitCode: null, wallMs: 0, concurrency: null, dates: [], stderr: '' };
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (run.stderr += c));
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let e: Record<string, unknown>;
        try {
          e = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (e.event === 'backfill') run.concurrency = Number(e.concurrency);
        if (e.event === 'error') run.stderr += `${String(e.message)}\n`;
        if (e.event === 'date') {
          run.dates.push({
            date: String(e.date),
            status: String(e.status),
            predictions: typeof e.predictions === 'number' ? e.predictions : null,
            problems: (e.problems as string[]) ?? [],
          });
          if (run.dates.length % 20 === 0)
            log(`season: ${run.dates.length} dates ended, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        }
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_CAP_MS);
    child.on('error', fail);
    child.on('exit', (code) => {
      clearTimeout(timer);
      run.exitCode = code;
      run.wallMs = performance.now() - t0;
      done(run);
    });
  });
}

/**
 * A batch's phases (ms): dispatch (/start), predict (dispatched → its last completion, when consolidation is requested),
 * queue (the consolidate message's delivery and the wait for the table-wide merge lock), consolidate (verify, merge, checks,
 * daily signal), close (ended → phase-5 published).
 */
export interface Phases {
  dispatch: number;
  predict: number;
  queue: number;
  consolidate: number;
  close: number;
}

export function phasesOf(b: BatchRecord): Phases {
  const t = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.NaN);
  const dispatched = t(b.dispatched_at);
  const finished = t(b.consolidation?.started_at);
  const consolidate = b.consolidation?.ms ?? Number.NaN;
  const ended = t(b.ended_at);
  return {
    dispatch: dispatched - t(b.started_at),
    predict: finished - dispatched,
    queue: ended - finished - consolidate,
    consolidate,
    close: t(b.closing?.phase5_published_at) - ended,
  };
}

/** The target: a 165-date season in at most 2 minutes. */
const TARGET_S = 120;

/** One backfill through the CLI on a fresh copy of the season world; returns its wall time per date (ms). */
// eslint-disable-next-line complexity -- one benchmark run read top to bottom: copy the world, start the stack, run the CLI, collect the figures, stop
async function oneRun(
  ctx: BenchContext,
  template: string,
  runDir: string,
  range: { from: string; to: string; dates: number },
  concurrency: number | undefined,
  label: string,
  referenceMsPerDate: number | null,
): Promise<number> {
  rmSync(runDir, { recursive: true, force: true });
  cpSync(template, runDir, { recursive: true });
  const warehouse = await DuckDbWarehouse.open({ path: join(runDir, 'warehouse.duckdb') });
  // As `npm start` logs: level info, to a file, asynchronously.
  const logger = createLogger({
    service: 'local-stack',
    level: 'info',
    destination: pino.destination({ dest: join(runDir, 'local-stack.log'), sync: false, mkdir: true }),
  });
  const stack = await startLocalStack({
    duckdb: warehouse,
    modelsDir: join(runDir, 'models'),
    apiKey: BENCH_API_KEY,
    logger,
    env: benchOptions().serviceEnv,
  });
  try {
    const { seasonInterval } = benchOptions();
    const args = ['backfill', '--from', range.from, '--to', range.to, '--json'];
    if (concurrency !== undefined) args.push('--concurrency', String(concurrency));
    if (seasonInterval !== undefined) args.push('--interval', String(seasonInterval));
    ctx.log(`season ${label}: predict ${args.join(' ')}`);
    // With --cpu-prof-dir: the stack's main thread profiled over this run (the V8 sampler, as in the profile benchmark).
    const profDir = benchOptions().cpuProfDir;
    const session = profDir === undefined ? null : new Session();
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 1000 });
      await session.post('Profiler.start');
    }
    const cpu0 = process.cpuUsage();
    const cli = await runCli(args, { COORDINATOR_URL: stack.coordinatorUrl, COORDINATOR_API_KEY: BENCH_API_KEY }, ctx.log);
    const cpu = process.cpuUsage(cpu0);
    if (session && profDir !== undefined) {
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: unknown };
      session.disconnect();
      mkdirSync(profDir, { recursive: true });
      const file = join(profDir, `season-${label.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      ctx.log(`season ${label}: CPU profile of the stack written to ${file}`);
    }
    // Every date, from the batch store: its end state and started_at → phase-5 published.
    const perDate: number[] = [];
    const phases: Phases[] = [];
    const notComplete: string[] = [];
    let predictions = 0;
    for (let d = range.from; d <= range.to; d = addDays(d, 1)) {
      const b = await stack.batches.latestForDate(d);
      const cliRow = cli.dates.find((r) => r.date === d);
      if (!b || b.state !== 'complete' || cliRow?.status !== 'complete') {
        notComplete.push(
          `${d}: store ${b?.state ?? 'no batch'}, CLI ${cliRow?.status ?? 'no row'}${cliRow?.problems.length ? ` (${cliRow.problems.join('; ')})` : ''}`,
        );
        continue;
      }
      predictions += b.total_predictions;
      const end = b.closing?.phase5_published_at;
      if (end) perDate.push(Date.parse(end) - Date.parse(b.started_at));
      phases.push(phasesOf(b));
    }
    if (cli.exitCode !== 0 || notComplete.length > 0) {
      throw new Error(
        `season backfill ${label}: exit ${cli.exitCode}, ${notComplete.length} date(s) not complete: ${notComplete.slice(0, 10).join(' | ')}; CLI stderr: ${cli.stderr.slice(0, 2000)}`,
      );
    }
    ctx.emit({
      name: 'season',
      run: label,
      from: range.from,
      to: range.to,
      dates: range.dates,
      dates_complete: range.dates - notComplete.length,
      concurrency: cli.concurrency,
      wall_s: round(cli.wallMs / 1000, 1),
      dates_per_min: round(range.dates / (cli.wallMs / 60_000), 1),
      per_date_p50_s: round(percentile(perDate, 50) / 1000, 2),
      per_date_p95_s: round(percentile(perDate, 95) / 1000, 2),
      per_date_max_s: round(Math.max(...perDate) / 1000, 2),
      predictions,
      wall_ms_per_date: round(cli.wallMs / range.dates, 0),
      speedup_vs_c1: referenceMsPerDate === null ? null : round(referenceMsPerDate / (cli.wallMs / range.dates), 2),
      season_165_s_est: round(((cli.wallMs / range.dates) * 165) / 1000, 1),
      vs_target_120s: round(((cli.wallMs / range.dates) * 165) / 1000 / TARGET_S, 2),
      stack_cpu_s: round((cpu.user + cpu.system) / 1e6, 1),
    });
    // Where a date's time goes, at the start of the season and at its end (medians, ms).
    const tenth = Math.max(1, Math.floor(phases.length / 10));
    for (const [part, ps] of [
      ['first tenth', phases.slice(0, tenth)],
      ['last tenth', phases.slice(-tenth)],
    ] as const) {
      const med = (k: keyof Phases) => round(median(ps.map((p) => p[k])), 0);
      ctx.emit({
        name: 'season phases',
        run: label,
        dates: part,
        dispatch_ms: med('dispatch'),
        predict_ms: med('predict'),
        queue_and_lock_ms: med('queue'),
        consolidate_ms: med('consolidate'),
        close_ms: med('close'),
      });
    }
    return cli.wallMs / range.dates;
  } finally {
    await stack.close();
    logger.flush();
    await warehouse.close();
  }
}

export const seasonBenchmark: Benchmark = {
  name: 'season',
  description: 'a 165-date season backfill through the operator CLI on the embedded default (seeding reported apart)',
  capMs: 1_200_000,
  onlyByName: true,
  async run(ctx: BenchContext) {
    const today = etDate(new Date());
    const t0 = performance.now();
    const world = await seasonWorld(ctx, today);
    ctx.emit({
      name: 'season',
      run: 'seed (not timed in the backfill)',
      seed_action: world.action,
      seed_s: round((performance.now() - t0) / 1000, 1),
    });
    // The past dates of the window: its first date … yesterday.
    const { seasonRuns, seasonConcurrency, seasonDays, seasonReferenceDays } = benchOptions();
    if (seasonDays > DEFAULT_PAST_DAYS) throw new Error(`--season-days: the season world has ${DEFAULT_PAST_DAYS} past dates`);
    const range = { from: addDays(today, -seasonDays), to: addDays(today, -1), dates: seasonDays };
    const levels: Array<number | undefined> = seasonConcurrency.length > 0 ? seasonConcurrency : [undefined];
    const runDir = join(ctx.worldDir, 'season-run');
    try {
      for (let i = 0; i < seasonRuns; i++) {
        let reference: number | null = null;
        if (seasonReferenceDays > 0) {
          const ref = {
            from: range.from,
            to: addDays(range.from, Math.min(seasonReferenceDays, seasonDays) - 1),
            dates: Math.min(seasonReferenceDays, seasonDays),
          };
          reference = await oneRun(ctx, world.dir, runDir, ref, 1, `${i + 1}/${seasonRuns} reference: first ${ref.dates} dates, c=1`, null);
        }
        for (const c of levels)
          await oneRun(
            ctx,
            world.dir,
            runDir,
            range,
            c,
            `${i + 1}/${seasonRuns}${c === undefined ? ' season, concurrency from GET /capacity' : ` season c=${c}`}`,
            reference,
          );
      }
    } finally {
      if (existsSync(runDir)) rmSync(runDir, { recursive: true, force: true });
    }
  },
};
