/** The coordinator's routes. `createApp` builds the app and does not listen; main.ts owns the process. */
import express, { type Express } from 'express';
import { z } from 'zod';
import type { CoordinatorDeps } from './deps.js';
import { apiKeyAuth } from '../../shared/http/api-key-auth.js';
import { errorHandler } from '../../shared/http/error-handler.js';
import { requestContext, requestLog } from '../../shared/http/request-context.js';
import { badRequest } from '../../shared/errors/app-error.js';
import { completionEventSchema, decodePush, formatZodError } from '../../shared/contracts/messages.js';
import { startBodySchema, toStartRequest } from './dispatch/start-request.js';
import { startBatch } from './dispatch/start-batch.js';
import { recordCompletion } from './batch/record-completion.js';
import { activeBatches, batchStatus } from './batch/status.js';

export interface CoordinatorAppOptions {
  apiKey: string;
  projectId?: string | undefined;
  bodyLimit?: string;
}

const statusQuerySchema = z
  .object({ batch_id: z.string().min(1).optional(), players: z.enum(['true', 'false']).optional() })
  .strict();

export function createCoordinatorApp(deps: CoordinatorDeps, opts: CoordinatorAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(deps.logger, opts.projectId));
  app.use(express.json({ limit: opts.bodyLimit ?? '256kb' }));

  app.get('/', (_req, res) => {
    res.json({ service: 'prediction-coordinator', status: 'healthy' });
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'healthy', service: 'prediction-coordinator' });
  });
  app.get('/ready', (_req, res) => {
    res.json({ status: 'ready' });
  });

  const auth = apiKeyAuth(opts.apiKey);

  app.post('/start', auth, async (req, res) => {
    const parsed = startBodySchema.safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest(`invalid /start body: ${formatZodError(parsed.error)}`, { fields: parsed.error.issues.map((i) => i.path.join('.') || '(body)') });
    const result = await startBatch(deps, toStartRequest(parsed.data));
    res.status(result.httpStatus).json(result.body);
  });

  // Pub/Sub push of the workers' completion events. 2xx acks; 5xx asks for redelivery. Push OIDC verification: issue 7.
  app.post('/complete', async (req, res) => {
    const log = requestLog(res, deps.logger);
    const decoded = decodePush(req.body, completionEventSchema);
    if (!decoded.ok) {
      log.warn({ event: 'POISON_MESSAGE' }, `completion dropped: ${decoded.error}`);
      res.status(204).end();
      return;
    }
    const answer = await recordCompletion(deps, decoded.data);
    if (answer === 'unknown_batch') res.status(200).json({ status: 'unknown_batch', batch_id: decoded.data.batch_id });
    else res.status(204).end();
  });

  app.get('/status', auth, async (req, res) => {
    const parsed = statusQuerySchema.safeParse(req.query);
    if (!parsed.success) throw badRequest(`invalid /status query: ${formatZodError(parsed.error)}`);
    if (!parsed.data.batch_id) {
      res.json(await activeBatches(deps));
      return;
    }
    const body = await batchStatus(deps, parsed.data.batch_id, parsed.data.players === 'true');
    if (!body) {
      res.status(404).json({ status: 'not_found', message: `no batch ${parsed.data.batch_id}` });
      return;
    }
    res.json(body);
  });

  app.use(errorHandler(deps.logger));
  return app;
}
