/** `predict status`: every active batch, or one batch (by id or the latest of a date) with its summary; `--wait` follows it. */
import { renderStatusReport } from '../report.js';
import type { StatusCommand } from './args.js';
import type { CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import { followBatch, isEnded, verdictOf } from './follow.js';
import { list, num, obj, str, type Json } from './json.js';
import { summaryEvent } from './start-command.js';
import { renderTable } from './table.js';

export async function runStatus(ctx: CommandContext, cmd: StatusCommand): Promise<number> {
  const { client, out } = ctx;
  if (cmd.batchId === undefined && cmd.date === undefined) return activeBatches(ctx);

  const query = cmd.batchId !== undefined ? { batch_id: cmd.batchId } : { game_date: cmd.date };
  const what = cmd.batchId !== undefined ? `batch ${cmd.batchId}` : `the latest batch of ${cmd.date ?? ''}`;
  const res = await client.get('/status', { ...query, ...(cmd.players ? { players: 'true' } : {}) });
  if (res.status !== 200) throw explainHttp(res, `GET /status for ${what}`, client.credentials);
  let status = res.body;
  const batchId = str(status.batch_id) ?? cmd.batchId ?? '';

  let exitCode: number = EXIT.ok;
  let problems: string[] = [];
  if (cmd.wait && !isEnded(status.status)) {
    out.say(`Following ${batchId} (${str(status.status) ?? '?'}) until it ends`);
    const result = await followBatch(client, batchId, out, { intervalMs: ctx.global.intervalMs, timeoutMs: ctx.global.timeoutMs });
    const verdict = verdictOf(result);
    exitCode = verdict.exitCode;
    problems = verdict.problems;
    // The per-player outcomes are not in the polled answers: read them once more at the end.
    status = cmd.players ? (await client.get('/status', { batch_id: batchId, players: 'true' })).body : result.status;
  } else if (cmd.wait) {
    const verdict = verdictOf({ status, timedOut: false });
    exitCode = verdict.exitCode;
    problems = verdict.problems;
  }

  out.say(renderStatusReport(status));
  if (cmd.players) {
    out.say('');
    out.say(playersTable(list(status.players)));
  }
  if (!isEnded(status.status)) out.say(`\nStill ${str(status.status) ?? '?'}: follow it with predict status ${batchId} --wait`);
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

function playersTable(players: unknown[]): string {
  const rows = players.map(obj).map((p: Json) => [
    str(p.player_lookup) ?? '?',
    str(p.outcome) ?? '?',
    str(p.reason) ?? '',
    str(p.line_source) ?? '-',
    num(p.line_value) === null ? '-' : String(num(p.line_value)),
    str(p.sportsbook) ?? '-',
  ]);
  return renderTable(['player', 'outcome', 'reason', 'line source', 'line', 'book'], rows);
}
