/** The coordinator's routes. `createApp` builds the app and does not listen; main.ts owns the process. */
import express, { type Express } from 'express';
import { z } from 'zod';
import type { CoordinatorDeps } from './deps.js';
import { operatorAuth, type OperatorAuthOptions } from '../../shared/http/auth/operator-auth.js';
import { pushAuth, type PushAuth } from '../../shared/http/auth/push-auth.js';
import { BODY_LIMITS, jsonBody } from '../../shared/http/json-body.js';
import { compose } from '../../shared/http/compose.js';
import { errorHandler } from '../../shared/http/error-handler.js';
import { requestContext, requestLog } from '../../shared/http/request-context.js';
import { badRequest } from '../../shared/errors/app-error.js';
import { completionEventSchema, decodePush, formatZodError } from '../../shared/contracts/messages.js';
import { startBodySchema, toStartRequest } from './dispatch/start-request.js';
import { startBatch } from './dispatch/start-batch.js';
import { recordCompletion } from './batch/record-completion.js';
import { activeBatches, batchStatus, latestBatchStatus } from './batch/status.js';
import { DEFAULT_STALL_THRESHOLDS, checkStalled, resetBatch } from './batch/stalls.js';

export interface CoordinatorAppOptions {
  /** Who may call /start, /status, /check-stalled, /reset: X-API-Key and/or Google ID tokens (docs/security.md). */
  operatorAuth: OperatorAuthOptions;
  /** Who may push to /complete. Absent: anyone (the embedded default; main.ts always passes the configured mode). */
  pushAuth?: PushAuth;
  projectId?: string | undefined;
  /** JSON body limits (express `limit` syntax): operator calls, push envelopes. */
  bodyLimits?: { operator?: string; push?: string };
}

/** Batch ids are minted by /start (`batch_<date>_<epoch>_<hex>`); anything outside this alphabet is refused at the door. */
const batchIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected a batch id (letters, digits, _ . : -; at most 128)');

const checkStalledSchema = z
  .object({
    batch_id: batchIdSchema.optional(),
    stall_threshold_minutes: z.number().positive().default(DEFAULT_STALL_THRESHOLDS.idleMinutes),
    min_completion_pct: z.number().min(0).max(100).default(DEFAULT_STALL_THRESHOLDS.minCompletionPct),
    max_batch_age_minutes: z.number().positive().default(DEFAULT_STALL_THRESHOLDS.maxAgeMinutes),
  })
  .strict();

const resetSchema = z
  .object({ batch_id: batchIdSchema.optional(), game_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').optional() })
  .strict()
  .refine((b) => b.batch_id !== undefined || b.game_date !== undefined, { message: 'give batch_id or game_date' });

const statusQuerySchema = z
  .object({
    batch_id: batchIdSchema.optional(),
    game_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').optional(),
    players: z.enum(['true', 'false']).optional(),
  })
  .strict()
  .refine((q) => q.batch_id === undefined || q.game_date === undefined, { message: 'give batch_id or game_date, not both' });

export function createCoordinatorApp(deps: CoordinatorDeps, opts: CoordinatorAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(deps.logger, opts.projectId));
  // No app-wide body parser: each route parses its body after authentication, with its own limit.

  app.get('/', (_req, res) => {
    res.json({ service: 'prediction-coordinator', status: 'healthy' });
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'healthy', service: 'prediction-coordinator' });
  });
  app.get('/ready', (_req, res) => {
    res.json({ status: 'ready' });
  });

  const auth = compose(operatorAuth(opts.operatorAuth, deps.logger), ...jsonBody(opts.bodyLimits?.operator ?? BODY_LIMITS.operator));
  const push = compose(pushAuth(opts.pushAuth ?? { mode: 'disabled' }, deps.logger), ...jsonBody(opts.bodyLimits?.push ?? BODY_LIMITS.push, { allowOtherTypes: true }));

  app.post('/start', auth, async (req, res) => {
    const parsed = startBodySchema.safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest(`invalid /start body: ${formatZodError(parsed.error)}`, { fields: parsed.error.issues.map((i) => i.path.join('.') || '(body)') });
    const result = await startBatch(deps, toStartRequest(parsed.data));
    res.status(result.httpStatus).json(result.body);
  });

  // Pub/Sub push of the workers' completion events. 2xx acks; 5xx asks for redelivery; 401 (push auth) retries, then dead-letters.
  app.post('/complete', push, async (req, res) => {
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
    const withPlayers = parsed.data.players === 'true';
    if (parsed.data.game_date) {
      // The latest batch of the date, whatever its state (the operator CLI checks this before re-running a date).
      const latest = await latestBatchStatus(deps, parsed.data.game_date, withPlayers);
      if (!latest) res.status(404).json({ status: 'not_found', game_date: parsed.data.game_date, message: `no batch for ${parsed.data.game_date}` });
      else res.json(latest);
      return;
    }
    if (!parsed.data.batch_id) {
      res.json(await activeBatches(deps));
      return;
    }
    const body = await batchStatus(deps, parsed.data.batch_id, withPlayers);
    if (!body) {
      res.status(404).json({ status: 'not_found', message: `no batch ${parsed.data.batch_id}` });
      return;
    }
    res.json(body);
  });

  app.use(errorHandler(deps.logger));
  return app;
}
