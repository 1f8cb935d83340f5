/** `GET /status` for one batch, parsed with the contract the coordinator builds it with (shared/contracts/status.ts). */
import { batchStatusSchema, type BatchStatus } from '../../shared/contracts/status.js';
import { formatZodError } from '../../shared/contracts/messages.js';
import type { ApiResponse, CoordinatorClient } from './client.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

export type StatusAnswer = { ok: true; status: BatchStatus } | { ok: false; response: ApiResponse };

/** One batch's status (by id or the latest of a date); an answer the contract refuses is a service error, said plainly. */
export async function getBatchStatus(
  client: CoordinatorClient,
  query: { batch_id?: string; game_date?: string; players?: boolean },
): Promise<StatusAnswer> {
  const res = await client.get('/status', {
    batch_id: query.batch_id,
    game_date: query.game_date,
    ...(query.players ? { players: 'true' } : {}),
  });
  if (res.status !== 200) return { ok: false, response: res };
  const parsed = batchStatusSchema.safeParse(res.body);
  if (!parsed.success) {
    throw new CliError(
      EXIT.service,
      `the coordinator's /status answer does not match this CLI's contract: ${formatZodError(parsed.error)}`,
      ['the coordinator and the CLI are from different versions: run the CLI of the deployed version'],
    );
  }
  return { ok: true, status: parsed.data };
}
