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
import { DEFAULT_STALL_THRESHOLDS, checkStalled, resetBatch } from './batch/stalls.js';

export interface CoordinatorAppOptions {
  apiKey: string;
  projectId?: string | undefined;
  bodyLimit?: string;
}

const checkStalledSchema = z
  .object({
    batch_id: z.string().min(1).optional(),
    stall_threshold_minutes: z.number().positive().default(DEFAULT_STALL_THRESHOLDS.idleMinutes),
    min_completion_pct: z.number().min(0).max(100).default(DEFAULT_STALL_THRESHOLDS.minCompletionPct),
    max_batch_age_minutes: z.number().positive().default(DEFAULT_STALL_THRESHOLDS.maxAgeMinutes),
  })
  .strict();

const resetSchema = z
  .object({ batch_id: z.string().min(1).optional(), game_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').optional() })
  .strict()
  .refine((b) => b.batch_id !== undefined || b.game_date !== undefined, { message: 'give batch_id or game_date' });

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

  app.post('/check-stalled', auth, async (req, res) => {
    const parsed = checkStalledSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest(`invalid /check-stalled body: ${formatZodError(parsed.error)}`);
    const b = parsed.data;
    const results = await checkStalled(deps, { idleMinutes: b.stall_threshold_minutes, minCompletionPct: b.min_completion_pct, maxAgeMinutes: b.max_batch_age_minutes }, b.batch_id);
    res.json({ status: 'success', batches_checked: results.length, batches_completed: results.filter((r) => r.action !== 'no_action').length, results });
  });

  app.post('/reset', auth, async (req, res) => {
    const parsed = resetSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest(`invalid /reset body: ${formatZodError(parsed.error)}`);
    const outcome = await resetBatch(deps, { batchId: parsed.data.batch_id, gameDate: parsed.data.game_date });
    if (outcome.kind === 'not_found') res.status(404).json({ status: 'not_found', message: 'no such batch, and no active batch for that date' });
    else if (outcome.kind === 'already_ended') res.status(200).json({ status: 'already_ended', batch_id: outcome.batch.batch_id, state: outcome.batch.state });
    else res.json({ status: 'reset', batch_id: outcome.batch.batch_id, previous_state: outcome.previous, state: outcome.batch.state, lease_released: true });
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
