/**
 * `predict redrive BATCH`: re-predicts the players an ended batch lost — dead-lettered requests, players the worker could
 * not predict, requests that could not be published, players that never reported — in a new batch (POST /redrive), and
 * follows it to its end like `start`. The same command on Pub/Sub and on the embedded default.
 */
import type { RedriveCommand } from './args.js';
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import { followStarted } from './follow.js';
import { list, num, str } from './json.js';

export async function runRedrive(ctx: CommandContext, cmd: RedriveCommand): Promise<number> {
  const { out, client } = ctx;
  const res = await client.post('/redrive', { batch_id: cmd.batchId }, 5 * 60_000);
  if (res.status === 200 && res.body.status === 'nothing_to_redrive') {
    out.say(`Nothing to redrive: every published player of ${cmd.batchId} reported without failing.`);
    out.event('summary', { batch_id: cmd.batchId, status: 'nothing_to_redrive', exit_code: EXIT.ok });
    return EXIT.ok;
  }
  if (res.status === 404 && res.body.status === 'not_found')
    throw new CliError(EXIT.batchFailed, `no batch ${cmd.batchId}`, [
      'predict status lists the active batches; predict status --date D the latest of a date',
    ]);
  if (res.status !== 202) throw explainHttp(res, `POST /redrive for ${cmd.batchId}`, client.credentials);
  const batchId = str(res.body.batch_id);
  if (!batchId) throw new CliError(EXIT.service, `/redrive answered 202 without a batch_id: ${JSON.stringify(res.body).slice(0, 300)}`);
  const players = list(res.body.players).length;
  out.say(
    `Redriving ${players} player${players === 1 ? '' : 's'} of ${cmd.batchId} in batch ${batchId} (${num(res.body.published) ?? 0} published).`,
  );
  out.event('started', { batch_id: batchId, redrive_of: cmd.batchId, players, published: num(res.body.published) });
  return followStarted(ctx, batchId, cmd.wait, { redrive_of: cmd.batchId });
}
