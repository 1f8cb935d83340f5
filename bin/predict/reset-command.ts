/** `predict reset`: end a batch (by id, or the active batch of a date) without consolidating, and free its date. */
import type { ResetCommand } from './args.js';
import type { CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import { str } from './json.js';

export async function runReset(ctx: CommandContext, cmd: ResetCommand): Promise<number> {
  const { client, out } = ctx;
  const target = cmd.batchId !== undefined ? `batch ${cmd.batchId}` : `the active batch of ${cmd.date ?? ''}`;
  const res = await client.post('/reset', cmd.batchId !== undefined ? { batch_id: cmd.batchId } : { game_date: cmd.date });
  if (res.status === 404) {
    out.note(`error: nothing to reset: ${cmd.batchId !== undefined ? `no batch ${cmd.batchId}` : `no active batch for ${cmd.date ?? ''}`}`);
    out.note('  -> predict status lists the active batches');
    out.event('reset', { exit_code: EXIT.batchFailed, ...res.body });
    return EXIT.batchFailed;
  }
  if (res.status !== 200) throw explainHttp(res, `POST /reset for ${target}`, client.credentials);
  const b = res.body;
  const batchId = str(b.batch_id) ?? '?';
  out.event('reset', { exit_code: EXIT.ok, ...b });
  if (b.status === 'already_ended') {
    out.say(`Batch ${batchId} had already ended (${str(b.state) ?? '?'}): nothing to reset.`);
    return EXIT.ok;
  }
  out.say(`Batch ${batchId} reset: was ${str(b.previous_state) ?? '?'}, now ${str(b.state) ?? '?'} (not consolidated); its date is free.`);
  out.say('Re-run the date with predict start DATE (players already predicted are skipped).');
  return EXIT.ok;
}
