/** The coordinator's routes. `createCoordinatorApp` builds the app and does not listen; main.ts owns the process. */
import express, { type Express, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { CoordinatorDeps } from './deps.js';
import { operatorAuth, type OperatorAuthOptions } from '../../shared/http/auth/operator-auth.js';
import { pushAuth, type PushAuth } from '../../shared/http/auth/push-auth.js';
import { BODY_LIMITS, jsonBody, pushBody } from '../../shared/http/json-body.js';
import { compose } from '../../shared/http/compose.js';
import { errorHandler } from '../../shared/http/error-handler.js';
import { accessLog, requestContext } from '../../shared/http/request-context.js';
import { pushRoute } from '../../shared/http/push-route.js';
import { badRequest } from '../../shared/errors/app-error.js';
import {
  completionEventSchema,
  consolidateRequestSchema,
  formatZodError,
  regenerationMetadataSchema,
  regenerationReasonSchema,
  regenerationTriggerSchema,
} from '../../shared/contracts/messages.js';
import { isoDateSchema } from '../../shared/dates/game-date.js';
import { startBodySchema, toStartRequest } from './dispatch/start-request.js';
import { startBatch } from './dispatch/start-batch.js';
import { completionEvent } from './batch/completions.js';
import { consolidateBatch } from './batch/consolidate.js';
import { recordDeadLetter } from './batch/dead-letters.js';
import { activeBatches, batchStatus, latestBatchStatus } from './batch/status.js';
import { DEFAULT_STALL_THRESHOLDS, checkStalled, resetBatch } from './batch/stalls.js';
import { redriveBatch } from './batch/redrive.js';
import {
  checkLinesAnswer,
  checkSignalAnswer,
  completionDecision,
  consolidateDecision,
  lineUpdateAnswer,
  morningSummaryAnswer,
  redriveAnswer,
  regenerateAnswer,
  regenerationTriggerDecision,
  resetAnswer,
  startAnswer,
  type HttpAnswer,
} from './http-outcomes.js';
import { DATASET_PREFIX_PATTERN } from '../../shared/ports/warehouse.js';
import { checkLines, lineUpdate } from './lines/check-lines.js';
import { regenerate, regenerationTrigger } from './regeneration/regenerate.js';
import { checkSignal } from './signals/check-signal.js';
import { morningSummary } from './summary/morning-summary.js';
import { coordinatorDeepHealth } from './health/deep.js';

export const SERVICE = 'prediction-coordinator';

export interface CoordinatorAppOptions {
  /** Who may call the operator endpoints: X-API-Key and/or Google ID tokens (docs/security.md). */
  operatorAuth: OperatorAuthOptions;
  /** Who may push to /complete, /consolidate, /dead-letter, /regenerate-pubsub. Absent: anyone (the embedded default). */
  pushAuth?: PushAuth;
  projectId?: string | undefined;
  /** JSON body limits (express `limit` syntax): operator calls, push envelopes. */
  bodyLimits?: { operator?: string; push?: string };
  /** The root pino logger, for one access line per request. Absent: no access log (tests). */
  accessLogger?: Logger;
}

/** Batch ids are minted by /start (`batch_<date>_<epoch>_<hex>`); anything outside this alphabet is refused at the door. */
const batchIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected a batch id (letters, digits, _ . : -; at most 128)');

const checkStalledSchema = z
  .object({
    batch_id: batchIdSchema.optional(),
    stall_threshold_minutes: z.number().positive().max(10_000).default(DEFAULT_STALL_THRESHOLDS.idleMinutes),
    min_completion_pct: z.number().min(0).max(100).default(DEFAULT_STALL_THRESHOLDS.minCompletionPct),
    max_batch_age_minutes: z.number().positive().max(100_000).default(DEFAULT_STALL_THRESHOLDS.maxAgeMinutes),
  })
  .strict();

const resetSchema = z
  .object({ batch_id: batchIdSchema.optional(), game_date: isoDateSchema.optional() })
  .strict()
  .refine((b) => b.batch_id !== undefined || b.game_date !== undefined, { message: 'give batch_id or game_date' });

const redriveSchema = z.object({ batch_id: batchIdSchema }).strict();

const statusQuerySchema = z
  .object({
    batch_id: batchIdSchema.optional(),
    game_date: isoDateSchema.optional(),
    players: z.enum(['true', 'false']).optional(),
  })
  .strict()
  .refine((q) => q.batch_id === undefined || q.game_date === undefined, { message: 'give batch_id or game_date, not both' });

const datasetPrefixSchema = z.string().regex(DATASET_PREFIX_PATTERN, 'must match ^[a-z][a-z0-9_]{0,29}$');
/** `TODAY`, `TOMORROW` or YYYY-MM-DD: resolved (and range-checked) by the use case, which answers 400 naming game_date. */
const gameDateInput = z.string().min(1).max(32);
const playerLookup = z.string().min(1).max(128);

const checkLinesSchema = z
  .object({
    game_date: gameDateInput.default('TODAY'),
    line_change_threshold: z.number().positive().max(50).default(1.0),
    dry_run: z.boolean().default(false),
    dataset_prefix: datasetPrefixSchema.optional(),
  })
  .strict();

const lineUpdateSchema = z
  .object({
    game_date: gameDateInput,
    player_lookups: z.array(playerLookup).max(500),
    dry_run: z.boolean().default(false),
    dataset_prefix: datasetPrefixSchema.optional(),
  })
  .strict();

const regenerateSchema = z
  .object({
    game_date: gameDateInput,
    reason: regenerationReasonSchema.default('feature_upgrade'),
    metadata: regenerationMetadataSchema.default({}),
    skip_completeness_check: z.boolean().default(false),
    dataset_prefix: datasetPrefixSchema.optional(),
  })
  .strict();

const checkSignalSchema = z.object({ game_date: gameDateInput.default('TODAY'), send_alert: z.boolean().default(true) }).strict();
const morningSummarySchema = z.object({ game_date: gameDateInput.default('TODAY'), force: z.boolean().default(false) }).strict();

/** Parses an operator body or query; a failure is a 400 naming every offending field. */
function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success)
    throw badRequest(`invalid ${what}: ${formatZodError(parsed.error)}`, {
      fields: parsed.error.issues.map((i) => i.path.join('.') || '(body)'),
    });
  return parsed.data;
}

const send = (res: express.Response, answer: HttpAnswer): void => {
  res.status(answer.status).json(answer.body);
};

export function createCoordinatorApp(deps: CoordinatorDeps, opts: CoordinatorAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(opts.projectId));
  if (opts.accessLogger) app.use(accessLog(opts.accessLogger));
  // No app-wide body parser: each route parses its body after authentication, with its own limit.

  app.get('/', (_req, res) => {
    res.json({ service: SERVICE, status: 'healthy' });
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'healthy', service: SERVICE });
  });
  app.get('/ready', (_req, res) => {
    res.json({ status: 'ready' });
  });

  // Every dependency checked for real; 503 names what failed. Unauthenticated like /health (it says only what failed).
  app.get('/health/deep', async (_req, res) => {
    const health = await coordinatorDeepHealth(deps, SERVICE);
    if (health.status !== 'healthy')
      deps.logger.error(
        { event: 'DEEP_HEALTH_FAILED', failed: health.failed, checks: health.checks },
        `deep health check failed: ${health.failed.join(', ')}`,
      );
    res.status(health.status === 'healthy' ? 200 : 503).json(health);
  });

  const auth = compose(operatorAuth(opts.operatorAuth, deps.logger), ...jsonBody(opts.bodyLimits?.operator ?? BODY_LIMITS.operator));
  const push: RequestHandler = compose(
    pushAuth(opts.pushAuth ?? { mode: 'disabled' }, deps.logger),
    pushBody(opts.bodyLimits?.push ?? BODY_LIMITS.push),
  );

  app.post('/start', auth, async (req, res) => {
    send(res, startAnswer(await startBatch(deps, toStartRequest(parse(startBodySchema, req.body, '/start body')))));
  });

  // Pub/Sub pushes. 2xx acks; 5xx asks for redelivery; 401 (push auth) retries, then dead-letters.
  app.post(
    '/complete',
    push,
    pushRoute({
      service: SERVICE,
      logger: deps.logger,
      schema: completionEventSchema,
      handle: async (m) => completionDecision(await completionEvent(deps, m.data)),
    }),
  );
  app.post(
    '/consolidate',
    push,
    pushRoute({
      service: SERVICE,
      logger: deps.logger,
      schema: consolidateRequestSchema,
      handle: async (m) => consolidateDecision(await consolidateBatch(deps, m.data.batch_id)),
    }),
  );
  app.post(
    '/dead-letter',
    push,
    pushRoute({
      service: SERVICE,
      logger: deps.logger,
      schema: z.unknown(),
      handle: async (m) => {
        await recordDeadLetter(deps, m.data, m.attributes, m.messageId);
        return { kind: 'ack' };
      },
    }),
  );

  app.post(
    '/regenerate-pubsub',
    push,
    pushRoute({
      service: SERVICE,
      logger: deps.logger,
      schema: regenerationTriggerSchema,
      handle: async (m) =>
        regenerationTriggerDecision(
          await regenerationTrigger(
            deps,
            {
              gameDate: m.data.game_date,
              reason: m.data.reason,
              metadata: m.data.metadata,
              triggeredBy: 'pubsub',
              datasetPrefix: '',
              skipCompletenessCheck: false,
            },
            m.messageId,
          ),
        ),
    }),
  );

  // The rest of the day: lines that move, regeneration, the signal, the morning summary.
  app.post('/check-lines', auth, async (req, res) => {
    const b = parse(checkLinesSchema, req.body, '/check-lines body');
    send(
      res,
      checkLinesAnswer(
        await checkLines(deps, {
          gameDate: b.game_date,
          threshold: b.line_change_threshold,
          dryRun: b.dry_run,
          datasetPrefix: b.dataset_prefix ?? '',
        }),
      ),
    );
  });

  app.post('/line-update', auth, async (req, res) => {
    const b = parse(lineUpdateSchema, req.body, '/line-update body');
    send(
      res,
      lineUpdateAnswer(
        await lineUpdate(deps, {
          gameDate: b.game_date,
          players: b.player_lookups,
          dryRun: b.dry_run,
          datasetPrefix: b.dataset_prefix ?? '',
        }),
      ),
    );
  });

  app.post('/regenerate-with-supersede', auth, async (req, res) => {
    const b = parse(regenerateSchema, req.body, '/regenerate-with-supersede body');
    send(
      res,
      regenerateAnswer(
        await regenerate(deps, {
          gameDate: b.game_date,
          reason: b.reason,
          metadata: b.metadata,
          triggeredBy: 'coordinator_endpoint',
          datasetPrefix: b.dataset_prefix ?? '',
          skipCompletenessCheck: b.skip_completeness_check,
        }),
      ),
    );
  });

  app.post('/check-signal', auth, async (req, res) => {
    const b = parse(checkSignalSchema, req.body, '/check-signal body');
    send(res, checkSignalAnswer(await checkSignal(deps, { gameDate: b.game_date, sendAlert: b.send_alert })));
  });

  app.post('/morning-summary', auth, async (req, res) => {
    const b = parse(morningSummarySchema, req.body, '/morning-summary body');
    send(res, morningSummaryAnswer(await morningSummary(deps, { gameDate: b.game_date, force: b.force })));
  });

  // What the operator CLI sizes a backfill by: how many batches this coordinator runs well side by side.
  app.get('/capacity', auth, (_req, res) => {
    res.json({ recommended_backfill_concurrency: deps.settings.backfillConcurrency, players_per_message: deps.settings.playersPerMessage });
  });

  app.post('/check-stalled', auth, async (req, res) => {
    const b = parse(checkStalledSchema, req.body, '/check-stalled body');
    const results = await checkStalled(
      deps,
      { idleMinutes: b.stall_threshold_minutes, minCompletionPct: b.min_completion_pct, maxAgeMinutes: b.max_batch_age_minutes },
      b.batch_id,
    );
    res.json({
      status: 'success',
      batches_checked: results.length,
      batches_completed: results.filter((r) => r.action !== 'no_action').length,
      results,
    });
  });

  app.post('/reset', auth, async (req, res) => {
    const b = parse(resetSchema, req.body, '/reset body');
    send(res, resetAnswer(await resetBatch(deps, { batchId: b.batch_id, gameDate: b.game_date })));
  });

  app.post('/redrive', auth, async (req, res) => {
    send(res, redriveAnswer(await redriveBatch(deps, parse(redriveSchema, req.body, '/redrive body').batch_id)));
  });

  app.get('/status', auth, async (req: Request, res) => {
    const q = parse(statusQuerySchema, req.query, '/status query');
    const withPlayers = q.players === 'true';
    if (q.game_date) {
      // The latest batch of the date, whatever its state (the operator CLI checks this before re-running a date).
      const latest = await latestBatchStatus(deps, q.game_date, withPlayers);
      if (!latest) res.status(404).json({ status: 'not_found', game_date: q.game_date, message: `no batch for ${q.game_date}` });
      else res.json(latest);
      return;
    }
    if (!q.batch_id) {
      res.json(await activeBatches(deps));
      return;
    }
    const body = await batchStatus(deps, q.batch_id, withPlayers);
    if (!body) res.status(404).json({ status: 'not_found', message: `no batch ${q.batch_id}` });
    else res.json(body);
  });

  app.use(errorHandler(deps.logger, SERVICE));
  return app;
}
