/**
 * The worker's routes. `/predict` is a Pub/Sub push endpoint: the status code is the ack (2xx) or the nack (anything else).
 *  malformed envelope / missing field → 204 + log (never retried forever);
 *  permanent skip → 204 + completion with 0 predictions;
 *  transient failure → 503 (redelivered), or 204 + completion 0 when the game date is more than a day in the past;
 *  staging write failed → 503 and no completion event; success → 204 + completion with the rows written.
 */
import express, { type Express } from 'express';
import type { WorkerDeps } from './deps.js';
import { errorHandler } from '../../shared/http/error-handler.js';
import { requestContext, requestLog } from '../../shared/http/request-context.js';
import { pushAuth, type PushAuth } from '../../shared/http/auth/push-auth.js';
import { BODY_LIMITS, jsonBody } from '../../shared/http/json-body.js';
import { compose } from '../../shared/http/compose.js';
import { AppError, errorMessage, toAppError } from '../../shared/errors/app-error.js';
import { decodePush, predictionRequestSchema, type CompletionEvent, type PredictionRequest } from '../../shared/contracts/messages.js';
import { addDays, etDate } from '../../shared/dates/game-date.js';
import { handlePredictionRequest } from './predict/handle-request.js';

export interface WorkerAppOptions {
  projectId?: string | undefined;
  /** JSON body limit for /predict (express `limit` syntax). */
  bodyLimit?: string;
  /** Who may push to /predict. Absent: anyone (the embedded default; main.ts always passes the configured mode). */
  pushAuth?: PushAuth;
}

export function createWorkerApp(deps: WorkerDeps, opts: WorkerAppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(deps.logger, opts.projectId));
  // No app-wide body parser: /predict parses its envelope after push authentication.
  const push = compose(pushAuth(opts.pushAuth ?? { mode: 'disabled' }, deps.logger), ...jsonBody(opts.bodyLimit ?? BODY_LIMITS.push, { allowOtherTypes: true }));

  const modelsView = () => ({
    service: 'prediction-worker',
    ready: deps.models.ready,
    champion: deps.models.championId,
    loaded: deps.models.loaded.map((m) => ({ system_id: m.systemId, version: m.version, family: m.family, champion: m.champion, quantile_alpha: m.quantileAlpha, file: m.fileName, sha256: m.sha256, inputs: m.width, breaker: m.breaker.view() })),
    refused: deps.models.refused.map((r) => ({ system_id: r.systemId, uri: r.uri, reason: r.reason })),
  });

  app.get('/', (_req, res) => {
    res.json(modelsView());
  });
  app.get('/models', (_req, res) => {
    res.json(modelsView());
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'healthy', service: 'prediction-worker' });
  });
  app.get('/ready', (_req, res) => {
    if (deps.models.ready) res.json({ status: 'ready', models: deps.models.loaded.length });
    else res.status(503).json({ status: 'not_ready', reason: deps.models.championId ? `champion ${deps.models.championId} not loaded` : 'no champion (is_production) in the registry', refused: deps.models.refused });
  });

  app.post('/predict', push, async (req, res) => {
    const log = requestLog(res, deps.logger);
    const decoded = decodePush(req.body, predictionRequestSchema);
    if (!decoded.ok) {
      log.warn({ event: 'POISON_MESSAGE' }, `request dropped: ${decoded.error}`);
      res.status(204).end();
      return;
    }
    const request = decoded.data;
    const publishTime = publishTimeOf(req.body);
    let outcome;
    try {
      outcome = await handlePredictionRequest(deps, request, publishTime);
    } catch (err) {
      const appErr = toAppError(err);
      const staleAck = appErr.details?.stale_ack !== false && isStale(request.game_date, deps.clock.now());
      if (appErr.retryable && staleAck) {
        log.warn({ err: appErr.message }, `transient failure for a past game date (${request.game_date}): acked with a 0 completion`);
        await publishCompletion(deps, request, 0, `stale_transient: ${appErr.code}`);
        res.status(204).end();
        return;
      }
      throw appErr;
    }
    if (outcome.kind === 'skipped') {
      log.info({ skip_reason: outcome.reason, detail: outcome.detail }, `permanent skip: ${outcome.reason}`);
      await publishCompletion(deps, request, 0, outcome.reason);
    } else {
      await publishCompletion(deps, request, outcome.rows, null);
    }
    res.status(204).end();
  });

  app.use(errorHandler(deps.logger));
  return app;
}

/** A completion that cannot be published fails the request (5xx) so Pub/Sub redelivers: nothing is silently lost. */
async function publishCompletion(deps: WorkerDeps, req: PredictionRequest, predictions: number, skipReason: string | null): Promise<void> {
  const event: CompletionEvent = {
    batch_id: req.batch_id,
    correlation_id: req.correlation_id,
    game_date: req.game_date,
    player_lookup: req.player_lookup,
    predictions_generated: predictions,
    skip_reason: skipReason,
    timestamp: deps.clock.now().toISOString(),
    worker_instance: deps.settings.instance,
  };
  let outcome;
  try {
    [outcome] = await deps.bus.publish(deps.settings.readyTopic, [{ data: event, attributes: { batch_id: req.batch_id, game_date: req.game_date } }]);
  } catch (err) {
    outcome = { ok: false as const, error: errorMessage(err) };
  }
  if (!outcome?.ok) {
    throw new AppError('COMPLETION_PUBLISH_FAILED', `completion event not published: ${outcome && !outcome.ok ? outcome.error : 'no outcome'}`, { httpStatus: 503 });
  }
}

function isStale(gameDate: string, now: Date): boolean {
  return gameDate < addDays(etDate(now), -1);
}

function publishTimeOf(body: unknown): string | undefined {
  const message = (body as { message?: { publishTime?: unknown } } | undefined)?.message;
  const t = message?.publishTime;
  return typeof t === 'string' && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : undefined;
}
