/** `predict check-stalled`: what Cloud Scheduler runs every few minutes, by hand; lists each batch checked and the action. */
import type { CheckStalledCommand } from './args.js';
import type { CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import { list, num, obj, str } from './json.js';
import { renderTable } from './table.js';

export async function runCheckStalled(ctx: CommandContext, cmd: CheckStalledCommand): Promise<number> {
  const { client, out } = ctx;
  const res = await client.post('/check-stalled', {
    ...(cmd.batchId === undefined ? {} : { batch_id: cmd.batchId }),
    ...(cmd.idleMinutes === undefined ? {} : { stall_threshold_minutes: cmd.idleMinutes }),
    ...(cmd.minPct === undefined ? {} : { min_completion_pct: cmd.minPct }),
    ...(cmd.maxAgeMinutes === undefined ? {} : { max_batch_age_minutes: cmd.maxAgeMinutes }),
  });
  if (res.status !== 200) throw explainHttp(res, 'POST /check-stalled', client.credentials);
  const results = list(res.body.results).map(obj);
  out.event('check_stalled', { exit_code: EXIT.ok, ...res.body });
  out.say(
    `Checked ${num(res.body.batches_checked) ?? results.length} active batch(es); ${num(res.body.batches_completed) ?? 0} completed as they stood or failed.`,
  );
  if (results.length > 0) {
    out.say(
      renderTable(
        ['batch', 'date', 'action', 'state', 'players', 'reason'],
        results.map((r) => {
          const p = obj(r.progress);
          return [
            str(r.batch_id) ?? '?',
            str(r.game_date) ?? '?',
            str(r.action) ?? '?',
            str(r.state) ?? '?',
            `${num(p.completed) ?? '?'}/${num(p.expected) ?? '?'}`,
            str(r.reason) ?? '-',
          ];
        }),
      ),
    );
  }
  return EXIT.ok;
}
