/** `predict start`: POST /start, follow the batch with a progress bar, print the summary, exit by the batch's end state. */
import { renderStatusReport } from '../report.js';
import type { StartCommand } from './args.js';
import type { CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { followBatch, verdictOf } from './follow.js';
import { num, obj, str, type Json } from './json.js';
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
  out.say(`Batch ${batchId} started for ${cmd.date}: ${answer.published} of ${answer.candidates ?? '?'} candidates published (mode ${answer.mode ?? '?'}).`);
  out.event('started', { batch_id: batchId, game_date: cmd.date, published: answer.published, candidates: answer.candidates, run_mode: answer.mode });
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
  if (answer.published === 0) out.say('Nothing was published: every candidate already has a prediction for the date or none passed the gate (see "Gate reasons"). Re-predict with --mode LINE_UPDATE.');
  out.say(resultLine(status, verdict.state, verdict.exitCode));
  for (const problem of verdict.problems) out.say(`  ! ${problem}`);
  if (result.timedOut) out.say(`The batch goes on. Follow it again: predict status ${batchId} --wait · or complete it as it stands: predict check-stalled ${batchId}`);
  else if (verdict.exitCode !== EXIT.ok) out.say(`Details per player: predict status ${batchId} --players · re-run the date (players already predicted are skipped): predict start ${cmd.date}`);
  out.event('summary', summaryEvent(status, verdict.exitCode, verdict.problems, result.timedOut));
  return verdict.exitCode;
}

function resultLine(status: Json, state: string, exitCode: number): string {
  const p = obj(status.progress);
  const c = obj(status.consolidation);
  return `Result: ${state.toUpperCase()} — ${num(p.completed) ?? 0}/${num(p.expected) ?? 0} players reported, ${num(p.total_predictions) ?? 0} predictions, phase-5 ${str(c.phase5_status) ?? 'n/a'} (exit ${exitCode})`;
}

/** The final `--json` object of a followed batch: the verdict plus the whole `/status` body. */
export function summaryEvent(status: Json, exitCode: number, problems: string[], timedOut: boolean): Json {
  const p = obj(status.progress);
  const c = obj(status.consolidation);
  return {
    batch_id: status.batch_id,
    game_date: status.game_date,
    status: status.status,
    exit_code: exitCode,
    timed_out: timedOut,
    expected: num(p.expected),
    completed: num(p.completed),
    total_predictions: num(p.total_predictions),
    elapsed_seconds: num(p.elapsed_seconds),
    phase5_status: str(c.phase5_status),
    problems,
    batch: status,
  };
}
