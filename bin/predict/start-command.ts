/** `predict start`: POST /start, follow the batch with a progress bar, print the summary, exit by the batch's end state. */
import { renderStatusReport } from '../report.js';
import type { StartCommand } from './args.js';
import type { CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { followBatch, verdictOf } from './follow.js';
import { str, type Json } from './json.js';
import type { BatchStatus } from '../../shared/contracts/status.js';
import { requestStart } from './start-request.js';

export async function runStart(ctx: CommandContext, cmd: StartCommand): Promise<number> {
  const { out } = ctx;
  out.say(`Starting ${cmd.date}${cmd.mode ? ` (mode ${cmd.mode})` : ''}${cmd.force ? ' with --force' : ''} on ${ctx.client.baseUrl}`);
  const answer = await requestStart(ctx, cmd);

  if (answer.kind === 'no_games') {
    out.say(`No games scheduled on ${cmd.date}: nothing to predict.`);
    out.event('summary', { game_date: cmd.date, status: 'no_games_scheduled', exit_code: EXIT.ok, response: answer.body });
    return EXIT.ok;
  }
  if (answer.kind === 'no_players') {
    const message = `${str(answer.body.message) ?? `no players found for ${cmd.date}`}: games are scheduled but no candidate players were found`;
    out.note(`error: ${message}`);
    out.note('  -> is nba_analytics.upcoming_player_game_context loaded for the date? (or did --players name nobody on the slate?)');
    out.event('summary', { game_date: cmd.date, status: 'no_players', exit_code: EXIT.batchFailed, message, response: answer.body });
    return EXIT.batchFailed;
  }

  const { batchId } = answer;
  out.say(
    `Batch ${batchId} started for ${cmd.date}: ${answer.published} of ${answer.candidates ?? '?'} candidates published (mode ${answer.mode ?? '?'}).`,
  );
  out.event('started', {
    batch_id: batchId,
    game_date: cmd.date,
    published: answer.published,
    candidates: answer.candidates,
    run_mode: answer.mode,
  });
  if (!cmd.wait) {
    out.say(`Follow it: predict status ${batchId} --wait`);
    return EXIT.ok;
  }

  const result = await followBatch(ctx.client, batchId, out, { intervalMs: ctx.global.intervalMs, timeoutMs: ctx.global.timeoutMs });
  const verdict = verdictOf(result);
  const status = result.status;
  out.say('');
  out.say(renderStatusReport(status));
  out.say('');
  if (answer.published === 0)
    out.say(
      'Nothing was published: every candidate already has a prediction for the date or none passed the gate (see "Gate reasons"). Re-predict with --mode LINE_UPDATE.',
    );
  out.say(resultLine(status, verdict.state, verdict.exitCode));
  for (const problem of verdict.problems) out.say(`  ! ${problem}`);
  if (result.timedOut)
    out.say(
      `The batch goes on. Follow it again: predict status ${batchId} --wait · or complete it as it stands: predict check-stalled ${batchId}`,
    );
  else if (verdict.exitCode !== EXIT.ok)
    out.say(
      `Details per player: predict status ${batchId} --players · re-run the date (players already predicted are skipped): predict start ${cmd.date}`,
    );
  out.event('summary', summaryEvent(status, verdict.exitCode, verdict.problems, result.timedOut));
  return verdict.exitCode;
}

function resultLine(status: BatchStatus, state: string, exitCode: number): string {
  const p = status.progress;
  return `Result: ${state.toUpperCase()} — ${p.completed}/${p.expected} players reported (${p.failed} failed), ${p.total_predictions} predictions, phase-5 ${status.closing?.phase5_status ?? 'n/a'} (exit ${exitCode})`;
}

/** The final `--json` object of a followed batch: the verdict plus the whole `/status` body. */
export function summaryEvent(status: BatchStatus, exitCode: number, problems: string[], timedOut: boolean): Json {
  const p = status.progress;
  return {
    batch_id: status.batch_id,
    game_date: status.game_date,
    status: status.status,
    exit_code: exitCode,
    timed_out: timedOut,
    expected: p.expected,
    completed: p.completed,
    failed: p.failed,
    total_predictions: p.total_predictions,
    elapsed_seconds: p.elapsed_seconds,
    phase5_status: status.closing?.phase5_status ?? null,
    problems,
    batch: status,
  };
}
