/**
 * Follows a batch to its end by polling `GET /status?batch_id=`: the progress bar (or events) on every answer, transient
 * failures retried a few times, and the end awaited until the batch is closed (its phase-5 message published and its
 * run-history row written) so the summary is final.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isEnded, type BatchState } from '../../shared/batch/batch-record.js';
import type { BatchStatus } from '../../shared/contracts/status.js';
import type { CoordinatorClient } from './client.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import type { Output } from './output.js';
import { getBatchStatus } from './status-api.js';
import { renderStatusReport } from '../report.js';

export interface FollowOptions {
  /** The longest wait between two polls (`--interval`). */
  intervalMs: number;
  /** Stop following after this long (the batch goes on); null: no limit. */
  timeoutMs: number | null;
  /** No progress bar or events (a backfill follows several batches at once and reports per date). */
  quiet?: boolean;
}

export interface FollowResult {
  status: BatchStatus;
  /** True when the batch had not ended when the time limit ran out. */
  timedOut: boolean;
}

/** Consecutive failed polls (network, 5xx) tolerated before giving up: a coordinator restart should not end a backfill. */
const MAX_POLL_FAILURES = 5;
/** How long to keep polling a batch that ended while its closing (phase-5 message, run history) is pending: 20 intervals. */
const SETTLE_INTERVALS = 20;

/** The shortest wait between two polls: a batch on the embedded default ends in about a second. */
export const MIN_POLL_MS = 200;

/**
 * How long to wait before the next poll, from how long the batch has been followed: a tenth of that, between
 * MIN_POLL_MS and the interval. A batch that ends is therefore seen at most a tenth of its age (or the interval) late —
 * a 2-second batch within 0.2 s instead of up to 2 s, which is what a backfill of short batches waits on — while a
 * 10-minute batch is still polled only every `--interval` seconds.
 */
export function nextPollMs(followedMs: number, intervalMs: number): number {
  return Math.min(intervalMs, Math.max(MIN_POLL_MS, Math.round(followedMs / 10)));
}

export const stateEnded = (state: unknown): boolean => typeof state === 'string' && isEnded(state as BatchState);

export async function followBatch(client: CoordinatorClient, batchId: string, out: Output, opts: FollowOptions): Promise<FollowResult> {
  const bar = opts.quiet ? { update: () => undefined, done: () => undefined } : out.progress();
  const started = Date.now();
  const pause = () => sleep(nextPollMs(Date.now() - started, opts.intervalMs));
  let failures = 0;
  let endedSeenAt: number | null = null;
  try {
    for (;;) {
      let answer;
      try {
        answer = await getBatchStatus(client, { batch_id: batchId });
      } catch (err) {
        if (!(err instanceof CliError) || err.exitCode !== EXIT.service || ++failures > MAX_POLL_FAILURES) throw err;
        await sleep(opts.intervalMs);
        continue;
      }
      if (!answer.ok) {
        if (answer.response.status >= 500 && ++failures <= MAX_POLL_FAILURES) {
          await sleep(opts.intervalMs);
          continue;
        }
        throw explainHttp(answer.response, `GET /status for ${batchId}`, client.credentials);
      }
      failures = 0;
      const status = answer.status;
      const p = status.progress;
      bar.update({
        batch_id: batchId,
        game_date: status.game_date,
        state: status.status,
        completed: p.completed,
        expected: p.expected,
        percent: p.percent,
        completions_per_second: p.completions_per_second,
        eta_seconds: p.eta_seconds,
      });
      if (isEnded(status.status)) endedSeenAt ??= Date.now();
      if (status.closed || (endedSeenAt !== null && Date.now() - endedSeenAt > SETTLE_INTERVALS * opts.intervalMs))
        return { status, timedOut: false };
      if (opts.timeoutMs !== null && Date.now() - started > opts.timeoutMs) return { status, timedOut: true };
      await pause();
    }
  } finally {
    bar.done();
  }
}

/** What a finished (or abandoned) batch means for the operator: exit code, one-line verdict and the problems worth listing. */
export interface BatchVerdict {
  exitCode: 0 | 1;
  state: string;
  problems: string[];
}

// eslint-disable-next-line complexity -- one check per way a followed batch can fall short, each adding a problem line; they read best as a list
export function verdictOf(result: FollowResult): BatchVerdict {
  const s = result.status;
  const problems: string[] = [];
  if (result.timedOut) problems.push(`still ${s.status} when the CLI stopped following`);
  if (isEnded(s.status) && s.status !== 'complete') problems.push(...(s.closing?.reasons ?? (s.error ? [s.error] : [])));
  if (s.summary?.stall_reason) problems.push(`stalled: ${s.summary.stall_reason}`);
  if (s.closing?.phase5_error) problems.push(`phase-5 message not published yet: ${s.closing.phase5_error}`);
  if (s.closing?.run_error) problems.push(`run-history row not written yet: ${s.closing.run_error}`);
  const warnings = (s.summary?.warnings.length ?? 0) + (s.consolidation?.warnings.length ?? 0);
  if (warnings > 0) problems.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
  return { exitCode: !result.timedOut && s.status === 'complete' ? EXIT.ok : EXIT.batchFailed, state: s.status, problems };
}

/**
 * Follows a batch a command started (redrive, check-lines, line-update, regenerate) to its end and prints the report and the
 * verdict; `--no-wait` only says how to follow it. Returns the exit code. `facts` go into the `--json` summary.
 */
export async function followStarted(
  ctx: { client: CoordinatorClient; out: Output; global: { intervalMs: number; timeoutMs: number | null } },
  batchId: string,
  wait: boolean,
  facts: Record<string, unknown>,
): Promise<number> {
  const { out } = ctx;
  if (!wait) {
    out.say(`Follow it: predict status ${batchId} --wait`);
    return EXIT.ok;
  }
  const result = await followBatch(ctx.client, batchId, out, { intervalMs: ctx.global.intervalMs, timeoutMs: ctx.global.timeoutMs });
  const verdict = verdictOf(result);
  out.say('');
  out.say(renderStatusReport(result.status));
  out.say(`\nResult: ${verdict.state.toUpperCase()} (exit ${verdict.exitCode})`);
  for (const p of verdict.problems) out.say(`  ! ${p}`);
  out.event('summary', {
    batch_id: batchId,
    ...facts,
    status: result.status.status,
    exit_code: verdict.exitCode,
    problems: verdict.problems,
  });
  return verdict.exitCode;
}
