/** `POST /start` for one date, shared by `start` and `backfill`: the body from the options, and the answer sorted by meaning. */
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { explainHttp } from './http-errors.js';
import { num, obj, str, type Json } from './json.js';

export interface StartParams {
  date: string;
  mode: string | undefined;
  force: boolean;
  requireRealLines?: boolean;
  players?: string[] | undefined;
  skipCompletenessCheck: boolean;
  datasetPrefix: string | undefined;
}

export type StartAnswer =
  | { kind: 'started'; batchId: string; published: number; candidates: number | null; mode: string | null; body: Json }
  /** 200: nothing to do; the date is done. */
  | { kind: 'no_games'; body: Json }
  /** 404: games exist but no candidate players (upstream context rows missing). */
  | { kind: 'no_players'; body: Json };

/** `/start` does all its work before it answers (seconds, more on a big slate): a generous limit. */
const START_TIMEOUT_MS = 5 * 60_000;

export function startBody(p: StartParams): Json {
  return {
    game_date: p.date,
    ...(p.mode === undefined ? {} : { prediction_run_mode: p.mode }),
    ...(p.force ? { force: true } : {}),
    ...(p.requireRealLines ? { require_real_lines: true } : {}),
    ...(p.players ? { player_lookups: p.players } : {}),
    ...(p.skipCompletenessCheck ? { skip_completeness_check: true } : {}),
    ...(p.datasetPrefix === undefined ? {} : { dataset_prefix: p.datasetPrefix }),
  };
}

/** Sends `/start`. Anything but a started batch or "nothing to do" is thrown as a CliError explaining it (409 included). */
export async function requestStart(ctx: CommandContext, p: StartParams): Promise<StartAnswer> {
  const res = await ctx.client.post('/start', startBody(p), START_TIMEOUT_MS);
  const body = res.body;
  if (res.status === 202) {
    const batchId = str(body.batch_id);
    if (!batchId) throw new CliError(EXIT.service, `/start answered 202 without a batch_id: ${JSON.stringify(body).slice(0, 300)}`);
    const summary = obj(body.summary);
    return {
      kind: 'started',
      batchId,
      published: num(body.published) ?? 0,
      candidates: num(summary.candidates),
      mode: str(summary.run_mode),
      body,
    };
  }
  if (res.status === 200 && body.status === 'no_games_scheduled') return { kind: 'no_games', body };
  if (res.status === 404) return { kind: 'no_players', body };
  throw explainHttp(res, `POST /start for ${p.date}`, ctx.client.credentials);
}
