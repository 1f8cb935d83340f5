/** `predict status`: every active batch, or one batch (by id or the latest of a date) with its summary; `--wait` follows it. */
import { renderStatusReport } from '../report.js';
import type { StatusCommand } from './args.js';
import type { CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import { followBatch, stateEnded, verdictOf } from './follow.js';
import { list, num, obj, str } from './json.js';
import { getBatchStatus } from './status-api.js';
import type { PlayerStatus } from '../../shared/contracts/status.js';
import { summaryEvent } from './start-command.js';
import { renderTable } from './table.js';

export async function runStatus(ctx: CommandContext, cmd: StatusCommand): Promise<number> {
  const { client, out } = ctx;
  if (cmd.batchId === undefined && cmd.date === undefined) return activeBatches(ctx);

  const query = cmd.batchId !== undefined ? { batch_id: cmd.batchId } : { game_date: cmd.date };
  const what = cmd.batchId !== undefined ? `batch ${cmd.batchId}` : `the latest batch of ${cmd.date ?? ''}`;
  const answer = await getBatchStatus(client, { ...query, players: cmd.players });
  if (!answer.ok) throw explainHttp(answer.response, `GET /status for ${what}`, client.credentials);
  let status = answer.status;
  const batchId = status.batch_id;

  let exitCode: number = EXIT.ok;
  let problems: string[] = [];
  if (cmd.wait && !stateEnded(status.status)) {
    out.say(`Following ${batchId} (${status.status}) until it ends`);
    const result = await followBatch(client, batchId, out, { intervalMs: ctx.global.intervalMs, timeoutMs: ctx.global.timeoutMs });
    const verdict = verdictOf(result);
    exitCode = verdict.exitCode;
    problems = verdict.problems;
    // The per-player outcomes are not in the polled answers: read them once more at the end.
    const final = cmd.players ? await getBatchStatus(client, { batch_id: batchId, players: true }) : null;
    status = final?.ok ? final.status : result.status;
  } else if (cmd.wait) {
    const verdict = verdictOf({ status, timedOut: false });
    exitCode = verdict.exitCode;
    problems = verdict.problems;
  }

  out.say(renderStatusReport(status));
  if (cmd.players) {
    out.say('');
    out.say(playersTable(status.players ?? []));
  }
  if (!stateEnded(status.status)) out.say(`\nStill ${status.status}: follow it with predict status ${batchId} --wait`);
  if (cmd.wait) {
    out.say(`\nResult: ${String(status.status).toUpperCase()} (exit ${exitCode})`);
    for (const p of problems) out.say(`  ! ${p}`);
    out.event('summary', summaryEvent(status, exitCode, problems, false));
  } else out.event('status', { batch: status });
  return exitCode;
}

async function activeBatches(ctx: CommandContext): Promise<number> {
  const res = await ctx.client.get('/status');
  if (res.status !== 200) throw explainHttp(res, 'GET /status', ctx.client.credentials);
  const batches = list(res.body.batches).map(obj);
  ctx.out.event('status', { ...res.body });
  if (batches.length === 0) {
    ctx.out.say('No active batch.');
    return EXIT.ok;
  }
  ctx.out.say(`${batches.length} active batch${batches.length === 1 ? '' : 'es'}:`);
  ctx.out.say(
    renderTable(
      ['batch', 'date', 'state', 'players', 'percent', 'elapsed', 'ETA'],
      batches.map((b) => [
        str(b.batch_id) ?? '?',
        str(b.game_date) ?? '?',
        str(b.state) ?? '?',
        `${num(b.completed) ?? '?'}/${num(b.expected) ?? '?'}`,
        `${num(b.percent) ?? '?'}%`,
        `${num(b.elapsed_seconds) ?? '?'} s`,
        num(b.eta_seconds) === null ? '-' : `${num(b.eta_seconds)} s`,
      ]),
    ),
  );
  return EXIT.ok;
}

/** Every candidate: its dispatch outcome, and what the worker did (a dead letter or a failure says so, with its reason). */
function playersTable(players: PlayerStatus[]): string {
  const rows = players.map((p) => [
    p.player_lookup,
    p.outcome,
    p.reason,
    p.completion ? p.completion.kind : p.outcome === 'published' ? 'not reported' : '-',
    p.completion ? `${p.completion.staged_rows}${p.completion.reason ? ` (${p.completion.reason})` : ''}` : '-',
    p.line_source ?? '-',
    p.line_value === null ? '-' : String(p.line_value),
    p.sportsbook ?? '-',
  ]);
  return renderTable(['player', 'outcome', 'reason', 'worker', 'rows', 'line source', 'line', 'book'], rows);
}
