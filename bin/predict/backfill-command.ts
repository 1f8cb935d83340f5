/**
 * `predict backfill`: dates one after another, each to its end (polling, never a fixed sleep). Before each date the
 * latest batch of the date is read: `complete` is skipped (resume; `--no-skip-existing` re-runs it), a batch still running
 * refuses the date (`--force` takes it over). Ends with one table; exits with the first problem's code.
 */
import { addDays } from '../../shared/dates/game-date.js';
import type { BackfillCommand } from './args.js';
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import { followBatch, isEnded, verdictOf } from './follow.js';
import { num, obj, str, type Json } from './json.js';
import { requestStart } from './start-request.js';
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

export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) dates.push(d);
  return dates;
}

export async function runBackfill(ctx: CommandContext, cmd: BackfillCommand): Promise<number> {
  const { out } = ctx;
  const dates = datesBetween(cmd.from, cmd.to);
  out.say(`Backfill ${cmd.from} … ${cmd.to}: ${dates.length} date${dates.length === 1 ? '' : 's'}, mode ${cmd.mode}, on ${ctx.client.baseUrl}${cmd.skipExisting ? ' (dates already complete are skipped)' : ' (re-running complete dates)'}`);
  out.event('backfill', { from: cmd.from, to: cmd.to, dates, mode: cmd.mode, skip_existing: cmd.skipExisting, continue_on_error: cmd.continueOnError, force: cmd.force });

  const rows: DateRow[] = [];
  let aborted: CliError | null = null;
  for (const [i, date] of dates.entries()) {
    const tag = `[${i + 1}/${dates.length}] ${date}`;
    let row: DateRow;
    try {
      row = await runDate(ctx, cmd, date, tag);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      // No answer, or the credentials are refused: every later date would fail the same way.
      const status = err.details.http_status;
      if (status === undefined || status === 401 || status === 403) {
        aborted = err;
        row = emptyRow(date, 'error', err.exitCode, [err.message]);
      } else row = emptyRow(date, err.exitCode === EXIT.conflict ? 'busy' : 'error', err.exitCode, [err.message]);
    }
    rows.push(row);
    out.say(`${tag}: ${describe(row)}`);
    out.event('date', { ...row });
    if (aborted || (STOPS.includes(row.status) && !cmd.continueOnError)) {
      for (const rest of dates.slice(i + 1)) rows.push(emptyRow(rest, 'not_run', EXIT.ok, []));
      if (!aborted) out.say(`Stopped after ${date} (${row.status}); --continue-on-error goes on past such dates. Re-running the same command resumes: complete dates are skipped.`);
      break;
    }
  }

  const exitCode = rows.find((r) => r.exit_code !== EXIT.ok)?.exit_code ?? EXIT.ok;
  out.say('');
  out.say(backfillTable(rows));
  out.say('');
  const count = (s: DateOutcome) => rows.filter((r) => r.status === s).length;
  out.say(`Backfill ${cmd.from} … ${cmd.to}: ${count('complete')} complete, ${count('skipped')} skipped, ${count('no_games')} without games, ${rows.length - count('complete') - count('skipped') - count('no_games') - count('not_run')} with problems, ${count('not_run')} not run (exit ${exitCode})`);
  if (aborted) out.fail(aborted);
  out.event('backfill_summary', { from: cmd.from, to: cmd.to, exit_code: exitCode, dates: rows });
  return exitCode;
}

async function runDate(ctx: CommandContext, cmd: BackfillCommand, date: string, tag: string): Promise<DateRow> {
  const { out, client } = ctx;
  const latest = await client.get('/status', { game_date: date });
  if (latest.status !== 200 && latest.status !== 404) throw explainHttp(latest, `GET /status for ${date}`, client.credentials);
  if (latest.status === 200) {
    const state = str(latest.body.status) ?? 'unknown';
    const batchId = str(latest.body.batch_id);
    // A date that ended with no candidate players is `complete` but has nothing in it: run it again (its inputs may be loaded now).
    const empty = obj(latest.body.summary).outcome === 'no_players';
    if (state === 'complete' && !empty && cmd.skipExisting) return { ...rowFrom(date, 'skipped', latest.body, EXIT.ok, []), duration_seconds: null };
    if (!isEnded(state) && !cmd.force) {
      const p = obj(latest.body.progress);
      return rowFrom(date, 'busy', latest.body, EXIT.conflict, [
        `batch is ${state} (${num(p.completed) ?? '?'}/${num(p.expected) ?? '?'}), so the date was not started: wait (predict status ${batchId ?? '?'} --wait) or pass --force`,
      ]);
    }
  }

  const answer = await requestStart(ctx, { date, mode: cmd.mode, force: cmd.force, skipCompletenessCheck: cmd.skipCompletenessCheck, datasetPrefix: cmd.datasetPrefix });
  if (answer.kind === 'no_games') return emptyRow(date, 'no_games', EXIT.ok, []);
  if (answer.kind === 'no_players') return emptyRow(date, 'no_players', EXIT.batchFailed, ['games scheduled but no candidate players (is upcoming_player_game_context loaded?)']);

  out.say(`${tag}: batch ${answer.batchId} started, ${answer.published} of ${answer.candidates ?? '?'} candidates published`);
  out.event('started', { batch_id: answer.batchId, game_date: date, published: answer.published, candidates: answer.candidates, run_mode: answer.mode });
  const result = await followBatch(client, answer.batchId, out, { intervalMs: ctx.global.intervalMs, timeoutMs: ctx.global.timeoutMs });
  const verdict = verdictOf(result);
  const state = verdict.state === 'complete' || verdict.state === 'partial' || verdict.state === 'failed' ? verdict.state : 'error';
  const row = rowFrom(date, result.timedOut ? 'error' : state, result.status, verdict.exitCode, verdict.problems);
  if (answer.published === 0 && state === 'complete') row.problems.unshift('nothing published (already predicted, or gated out)');
  return row;
}

function rowFrom(date: string, status: DateOutcome, body: Json, exitCode: ExitCode, problems: string[]): DateRow {
  const p = obj(body.progress);
  const started = Date.parse(str(body.started_at) ?? '');
  const ended = Date.parse(str(body.ended_at) ?? '');
  return {
    date,
    status,
    batch_id: str(body.batch_id),
    completed: num(p.completed),
    expected: num(p.expected),
    predictions: num(p.total_predictions),
    duration_seconds: Number.isNaN(started) || Number.isNaN(ended) ? null : Math.round((ended - started) / 100) / 10,
    problems,
    exit_code: exitCode,
  };
}

function emptyRow(date: string, status: DateOutcome, exitCode: ExitCode, problems: string[]): DateRow {
  return { date, status, batch_id: null, completed: null, expected: null, predictions: null, duration_seconds: null, problems, exit_code: exitCode };
}

function describe(r: DateRow): string {
  const players = r.expected === null ? '' : ` — ${r.completed ?? 0}/${r.expected} players, ${r.predictions ?? 0} predictions`;
  const took = r.duration_seconds === null ? '' : ` in ${r.duration_seconds} s`;
  const problems = r.problems.length > 0 ? ` (${r.problems.join('; ')})` : '';
  const status = r.status === 'skipped' ? `skipped: already complete (batch ${r.batch_id ?? '?'})` : r.status === 'not_run' ? 'not run' : r.status;
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
