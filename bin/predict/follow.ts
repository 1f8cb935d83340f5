/**
 * Follows a batch to its end by polling `GET /status?batch_id=`: the progress bar (or events) on every answer, transient
 * failures retried a few times, and the end awaited until the phase-5 message is settled so the summary is final.
 */
import { ENDED_STATES, type BatchState } from '../../shared/ports/batch-store.js';
import type { CoordinatorClient } from './client.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import { num, obj, str, type Json } from './json.js';
import type { Output } from './output.js';

export interface FollowOptions {
  intervalMs: number;
  /** Stop following after this long (the batch goes on); null: no limit. */
  timeoutMs: number | null;
}

export interface FollowResult {
  status: Json;
  /** True when the batch had not ended when the time limit ran out. */
  timedOut: boolean;
}

/** Consecutive failed polls (network, 5xx) tolerated before giving up: a coordinator restart should not end a backfill. */
const MAX_POLL_FAILURES = 5;
/** Polls after the batch ended while its phase-5 message is still being published. */
const MAX_SETTLE_POLLS = 20;

export const isEnded = (state: unknown): boolean => typeof state === 'string' && ENDED_STATES.includes(state as BatchState);

/** Ended, and the phase-5 outcome recorded (a batch that never consolidated has no consolidation to wait for). */
function settled(status: Json): boolean {
  if (!isEnded(status.status)) return false;
  const c = status.consolidation;
  if (c === null || c === undefined) return true;
  const consolidation = obj(c);
  return consolidation.phase5_message_id !== null || consolidation.phase5_error !== null;
}

export async function followBatch(client: CoordinatorClient, batchId: string, out: Output, opts: FollowOptions): Promise<FollowResult> {
  const bar = out.progress();
  const started = Date.now();
  let failures = 0;
  let settlePolls = 0;
  let last: Json = {};
  try {
    for (;;) {
      let answer;
      try {
        answer = await client.get('/status', { batch_id: batchId });
      } catch (err) {
        if (!(err instanceof CliError) || ++failures > MAX_POLL_FAILURES) throw err;
        await sleep(opts.intervalMs);
        continue;
      }
      if (answer.status >= 500 && ++failures <= MAX_POLL_FAILURES) {
        await sleep(opts.intervalMs);
        continue;
      }
      if (answer.status !== 200) throw explainHttp(answer, `GET /status for ${batchId}`, client.credentials);
      failures = 0;
      last = answer.body;
      const p = obj(last.progress);
      bar.update({
        batch_id: batchId,
        game_date: str(last.game_date) ?? '',
        state: str(last.status) ?? 'unknown',
        completed: num(p.completed) ?? 0,
        expected: num(p.expected) ?? 0,
        percent: num(p.percent),
        completions_per_second: num(p.completions_per_second),
        eta_seconds: num(p.eta_seconds),
      });
      if (settled(last) || (isEnded(last.status) && ++settlePolls > MAX_SETTLE_POLLS)) return { status: last, timedOut: false };
      if (opts.timeoutMs !== null && Date.now() - started > opts.timeoutMs) return { status: last, timedOut: true };
      await sleep(opts.intervalMs);
    }
  } finally {
    bar.done();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a finished (or abandoned) batch means for the operator: exit code, one-line verdict and the problems worth listing. */
export interface BatchVerdict {
  exitCode: 0 | 1;
  state: string;
  problems: string[];
}

export function verdictOf(result: FollowResult): BatchVerdict {
  const s = result.status;
  const state = str(s.status) ?? 'unknown';
  const p = obj(s.progress);
  const summary = obj(s.summary);
  const consolidation = obj(s.consolidation);
  const problems: string[] = [];
  if (result.timedOut) problems.push(`still ${state} when the CLI stopped following`);
  const expected = num(p.expected) ?? 0;
  const completed = num(p.completed) ?? 0;
  if (isEnded(state) && completed < expected) problems.push(`${expected - completed} of ${expected} players did not report`);
  if (str(s.error)) problems.push(String(s.error));
  if (str(summary.stall_reason)) problems.push(`stalled: ${String(summary.stall_reason)}`);
  if (str(consolidation.phase5_error)) problems.push(`phase-5 message not published: ${String(consolidation.phase5_error)}`);
  const duplicates = num(consolidation.duplicate_active_keys);
  if (duplicates !== null && duplicates > 0) problems.push(`${duplicates} duplicate active keys after the merge`);
  const warnings = Array.isArray(summary.warnings) ? summary.warnings.length : 0;
  if (warnings > 0) problems.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
  return { exitCode: !result.timedOut && state === 'complete' ? EXIT.ok : EXIT.batchFailed, state, problems };
}
