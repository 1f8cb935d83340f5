/** Turns a coordinator answer the CLI cannot proceed with into a CliError: what went wrong and what to do next. */
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { num, obj, str, type Json } from './json.js';
import type { ApiResponse, Credentials } from './client.js';

export function explainHttp(res: ApiResponse, action: string, credentials: Credentials): CliError {
  const body = res.body;
  const message = str(body.message) ?? str(body.error) ?? `HTTP ${res.status}`;
  const details: Json = { http_status: res.status, ...(str(body.error) ? { code: str(body.error) } : {}) };
  if (res.status === 401 || res.status === 403) return authError(res.status, message, action, credentials, details);
  if (res.status === 409) return conflictError(body, details);
  if (res.status === 400)
    return new CliError(
      EXIT.usage,
      `the coordinator rejected ${action}: ${message}`,
      ['fix the argument the message names and run the command again'],
      details,
    );
  if (res.status === 404) return new CliError(EXIT.batchFailed, `${action}: ${message}`, [], details);
  if (res.status >= 500) return serviceError(res.status, body, message, action, details);
  return new CliError(EXIT.service, `${action}: unexpected HTTP ${res.status}: ${message}`, [], details);
}

function authError(status: number, message: string, action: string, credentials: Credentials, details: Json): CliError {
  const sent = [
    credentials.apiKey ? 'an API key (COORDINATOR_API_KEY, sent as X-API-Key)' : null,
    credentials.idToken ? 'an identity token (COORDINATOR_ID_TOKEN, sent as Authorization: Bearer)' : null,
  ].filter(Boolean);
  const hints =
    sent.length === 0
      ? ['neither COORDINATOR_API_KEY nor COORDINATOR_ID_TOKEN is set: set one of them']
      : [
          `the CLI sent ${sent.join(' and ')}: check it is the coordinator's current key`,
          'for a token: it must be an identity token for the coordinator URL (audience) from an allowed service account, and unexpired (gcloud auth print-identity-token --audiences=URL)',
        ];
  return new CliError(EXIT.service, `${action} was refused (HTTP ${status}): ${message}`, hints, details);
}

function conflictError(body: Json, details: Json): CliError {
  const batchId = str(body.batch_id) ?? '(unknown batch)';
  const date = str(body.game_date) ?? 'the date';
  const p = obj(body.progress);
  const progress =
    Object.keys(p).length === 0
      ? 'its record could not be read'
      : `state ${str(p.state) ?? '?'}, ${num(p.completed) ?? '?'}/${num(p.expected) ?? '?'} players (${num(p.percent) ?? '?'}%), running for ${num(p.elapsed_seconds) ?? '?'} s${num(p.eta_seconds) === null ? '' : `, ETA ${num(p.eta_seconds)} s`}`;
  return new CliError(
    EXIT.conflict,
    `batch ${batchId} is already running for ${date}: ${progress}`,
    [
      `wait for it: predict status ${batchId} --wait`,
      `or start a new batch that takes the date over: predict start ${date} --force`,
      `if it is stuck: predict check-stalled (completes stalled batches), or predict reset ${batchId}`,
    ],
    { ...details, batch_id: batchId, game_date: date, progress: body.progress ?? null },
  );
}

function serviceError(status: number, body: Json, message: string, action: string, details: Json): CliError {
  const code = str(body.error);
  const step = str(body.step) ?? str(obj(body.details).step);
  if (code === 'DATA_INCOMPLETE') {
    return new CliError(
      EXIT.service,
      `${action} refused: ${message}`,
      ['load the missing analytics and run again, or pass --skip-completeness-check to run anyway'],
      details,
    );
  }
  const what = step ? `step '${step}' failed` : code ? `the coordinator failed (${code})` : `the coordinator failed (HTTP ${status})`;
  return new CliError(
    EXIT.service,
    `${action}: ${what}: ${message}`,
    [
      status === 503
        ? 'a dependency (warehouse, bus or batch store) is failing; nothing was published and the date is free: retry when it is back'
        : 'retry; if it persists, read the coordinator logs for this request',
    ],
    { ...details, ...(step ? { step } : {}) },
  );
}
