/**
 * `predict backfill`: a range of dates, several at once. The concurrency is the coordinator's own recommendation
 * (`GET /capacity`: how many batches it can run side by side) unless `--concurrency N` says otherwise. Before each date the
 * latest batch of the date is read: `complete` is skipped (resume; `--no-skip-existing` re-runs it), a batch still running
 * refuses the date (`--force` supersedes it). Progress: one line per finished date and the overall count; then one table.
 * Exits with the first problem's code; stops launching new dates after a problem unless `--continue-on-error`.
 */
import { addDays } from '../../shared/dates/game-date.js';
import type { BatchStatus } from '../../shared/contracts/status.js';
import type { BackfillCommand } from './args.js';
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import { followBatch, stateEnded, verdictOf } from './follow.js';
import { num, obj } from './json.js';
import { requestStart } from './start-request.js';
import { getBatchStatus } from './status-api.js';
import { renderTable } from './table.js';

export type DateOutcome = 'complete' | 'partial' | 'failed' | 'skipped' | 'busy' | 'no_games' | 'no_players' | 'error' | 'not_run';

export interface DateRow {
  date: string;
  status: DateOutcome;
  batch_id: string | null;
  /** completed / expected players of the date's batch. */
  completed: number | null;
  expected: number | null;
  predictions: number | null;
  duration_seconds: number | null;
  problems: string[];
  exit_code: ExitCode;
}

const STOPS: readonly DateOutcome[] = ['partial', 'failed', 'busy', 'no_players', 'error'];
const DEFAULT_CONCURRENCY = 4;

export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) dates.push(d);
  return dates;
}

/** How many dates to run at once: `--concurrency`, else what the coordinator recommends, else a safe default. */
async function concurrencyFor(ctx: CommandContext, cmd: BackfillCommand): Promise<{ n: number; source: string }> {
  if (cmd.concurrency !== undefined) return { n: cmd.concurrency, source: '--concurrency' };
  try {
    const res = await ctx.client.get('/capacity');
    const n = num(obj(res.body).recommended_backfill_concurrency);
    if (res.status === 200 && n !== null && n >= 1) return { n: Math.floor(n), source: 'the coordinator' };
  } catch {
    // An older coordinator without /capacity: the default.
  }
  return { n: DEFAULT_CONCURRENCY, source: 'default' };
}

export async function runBackfill(ctx: CommandContext, cmd: BackfillCommand): Promise<number> {
  const { out } = ctx;
  const dates = datesBetween(cmd.from, cmd.to);
  const { n: concurrency, source } = await concurrencyFor(ctx, cmd);
  out.say(
    `Backfill ${cmd.from} … ${cmd.to}: ${dates.length} date${dates.length === 1 ? '' : 's'}, ${Math.min(concurrency, dates.length)} at a time (${source}), mode ${cmd.mode}, on ${ctx.client.baseUrl}${cmd.skipExisting ? ' (dates already complete are skipped)' : ' (re-running complete dates)'}`,
  );
  out.event('backfill', {
    from: cmd.from,
    to: cmd.to,
    dates,
    mode: cmd.mode,
    concurrency,
    skip_existing: cmd.skipExisting,
    continue_on_error: cmd.continueOnError,
    force: cmd.force,
  });

  const rows = new Map<string, DateRow>();
  let next = 0;
  const halt: { stopped: DateRow | null; aborted: CliError | null } = { stopped: null, aborted: null };
  const started = Date.now();
  const runOne = async (): Promise<void> => {
    while (!halt.stopped && !halt.aborted && next < dates.length) {
      const date = dates[next++] as string;
      let row: DateRow;
      try {
        row = await runDate(ctx, cmd, date);
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        // No answer, or the credentials are refused: every later date would fail the same way.
        const status = err.details.http_status;
        if (status === undefined || status === 401 || status === 403) halt.aborted ??= err;
        row = emptyRow(date, err.exitCode === EXIT.conflict ? 'busy' : 'error', err.exitCode, [err.message]);
      }
      rows.set(date, row);
      const done = rows.size;
      out.say(
        `[${done}/${dates.length}] ${date}: ${describe(row)} · overall ${done}/${dates.length} dates, ${Math.round((Date.now() - started) / 100) / 10} s`,
      );
      out.event('date', { ...row, done, total: dates.length });
      if (STOPS.includes(row.status) && !cmd.continueOnError) halt.stopped ??= row;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, dates.length) }, runOne));

  const table = dates.map((d) => rows.get(d) ?? emptyRow(d, 'not_run', EXIT.ok, []));
  const { stopped, aborted } = halt;
  if (stopped && !aborted)
    out.say(
      `Stopped launching dates after ${stopped.date} (${stopped.status}); --continue-on-error goes on past such dates. Re-running the same command resumes: complete dates are skipped.`,
    );
  const exitCode = table.find((r) => r.exit_code !== EXIT.ok)?.exit_code ?? EXIT.ok;
  out.say('');
  out.say(backfillTable(table));
  out.say('');
  const count = (s: DateOutcome) => table.filter((r) => r.status === s).length;
  const problems = table.length - count('complete') - count('skipped') - count('no_games') - count('not_run');
  out.say(
    `Backfill ${cmd.from} … ${cmd.to}: ${count('complete')} complete, ${count('skipped')} skipped, ${count('no_games')} without games, ${problems} with problems, ${count('not_run')} not run, in ${Math.round((Date.now() - started) / 100) / 10} s (exit ${exitCode})`,
  );
  if (aborted) out.fail(aborted);
  out.event('backfill_summary', {
    from: cmd.from,
    to: cmd.to,
    exit_code: exitCode,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    dates: table,
  });
  return exitCode;
}

async function runDate(ctx: CommandContext, cmd: BackfillCommand, date: string): Promise<DateRow> {
  const { out, client } = ctx;
  const latest = await getBatchStatus(client, { game_date: date });
  if (!latest.ok && latest.response.status !== 404) throw explainHttp(latest.response, `GET /status for ${date}`, client.credentials);
  if (latest.ok) {
    const s = latest.status;
    // A date that ended `complete` is done (with no games, too: there is nothing to predict). `failed` — no candidate
    // players, incomplete data, a reset — is run again.
    if (s.status === 'complete' && cmd.skipExisting) return { ...rowFrom(date, 'skipped', s, EXIT.ok, []), duration_seconds: null };
    if (!stateEnded(s.status) && !cmd.force) {
      return rowFrom(date, 'busy', s, EXIT.conflict, [
        `batch is ${s.status} (${s.progress.completed}/${s.progress.expected}), so the date was not started: wait (predict status ${s.batch_id} --wait) or pass --force`,
      ]);
    }
  }

  const answer = await requestStart(ctx, {
    date,
    mode: cmd.mode,
    force: cmd.force,
    skipCompletenessCheck: cmd.skipCompletenessCheck,
    datasetPrefix: cmd.datasetPrefix,
  });
  if (answer.kind === 'no_games') return emptyRow(date, 'no_games', EXIT.ok, []);
  if (answer.kind === 'no_players')
    return emptyRow(date, 'no_players', EXIT.batchFailed, [
      'games scheduled but no candidate players (is upcoming_player_game_context loaded?)',
    ]);

  out.event('started', {
    batch_id: answer.batchId,
    game_date: date,
    published: answer.published,
    candidates: answer.candidates,
    run_mode: answer.mode,
  });
  const result = await followBatch(client, answer.batchId, out, {
    intervalMs: ctx.global.intervalMs,
    timeoutMs: ctx.global.timeoutMs,
    quiet: true,
  });
  const verdict = verdictOf(result);
  const state = verdict.state === 'complete' || verdict.state === 'partial' || verdict.state === 'failed' ? verdict.state : 'error';
  const row = rowFrom(date, result.timedOut ? 'error' : state, result.status, verdict.exitCode, verdict.problems);
  if (answer.published === 0 && state === 'complete') row.problems.unshift('nothing published (already predicted, or gated out)');
  return row;
}

function rowFrom(date: string, status: DateOutcome, s: BatchStatus, exitCode: ExitCode, problems: string[]): DateRow {
  const started = Date.parse(s.started_at);
  const ended = Date.parse(s.ended_at ?? '');
  return {
    date,
    status,
    batch_id: s.batch_id,
    completed: s.progress.completed,
    expected: s.progress.expected,
    predictions: s.progress.total_predictions,
    duration_seconds: Number.isNaN(started) || Number.isNaN(ended) ? null : Math.round((ended - started) / 100) / 10,
    problems,
    exit_code: exitCode,
  };
}

function emptyRow(date: string, status: DateOutcome, exitCode: ExitCode, problems: string[]): DateRow {
  return {
    date,
    status,
    batch_id: null,
    completed: null,
    expected: null,
    predictions: null,
    duration_seconds: null,
    problems,
    exit_code: exitCode,
  };
}

function describe(r: DateRow): string {
  const players = r.expected === null ? '' : ` — ${r.completed ?? 0}/${r.expected} players, ${r.predictions ?? 0} predictions`;
  const took = r.duration_seconds === null ? '' : ` in ${r.duration_seconds} s`;
  const problems = r.problems.length > 0 ? ` (${r.problems.join('; ')})` : '';
  const status =
    r.status === 'skipped' ? `skipped: already complete (batch ${r.batch_id ?? '?'})` : r.status === 'not_run' ? 'not run' : r.status;
  return `${status}${players}${took}${problems}`;
}

export function backfillTable(rows: readonly DateRow[]): string {
  return renderTable(
    ['date', 'status', 'players', 'predictions', 'duration', 'batch', 'problems'],
    rows.map((r) => [
      r.date,
      r.status,
      r.expected === null ? '-' : `${r.completed ?? 0}/${r.expected}`,
      r.predictions === null ? '-' : String(r.predictions),
      r.duration_seconds === null ? '-' : `${r.duration_seconds} s`,
      r.batch_id ?? '-',
      r.problems.join('; ') || '-',
    ]),
  );
}
