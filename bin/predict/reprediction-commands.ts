/**
 * The day after the daily batch: `predict check-lines`, `predict line-update`, `predict regenerate` start re-predictions
 * (POST /check-lines, /line-update, /regenerate-with-supersede) and follow the new batch to its end like `start`;
 * `predict signal` shows the champion's daily signal (POST /check-signal). Exit codes as for every command: 0 done,
 * 1 the batch ended partial/failed (or there is no signal yet), 2 usage, 3 service, 4 the date is busy.
 */
import type { CheckLinesCommand, LineUpdateCommand, RegenerateCommand, SignalCommand } from './args.js';
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import { followStarted } from './follow.js';
import { list, num, obj, str, type Json } from './json.js';
import { renderTable } from './table.js';
import type { ApiResponse } from './client.js';

const fmt = (v: unknown): string => (v === null || v === undefined ? '—' : String(v));

function changesTable(players: unknown[]): string {
  return renderTable(
    ['player', 'reason', 'predicted line', 'line now', 'change', 'book'],
    players.map((p) => {
      const o = obj(p);
      return [fmt(o.player_lookup), fmt(o.reason), fmt(o.predicted_line), fmt(o.current_line), fmt(o.change), fmt(o.sportsbook)];
    }),
  );
}

/** A re-prediction's 202 (or its 4xx/5xx): the new batch id, or a CliError saying what the coordinator answered. */
function startedBatch(res: ApiResponse, action: string, credentials: CommandContext['client']['credentials']): string {
  if (res.status !== 202) throw explainHttp(res, action, credentials);
  const batchId = str(res.body.batch_id);
  if (!batchId) throw new CliError(EXIT.service, `${action} answered 202 without a batch_id: ${JSON.stringify(res.body).slice(0, 300)}`);
  return batchId;
}

export async function runCheckLines(ctx: CommandContext, cmd: CheckLinesCommand): Promise<number> {
  const { out, client } = ctx;
  const body: Json = {
    game_date: cmd.date,
    dry_run: cmd.dryRun,
    ...(cmd.threshold !== undefined ? { line_change_threshold: cmd.threshold } : {}),
  };
  const res = await client.post('/check-lines', body, 5 * 60_000);
  const b = res.body;
  if (res.status === 200) {
    const status = str(b.status) ?? '?';
    if (status === 'dry_run' || status === 'no_changes') {
      const players = list(b.players);
      out.say(
        `${cmd.date}: ${num(b.total_affected) ?? 0} players to re-predict (${num(b.new_lines) ?? 0} new lines, ${num(b.line_moves) ?? 0} lines moved by ≥ ${cmd.threshold ?? 1}) of ${num(b.predicted_players) ?? 0} predicted${cmd.dryRun ? ' — dry run, nothing started' : ''}.`,
      );
      if (players.length > 0) out.say(changesTable(players));
      if (players.length < (num(b.total_affected) ?? 0)) out.say(`(the first ${players.length} shown)`);
    } else out.say(`${cmd.date}: ${str(b.message) ?? status}`);
    out.event('summary', { game_date: cmd.date, exit_code: EXIT.ok, ...b });
    return EXIT.ok;
  }
  const batchId = startedBatch(res, `POST /check-lines for ${cmd.date}`, client.credentials);
  out.say(
    `Re-predicting ${num(b.total_affected) ?? 0} players of ${cmd.date} (${num(b.new_lines) ?? 0} new lines, ${num(b.line_moves) ?? 0} moved) in batch ${batchId}; its merge supersedes their rows.`,
  );
  out.say(changesTable(list(b.players)));
  out.event('started', {
    batch_id: batchId,
    game_date: cmd.date,
    new_lines: num(b.new_lines),
    line_moves: num(b.line_moves),
    total_affected: num(b.total_affected),
    published: num(b.published),
  });
  return followStarted(ctx, batchId, cmd.wait, { game_date: cmd.date, purpose: 'line_check' });
}

export async function runLineUpdate(ctx: CommandContext, cmd: LineUpdateCommand): Promise<number> {
  const { out, client } = ctx;
  const res = await client.post('/line-update', { game_date: cmd.date, player_lookups: cmd.players, dry_run: cmd.dryRun }, 5 * 60_000);
  const b = res.body;
  if (res.status === 200) {
    if (b.status === 'dry_run') {
      out.say(`${cmd.date}: the named players' predicted lines and their lines now — dry run, nothing started.`);
      out.say(
        renderTable(
          ['player', 'predicted line', 'line now', 'book'],
          list(b.players).map((p) => {
            const o = obj(p);
            return [fmt(o.player_lookup), fmt(o.predicted_line), fmt(o.current_line), fmt(o.sportsbook)];
          }),
        ),
      );
    } else out.say(str(b.message) ?? String(b.status));
    out.event('summary', { game_date: cmd.date, exit_code: EXIT.ok, ...b });
    return EXIT.ok;
  }
  const batchId = startedBatch(res, `POST /line-update for ${cmd.date}`, client.credentials);
  out.say(
    `Re-predicting ${cmd.players.length} player${cmd.players.length === 1 ? '' : 's'} of ${cmd.date} (LINE_UPDATE) in batch ${batchId}: ${num(b.published) ?? 0} published.`,
  );
  out.event('started', { batch_id: batchId, game_date: cmd.date, players: cmd.players, published: num(b.published) });
  return followStarted(ctx, batchId, cmd.wait, { game_date: cmd.date, purpose: 'line_update' });
}

export async function runRegenerate(ctx: CommandContext, cmd: RegenerateCommand): Promise<number> {
  const { out, client } = ctx;
  const body: Json = {
    game_date: cmd.date,
    skip_completeness_check: cmd.skipCompletenessCheck,
    ...(cmd.reason ? { reason: cmd.reason } : {}),
    ...(cmd.metadata ? { metadata: cmd.metadata } : {}),
  };
  const res = await client.post('/regenerate-with-supersede', body, 5 * 60_000);
  const batchId = startedBatch(res, `POST /regenerate-with-supersede for ${cmd.date}`, client.credentials);
  out.say(
    `Regenerating ${cmd.date} (reason ${str(res.body.reason) ?? '?'}) in batch ${batchId}: ${num(res.body.published) ?? 0} players published. Its merge supersedes the date's rows; until then they stay active.`,
  );
  out.event('started', { batch_id: batchId, game_date: cmd.date, reason: str(res.body.reason), published: num(res.body.published) });
  return followStarted(ctx, batchId, cmd.wait, { game_date: cmd.date, purpose: 'regeneration' });
}

export async function runSignal(ctx: CommandContext, cmd: SignalCommand): Promise<number> {
  const { out, client } = ctx;
  const res = await client.post('/check-signal', { game_date: cmd.date, send_alert: cmd.alert });
  if (res.status !== 200) throw explainHttp(res, `POST /check-signal for ${cmd.date}`, client.credentials);
  const b = res.body;
  if (b.signal === null || b.signal === undefined) {
    out.note(`error: no signal for ${cmd.date}: ${str(b.message) ?? 'none written yet'}`);
    out.note('  -> the signal is written when a batch of the date consolidates: predict status --date ' + cmd.date);
    out.event('summary', { game_date: cmd.date, exit_code: EXIT.batchFailed, ...b });
    return EXIT.batchFailed;
  }
  out.say(`${cmd.date}: ${String(b.signal)} for ${fmt(b.system_id)} — ${fmt(b.explanation)}`);
  out.say(
    `  ${fmt(b.total_picks)} picks with a line, ${fmt(b.pct_over)}% OVER / ${fmt(b.pct_under)}% UNDER (${fmt(b.skew_category)}), ${fmt(b.high_edge_picks)} with an edge ≥ 5, ${fmt(b.slate_size)} games`,
  );
  if (cmd.alert) out.say(`  alert: ${fmt(b.alert)}`);
  out.event('summary', { game_date: cmd.date, exit_code: EXIT.ok, ...b });
  return EXIT.ok;
}
