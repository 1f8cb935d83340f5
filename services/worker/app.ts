/**
 * The worker's routes. `/predict` is a Pub/Sub push endpoint (shared/http/push-route.ts turns its decision into the ack or
 * the nack); the decision itself — which failures are retried, which acked — is the domain's (predict/).
 */
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { WorkerDeps } from './deps.js';
import { errorHandler } from '../../shared/http/error-handler.js';
import { accessLog, requestContext } from '../../shared/http/request-context.js';
import { pushAuth, type PushAuth } from '../../shared/http/auth/push-auth.js';
import { BODY_LIMITS, pushBody } from '../../shared/http/json-body.js';
import { compose } from '../../shared/http/compose.js';
import { pushRoute, type PushDecision } from '../../shared/http/push-route.js';
import { predictionRequestSchema } from '../../shared/contracts/messages.js';
import { predictMessage, type PredictDecision } from './predict/predict-message.js';
import { workerDeepHealth } from './health/deep.js';

export const SERVICE = 'prediction-worker';

export interface WorkerAppOptions {
  projectId?: string | undefined;
  /** JSON body limit for /predict (express `limit` syntax). */
  bodyLimit?: string;
  /** Who may push to /predict. Absent: anyone (the embedded default). */
  pushAuth?: PushAuth;
  /** The root pino logger, for one access line per request. Absent: no access log (tests). */
  accessLogger?: Logger;
}

/** The worker's one mapper from a prediction decision to the push's fate. */
export function predictDecision(d: PredictDecision): PushDecision {
  return d.kind === 'retry' ? { kind: 'retry', reason: d.reason } : { kind: 'ack' };
}

export function createWorkerApp(deps: WorkerDeps, opts: WorkerAppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(opts.projectId));
  if (opts.accessLogger) app.use(accessLog(opts.accessLogger));
  // No app-wide body parser: /predict parses its envelope after push authentication.
  const push = compose(pushAuth(opts.pushAuth ?? { mode: 'disabled' }, deps.logger), pushBody(opts.bodyLimit ?? BODY_LIMITS.push));

  const modelsView = () => ({
    service: SERVICE,
    ready: deps.models.ready,
    champion: deps.models.championId,
    loaded: deps.models.loaded.map((m) => ({
      system_id: m.systemId,
      version: m.version,
      family: m.family,
      champion: m.champion,
      quantile_alpha: m.quantileAlpha,
      file: m.fileName,
      sha256: m.sha256,
      inputs: m.width,
      breaker: m.breaker.view(),
    })),
    refused: deps.models.refused.map((r) => ({ system_id: r.systemId, uri: r.uri, reason: r.reason })),
  });

  app.get('/', (_req, res) => {
    res.json(modelsView());
  });
  app.get('/models', (_req, res) => {
    res.json(modelsView());
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'healthy', service: SERVICE });
  });
  app.get('/ready', (_req, res) => {
    if (deps.models.ready) res.json({ status: 'ready', models: deps.models.loaded.length });
    else
      res.status(503).json({
        status: 'not_ready',
        reason: deps.models.championId ? `champion ${deps.models.championId} not loaded` : 'no champion (is_production) in the registry',
        refused: deps.models.refused,
      });
  });

  // Every dependency checked for real; 503 names what failed. Unauthenticated like /health (it says only what failed).
  app.get('/health/deep', async (_req, res) => {
    const health = await workerDeepHealth(deps, SERVICE);
    if (health.status !== 'healthy')
      deps.logger.error(
        { event: 'DEEP_HEALTH_FAILED', failed: health.failed, checks: health.checks },
        `deep health check failed: ${health.failed.join(', ')}`,
      );
    res.status(health.status === 'healthy' ? 200 : 503).json(health);
  });

  app.post(
    '/predict',
    push,
    pushRoute({
      service: SERVICE,
      logger: deps.logger,
      schema: predictionRequestSchema,
      handle: async (m) => predictDecision(await predictMessage(deps, m.data, m.publishTime)),
    }),
  );

  app.use(errorHandler(deps.logger, SERVICE));
  return app;
}
